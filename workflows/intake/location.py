"""Where a matter happened: a grid or building by its code, or an address matched against the
standard addresses of the buildings.

* ``place_code`` names an active grid or building: the case is located there;
* an address equal to a building's standard address (compared in normal form,
  ``address_key``) locates the case at that building;
* an address only *similar* to standard addresses is never applied silently: the caller gets
  the candidates (``ADDRESS_CANDIDATES``) and sends the chosen ``place_code`` back, or says
  ``unmatched`` to register without a place;
* an address matching nothing: no place; the text is kept as the location detail and every
  unit kind resolves at the district level.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access.policy import Permission, denials_audited, require
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.district.places import address_key, location_of
from workflows.models import Place, PlaceLevel
from workflows.models.district import CASE_LEVELS
from workflows.runtime.unit_of_work import UnitOfWork

MAX_CANDIDATES = 5
MIN_SIMILAR_KEY = 4     # shorter inputs ("12栋") resemble too many buildings to suggest any
CASE_LEVEL_CODES = tuple(str(level) for level in CASE_LEVELS)


@dataclass(frozen=True)
class LocationInput:
    """What the clerk or channel said about the place (all optional)."""

    place_code: str | None = None
    address: str | None = None
    detail: str | None = None
    unmatched: bool = False      # the address is none of the offered candidates


@dataclass(frozen=True)
class Located:
    """The outcome: the place (if any), the text kept as detail, and how it was found."""

    place_id: int | None = None
    place_path: str | None = None
    detail: str | None = None
    matched: str = "none"        # code | address | none

    @property
    def located(self) -> bool:
        return self.place_id is not None


NOWHERE = Located()


def _text(value: str | None) -> str:
    return (value or "").strip()


def resolve_location(session: Session, given: LocationInput | None, *,
                     min_score: int) -> Located:
    """The case's place for ``given``; InvalidInput for a bad code or when candidates need a
    choice (field ``location-address``, parameter ``candidates``)."""
    if given is None:
        return NOWHERE
    code, address, detail = _text(given.place_code), _text(given.address), _text(given.detail)
    if code:
        place = place_by_code(session, code)
        return Located(place.id, place.path, detail or None, "code")
    if not address:
        return Located(detail=detail or None) if detail else NOWHERE
    key = address_key(address)
    exact = _buildings(session, Place.address_key == key) if key else []
    if len(exact) == 1:
        return Located(exact[0].id, exact[0].path, detail or None, "address")
    candidates = exact or ([] if given.unmatched else similar_buildings(session, key, min_score))
    if candidates:
        raise InvalidInput({"location-address": FieldError(
            ErrorCode.ADDRESS_CANDIDATES, {"candidates": [
                {"code": p.code, "address": p.address or p.name} for p in candidates]})})
    kept = " ".join(part for part in (address, detail) if part)
    return Located(detail=kept, matched="none")


def place_by_code(session: Session, code: str) -> Place:
    """The active grid or building with this code; InvalidInput (``location-place_code``) else."""
    place = session.scalars(select(Place).where(Place.code == code)).first()
    if place is None or not place.active:
        raise InvalidInput({"location-place_code": FieldError(ErrorCode.PLACE_UNKNOWN,
                                                              {"code": code})})
    if place.level not in CASE_LEVEL_CODES:
        raise InvalidInput({"location-place_code": FieldError(ErrorCode.PLACE_NOT_CASE_LEVEL,
                                                              {"code": code})})
    return place


def _buildings(session: Session, *where) -> list[Place]:
    return list(session.scalars(select(Place).where(
        Place.level == PlaceLevel.BUILDING, Place.active.is_(True), *where).order_by(Place.code)))


def similar_buildings(session: Session, key: str, min_score: int) -> list[Place]:
    """Buildings whose standard address resembles ``key`` (best first, at most five)."""
    if len(key) < MIN_SIMILAR_KEY:
        return []
    rows = session.execute(select(Place.id, Place.address_key).where(
        Place.level == PlaceLevel.BUILDING, Place.active.is_(True),
        Place.address_key.is_not(None)).order_by(Place.code)).all()
    if not rows:
        return []
    keys = {ident: stored for ident, stored in rows if stored}
    found = process.extract(key, keys, scorer=fuzz.WRatio, score_cutoff=min_score,
                            limit=MAX_CANDIDATES)
    ids = [ident for _key, _score, ident in found]
    places = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(ids)))}
    return [places[ident] for ident in ids if ident in places]


def location_text(session: Session, located: Located) -> dict | None:
    """``{"place_code", "names", "matched"}`` of a located outcome (previews), None without."""
    found = location_of(session, located.place_id, located.place_path)
    return None if found is None else {**found, "matched": located.matched}


def place_choices(session: Session, query: str, limit: int = 20) -> list[dict]:
    """Active grids and buildings whose code, name or address contains ``query`` (the intake
    form's place picker): code, level and the names from the district down."""
    text = query.strip()
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    rows = session.scalars(select(Place).where(
        Place.active.is_(True), Place.level.in_(CASE_LEVEL_CODES),
        Place.code.ilike(pattern, escape="\\") | Place.name.ilike(pattern, escape="\\")
        | Place.address.ilike(pattern, escape="\\"))
        .order_by(Place.level, Place.code).limit(limit)).all()
    out = []
    for place in rows:
        found = location_of(session, place.id, place.path) or {"names": [place.name]}
        out.append({"code": place.code, "level": place.level, "names": found["names"],
                    "address": place.address})
    return out


def search_places(uow: UnitOfWork, actor: Actor, query: str) -> list[dict]:
    """``place_choices`` for a clerk who may register cases (the intake form's picker)."""
    with denials_audited(uow.services, actor, object_type="intake"):
        require(actor, Permission.REGISTER_CASE)
    with uow:
        return place_choices(uow.session, query)
