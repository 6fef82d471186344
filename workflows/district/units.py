"""Which unit receives a kind of work for a case: the nearest unit up the case's place tree.

The routing table answers kinds (RS, JDTJ, SQTJ...). A case located at 青山镇石门村's grid gets
石门村's mediation committee for SQTJ and 青山镇's for JDTJ; a kind with no unit on the way up
falls back to the district-level unit (a unit without a place, or placed at a district or
city). A value that is no kind may still name one unit by its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from workflows.district import directory_cache
from workflows.models import Department, Place, PlaceLevel, path_ids

# A street's office and a township's government play one part; the routing table may name either.
KIND_EQUIVALENTS: dict[str, tuple[str, ...]] = {"JD": ("JD", "XZ"), "XZ": ("XZ", "JD")}
DISTRICT_LEVELS = (PlaceLevel.DISTRICT, PlaceLevel.CITY)


@dataclass(frozen=True)
class Unit:
    """A unit as routing sees it."""

    id: int
    code: str
    name: str
    kind: str
    depth: int          # 0 = no place; else the length of its place path


def unit_path(session: Session, unit: Department | None) -> str | None:
    """The place path of a unit (None for a unit without a place): the root of its scope."""
    if unit is None or unit.place_id is None:
        return None
    return session.scalar(select(Place.path).where(Place.id == unit.place_id))


def unit_row(session: Session, unit_id: int | None) -> Row[str, str, str] | None:
    """(code, name, path of its place) of a unit in one statement; what each request needs."""
    if unit_id is None:
        return None
    return session.execute(
        select(Department.code, Department.name, Place.path)
        .outerjoin(Place, Place.id == Department.place_id)
        .where(Department.id == unit_id)).first()


class UnitResolver:
    """Resolves kinds for one case place; its candidate units come from the process's directory
    cache (read again when the directory stamp moved: workflows/district/directory_cache.py)."""

    def __init__(self, session: Session, place_path: str | None = None):
        self.session = session
        self.place_path = place_path
        self.nearest: Mapping[str, Unit] = directory_cache.cached(
            session, ("units", place_path), partial(_nearest_units, place_path=place_path))
        self._by_code: dict[str, int | None] = {}

    @classmethod
    def cached(cls, session: Session, place_path: str | None) -> UnitResolver:
        """One resolver per session and place (a step resolves units several times)."""
        cache = session.info.setdefault("jiefen.unit_resolvers", {})
        if place_path not in cache:
            cache[place_path] = cls(session, place_path)
        return cache[place_path]

    @property
    def located(self) -> bool:
        """False when the case has no place (every kind resolves at the district level)."""
        return bool(self.place_path)

    def unit_of_kind(self, kind: str) -> Unit | None:
        """The nearest unit of this kind (or of an equivalent kind at a deeper place)."""
        found = [self.nearest[k] for k in KIND_EQUIVALENTS.get(kind, (kind,)) if k in self.nearest]
        return max(found, key=lambda unit: unit.depth, default=None)

    def id_of(self, value: Any) -> int | None:
        """A unit id for a kind, a unit code or an id; None when nothing matches."""
        if value is None or value == "":
            return None
        if isinstance(value, int):
            return value
        unit = self.unit_of_kind(str(value))
        if unit is not None:
            return unit.id
        return self._code(str(value))

    def _code(self, code: str) -> int | None:
        if code not in self._by_code:
            self._by_code[code] = self.session.scalar(
                select(Department.id).where(Department.code == code))
        return self._by_code[code]


def _nearest_units(session: Session, place_path: str | None) -> tuple[int | None, Mapping[str, Unit]]:
    """Per kind the active unit nearest up the place tree, and the directory stamp read with it."""
    ancestors = path_ids(place_path)
    located = Department.place_id.in_(ancestors) if ancestors else Place.level.in_(
        [str(level) for level in DISTRICT_LEVELS])
    rows = session.execute(
        select(Department.id, Department.code, Department.name, Department.kind, Place.path,
               directory_cache.stamp_column())
        .outerjoin(Place, Place.id == Department.place_id)
        .where(Department.active.is_(True), or_(Department.place_id.is_(None), located))
        .order_by(Department.id)).all()
    nearest: dict[str, Unit] = {}
    for ident, code, name, kind, path, _stamp in rows:
        unit = Unit(ident, code, name, kind, len(path_ids(path)))
        known = nearest.get(kind)
        if known is None or unit.depth > known.depth:
            nearest[kind] = unit
    return (rows[0][-1] if rows else None), MappingProxyType(nearest)


def unit_names_in(session: Session, data: dict[str, Any]) -> dict[str, str]:
    """Names of the units whose codes appear among the values of ``data`` (dept, department,
    co_departments...), so pages can say 区人社局 instead of RS."""
    codes = _short_texts(data)
    if not codes:
        return {}
    return dict(session.execute(select(Department.code, Department.name)
                                .where(Department.code.in_(sorted(codes)))).all())


def case_unit_names(session: Session, data: dict[str, Any],
                    place_path: str | None) -> dict[str, str]:
    """``unit_names_in`` for one case's process data, a kind (SF, CG, JDTJ...) named by the unit
    that receives it for this case — the unit its work order went to — as ``UnitResolver.id_of``
    reads a value: a kind before a unit code. A task page says 青山镇综合执法队, not the kind's
    name 城管执法局."""
    names = unit_names_in(session, data)
    resolver = UnitResolver.cached(session, place_path)
    for value in _short_texts(data):
        unit = resolver.unit_of_kind(value)
        if unit is not None:
            names[value] = unit.name
    return names


def _short_texts(data: dict[str, Any]) -> set[str]:
    return {v for value in data.values()
            for v in (value if isinstance(value, list) else [value])
            if isinstance(v, str) and 0 < len(v) <= 32}
