"""Reading warnings: the warnings list (CLI), the warnings of a case, the place page.

A place and its warnings are seen by administrators and by the supervisors and leaders of a
unit whose place subtree holds it (a unit without a place: the whole deployment). Warnings
carry case codes and counts, never case content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.access.policy import INTERNAL_ACTORS, Denied, denials_audited
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.core.settings import Settings
from workflows.early_warning.hotspots import case_numbers
from workflows.models import Case, EarlyWarning, Place, RoleCode, WarningState, path_ids
from workflows.runtime.unit_of_work import UnitOfWork

PLACE_ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER)
RECENT_DAYS = 30        # the place page's "recent cases"


@dataclass
class PlacePage:
    """What the place page shows."""

    code: str
    name: str
    level: str
    names: list[str]                  # from the root down to the place
    warnings: list[dict] = field(default_factory=list)   # open, at the place and below
    recent_cases: int = 0             # received in the last RECENT_DAYS days, place and below
    recent_days: int = RECENT_DAYS
    link_cases: bool = False          # the viewer may open case pages


def may_see_place(actor: Actor, path: str | None) -> bool:
    """Administrators, and supervisors and leaders whose unit's subtree holds the place
    (``path`` None: whether the actor may see any place at all)."""
    if actor.type in INTERNAL_ACTORS or actor.has(RoleCode.ADMIN):
        return True
    return actor.has(*PLACE_ROLES) and (actor.unit_path is None or path is None
                                        or path.startswith(actor.unit_path))


def list_warnings(uow: UnitOfWork, actor: Actor, *, state: str | None = None,
                  place_code: str | None = None) -> list[dict]:
    """Warnings newest first, optionally of one state and within one place's subtree; a
    non-administrator sees those within their unit's subtree."""
    with denials_audited(uow.services, actor, object_type="early_warning"), uow:
        if not may_see_place(actor, None):
            raise Denied(ErrorCode.PLACE_SCOPE, "view_place.role", object_type="early_warning")
        query = select(EarlyWarning, Place.path).join(Place, Place.id == EarlyWarning.place_id)
        if state:
            query = query.where(EarlyWarning.state == state)
        if place_code:
            root = _place(uow.session, place_code)
            if not may_see_place(actor, root.path):
                raise Denied(ErrorCode.PLACE_SCOPE, "view_place.scope", object_type="place",
                             object_id=place_code)
            query = query.where(Place.path.startswith(root.path, autoescape=True))
        rows = uow.session.execute(query.order_by(EarlyWarning.raised_at.desc(),
                                                  EarlyWarning.id.desc())).all()
        visible = [warning for warning, path in rows if may_see_place(actor, path)]
        return warning_rows(uow.session, uow.services.settings, visible)


def case_warnings(session: Session, settings: Settings, case: Case, actor: Actor) -> list[dict]:
    """The warnings whose cases include this one (its building's and its grid's), each with
    ``place_visible``: the actor may open the place page."""
    if case.place_path is None or not case.category:
        return []
    found = session.execute(
        select(EarlyWarning, Place.path).join(Place, Place.id == EarlyWarning.place_id)
        .where(EarlyWarning.place_id.in_(path_ids(case.place_path)),
               EarlyWarning.category == case.category)
        .order_by(EarlyWarning.raised_at, EarlyWarning.id)).all()
    mine = [(warning, path) for warning, path in found if case.id in (warning.case_ids or [])]
    rows = warning_rows(session, settings, [warning for warning, _ in mine])
    for row, (_, path) in zip(rows, mine, strict=True):
        row["place_visible"] = may_see_place(actor, path)
    return rows


def place_page(uow: UnitOfWork, actor: Actor, code: str) -> PlacePage:
    """A place with its name path, its open warnings and its recent cases (a count)."""
    with denials_audited(uow.services, actor, object_type="place", object_id=code), uow:
        if not may_see_place(actor, None):   # the role first: no answer says a code exists
            raise Denied(ErrorCode.PLACE_SCOPE, "view_place.role", object_type="place",
                         object_id=code)
        place = _place(uow.session, code)
        if not may_see_place(actor, place.path):
            raise Denied(ErrorCode.PLACE_SCOPE, "view_place.scope", object_type="place",
                         object_id=code)
        session = uow.session
        chain = {row.id: row.name for row in session.execute(
            select(Place.id, Place.name).where(Place.id.in_(path_ids(place.path))))}
        warnings = session.scalars(
            select(EarlyWarning).join(Place, Place.id == EarlyWarning.place_id)
            .where(Place.path.startswith(place.path, autoescape=True),
                   EarlyWarning.state == WarningState.OPEN)
            .order_by(EarlyWarning.raised_at.desc(), EarlyWarning.id.desc())).all()
        since = uow.clock.now() - timedelta(days=RECENT_DAYS)
        recent = session.scalar(select(func.count(Case.id)).where(
            Case.place_path.startswith(place.path, autoescape=True), Case.opened_at >= since))
        return PlacePage(place.code, place.name, place.level,
                         [chain[i] for i in path_ids(place.path) if i in chain],
                         warning_rows(session, uow.services.settings, list(warnings)),
                         recent_cases=recent or 0,
                         link_cases=actor.has(RoleCode.SUPERVISOR))


def warning_rows(session: Session, settings: Settings, warnings: list[EarlyWarning]) -> list[dict]:
    """Plain data about warnings (CLI JSON, pages): place, category, count, case codes."""
    places = {row.id: row for row in session.execute(
        select(Place.id, Place.code, Place.name, Place.level)
        .where(Place.id.in_({w.place_id for w in warnings})))} if warnings else {}
    out = []
    for warning in warnings:
        place = places.get(warning.place_id)
        rule = settings.hotspot_rule(warning.category)
        out.append({
            "id": warning.id, "kind": warning.kind,
            "place_code": place.code if place else None,
            "place_name": place.name if place else None,
            "place_level": place.level if place else None,
            "category": warning.category, "count": warning.count,
            "cases": case_numbers(session, list(warning.case_ids or [])),
            "window_start": _iso(warning.window_start),
            "window_days": rule[1].days if rule else None,
            "raised_at": _iso(warning.raised_at), "state": warning.state})
    return out


def _place(session: Session, code: str) -> Place:
    place = session.scalars(select(Place).where(Place.code == code)).first()
    if place is None:
        raise NotFound(ErrorCode.PLACE_NOT_FOUND, place_code=code)
    return place


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
