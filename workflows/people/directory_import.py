"""Importing the district's directory from spreadsheets: places, units, users and rooms.

The CLI (``jiefen places|units|users import``) and the admin pages build on three calls:

* ``parse_file(kind, filename, data)`` -> ``list[ImportRow]``: reads a CSV or XLSX file
  (``workflows.people.directory_files``); refuses the file as a whole with ``ImportRejected``.
* ``preview_import(uow, kind, rows)`` -> ``ImportPreview``: what would be created, updated or
  left alone, and every bad row with its row number, column and reason (codes). Writes nothing.
* ``apply_import(uow, actor, kind, rows, hasher=None)`` -> ``ImportResult``: all or nothing.
  Any bad row raises ``ImportRejected`` and nothing is written; otherwise rows are matched by
  code (places, units) or username (users): new ones are created, existing ones updated, so
  importing the same file twice changes nothing the second time. Every import is audited
  (``directory_imported``; users also ``user_created`` / ``user_updated`` each).

Kinds are ``ImportKind`` values: ``places``, ``units``, ``users``, ``rooms``, ``experts`` (import
them in that order: units name places, users, mediation rooms and experts name units; an expert
row creates the expert's account with the role ``expert``). New users get a one-time password, returned once in
``ImportResult.passwords`` and stored only as an argon2id hash; a user's mobile is stored
encrypted with a display mask, like a party's phone.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import insert, select, update
from sqlalchemy.orm import selectinload

from engine.crypto import field_aad, normalize_phone
from engine.errors import FieldRefused
from engine.input_rules import name_error, text_error
from workflows.access.sign_in import check_password_policy, revoke_sessions
from workflows.access.sign_in import hasher as default_hasher
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, NotPermitted
from workflows.core.masking import mask_phone
from workflows.district.places import address_key
from workflows.mediation import experts as expert_pool
from workflows.models import (
    LEVEL_DEPTH,
    Case,
    Department,
    Expert,
    Place,
    PlaceLevel,
    Role,
    RoleCode,
    Room,
    Tier,
    User,
    UserRole,
)
from workflows.models.cases import rewrite_search_terms
from workflows.people.departments import ALL_DEPARTMENTS, OTHER_KINDS, ROLES, seed_roles
from workflows.people.directory_files import (
    ImportKind,
    ImportRejected,
    ImportRow,
    RowProblem,
    column_title,
    parse_file,
    split_roles,
)
from workflows.runtime.unit_of_work import UnitOfWork

__all__ = ["ImportKind", "ImportPreview", "ImportRejected", "ImportResult", "ImportRow",
           "OneTimePassword", "RowProblem", "apply_import", "column_title", "parse_file",
           "preview_import"]

PLACE_CODE_MAX, UNIT_CODE_MAX, NAME_MAX, ADDRESS_MAX, USERNAME_MAX = 40, 32, 100, 200, 64
NAMES = frozenset({"name", "display_name"})
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MOBILE = re.compile(r"1[3-9]\d{9}")
CHUNK = 500

# the words a levels column may use, Chinese or English
LEVEL_WORDS: dict[str, str] = {
    **{str(level): str(level) for level in PlaceLevel},
    "市": PlaceLevel.CITY, "区": PlaceLevel.DISTRICT, "县": PlaceLevel.DISTRICT,
    "区县": PlaceLevel.DISTRICT, "街道": PlaceLevel.STREET, "乡镇": PlaceLevel.TOWNSHIP,
    "镇": PlaceLevel.TOWNSHIP, "乡": PlaceLevel.TOWNSHIP, "社区": PlaceLevel.COMMUNITY,
    "村": PlaceLevel.VILLAGE, "行政村": PlaceLevel.VILLAGE, "网格": PlaceLevel.GRID,
    "楼栋": PlaceLevel.BUILDING, "标准地址": PlaceLevel.BUILDING, "建筑": PlaceLevel.BUILDING,
}
ROOT_LEVELS = (PlaceLevel.CITY, PlaceLevel.DISTRICT)
# a unit's tier follows the level of its place; a unit without a place is district level
TIER_OF_LEVEL: dict[str, str] = {
    PlaceLevel.CITY: Tier.DISTRICT, PlaceLevel.DISTRICT: Tier.DISTRICT,
    PlaceLevel.STREET: Tier.STREET, PlaceLevel.TOWNSHIP: Tier.STREET,
    PlaceLevel.COMMUNITY: Tier.COMMUNITY, PlaceLevel.VILLAGE: Tier.COMMUNITY,
    PlaceLevel.GRID: Tier.COMMUNITY, PlaceLevel.BUILDING: Tier.COMMUNITY,
}
# kinds the shipped routing table speaks in (bpmn/README.md section 3.3), and the grid station
ROUTING_KINDS = frozenset(seed.code for seed in ALL_DEPARTMENTS) | frozenset(OTHER_KINDS)
SEED_RESPONSIBILITIES = {seed.code: list(seed.responsibilities) for seed in ALL_DEPARTMENTS}
# roles that act for a unit; the others (process owner, auditor, administrator) need none
UNIT_ROLES = frozenset({RoleCode.GRID_WORKER, RoleCode.INTAKE_CLERK, RoleCode.TRIAGE_OFFICER, RoleCode.MEDIATOR,
                        RoleCode.DEPT_HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})
EXCLUSIVE = frozenset({RoleCode.ADMIN, RoleCode.AUDITOR})
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105
PASSWORD_LENGTH = 14


@dataclass
class ImportPreview:
    """What an import would do. Keys are place or unit codes, or usernames.

    ``changes`` names, for each updated key, the columns whose values change. ``errors`` block
    the import; ``warnings`` do not (e.g. a unit kind the routing table never names)."""

    kind: str
    rows: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class OneTimePassword:
    """A new user's first password: shown once to whoever imported, never stored in clear."""

    username: str
    display_name: str
    password: str
    roles: tuple[str, ...]
    unit_code: str | None


@dataclass
class ImportResult:
    """What an import did; ``passwords`` holds one entry per created user (users imports)."""

    kind: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[RowProblem] = field(default_factory=list)
    passwords: list[OneTimePassword] = field(default_factory=list)


def preview_import(uow: UnitOfWork, kind: str, rows: list[ImportRow]) -> ImportPreview:
    """Check every row against the file and the database; nothing is written."""
    with uow:
        return _planner(kind)(uow, rows).preview


def apply_import(uow: UnitOfWork, actor: Actor, kind: str, rows: list[ImportRow], *,
                 hasher: PasswordHasher | None = None) -> ImportResult:
    """Import the rows in one transaction, or raise ``ImportRejected`` and write nothing.

    Only the system (CLI, demo) and administrators import. ``hasher``: argon2 parameters for
    new users' passwords (default: the sign-in hasher)."""
    if actor.type == "user" and not actor.has(RoleCode.ADMIN):
        raise NotPermitted(ErrorCode.NOT_PERMITTED, rule="directory_import.admin")
    hasher = hasher or default_hasher(uow.services.settings)
    ready: dict[str, tuple[str, str]] = {}
    if ImportKind(kind) in (ImportKind.USERS, ImportKind.EXPERTS):
        # argon2 is slow on purpose: hash before the transaction that holds the write lock
        preview = preview_import(uow.services.new_uow(), kind, rows)
        if preview.ok:
            ready = {name: _new_password(hasher) for name in preview.created}

    def password_for(username: str) -> tuple[str, str]:
        return ready.get(username) or _new_password(hasher)

    with uow:
        plan = _planner(kind)(uow, rows)
        if plan.preview.errors:
            raise ImportRejected(plan.preview.errors)
        result = ImportResult(str(ImportKind(kind)), list(plan.preview.created),
                              list(plan.preview.updated), len(plan.preview.unchanged),
                              list(plan.preview.warnings))
        plan.apply(uow, actor, result, password_for)
        uow.audit.record(AuditAction.DIRECTORY_IMPORTED, actor, object_type="directory",
                         object_id=str(kind), kind=str(kind), rows=len(rows),
                         created=len(result.created), updated=len(result.updated),
                         unchanged=result.unchanged)
        uow.commit()
    return result


# -- shared checks ------------------------------------------------------------------------------
class _Plan:
    """A checked import: the preview and what ``apply`` needs."""

    preview: ImportPreview

    def __init__(self, kind: ImportKind, rows: list[ImportRow]):
        self.preview = ImportPreview(str(kind), len(rows))

    def error(self, row: ImportRow, column: str, code: str, /, **params: Any) -> None:
        self.preview.errors.append(RowProblem(row.number, column, FieldError(code, params)))

    def warn(self, row: ImportRow, column: str, code: str, /, **params: Any) -> None:
        self.preview.warnings.append(RowProblem(row.number, column, FieldError(code, params)))

    def text(self, row: ImportRow, column: str, limit: int, *, required: bool = False) -> str:
        value = row.get(column)
        if not value:
            if required:
                self.error(row, column, FieldCode.REQUIRED)
        elif (error := name_error(value, max_length=limit) if column in NAMES else
              text_error(value, max_length=limit)) is not None:
            # a cell is one line; a name shows something (engine/input_rules.py)
            self.error(row, column, error.code, **error.params)
        return value

    def code(self, row: ImportRow, column: str, limit: int, *, required: bool = True) -> str:
        value = unicodedata.normalize("NFKC", row.get(column)).strip()
        if not value:
            if required:
                self.error(row, column, FieldCode.REQUIRED)
        elif len(value) > limit:
            self.error(row, column, FieldCode.TOO_LONG, limit=limit)
        elif not CODE.fullmatch(value):
            self.error(row, column, ErrorCode.BAD_CODE)
        return value

    def unique(self, items: list[Any], key: str, column: str) -> dict[str, Any]:
        """The first item of each key (attribute ``key``); later ones with that key are errors."""
        first: dict[str, Any] = {}
        for item in items:
            value = getattr(item, key)
            if not value:
                continue
            if value in first:
                self.error(item.row, column, ErrorCode.DUPLICATE_IN_FILE, value=value,
                           row=first[value].row.number)
            else:
                first[value] = item
        return first

    def classify(self, key: str, existing: bool, changed: list[str]) -> None:
        if not existing:
            self.preview.created.append(key)
        elif changed:
            self.preview.updated.append(key)
            self.preview.changes[key] = changed
        else:
            self.preview.unchanged.append(key)

    def bad_rows(self) -> set[int]:
        return {problem.row for problem in self.preview.errors}

    def apply(self, uow: UnitOfWork, actor: Actor, result: ImportResult,
              password_for: Callable[[str], tuple[str, str]]) -> None:
        raise NotImplementedError


def _planner(kind: str) -> Callable[[UnitOfWork, list[ImportRow]], _Plan]:
    return {ImportKind.PLACES: _PlacesPlan, ImportKind.UNITS: _UnitsPlan,
            ImportKind.USERS: _UsersPlan, ImportKind.ROOMS: _RoomsPlan,
            ImportKind.EXPERTS: _ExpertsPlan}[ImportKind(kind)]


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _optional(row: ImportRow, column: str) -> bool:
    """True when the file has the column (an absent column leaves existing values alone)."""
    return column in row.values


# -- places -------------------------------------------------------------------------------------
@dataclass
class _PlaceRow:
    row: ImportRow
    code: str
    name: str
    level: str
    parent: str | None
    address: str | None


@dataclass
class _KnownPlace:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str
    address: str | None


class _PlacesPlan(_Plan):
    def __init__(self, uow: UnitOfWork, rows: list[ImportRow]):
        super().__init__(ImportKind.PLACES, rows)
        known = [_KnownPlace(*row) for row in uow.session.execute(select(
            Place.id, Place.code, Place.name, Place.level, Place.parent_id, Place.path,
            Place.address))]
        self.known = {place.code: place for place in known}
        code_of = {place.id: place.code for place in known}
        parent_code = {p.code: code_of.get(p.parent_id) if p.parent_id else None for p in known}
        self.known_parent = parent_code
        children: dict[str, list[str]] = {}
        for code, parent in parent_code.items():
            if parent:
                children.setdefault(parent, []).append(code)

        parsed = [self._row(row) for row in rows]
        self.items: dict[str, _PlaceRow] = self.unique(parsed, "code", "code")
        for item in parsed:  # unknown parents, now that the file's own codes are known
            if item.parent and item.parent not in self.items and item.parent not in self.known:
                self.error(item.row, "parent_code", ErrorCode.UNKNOWN_PARENT, code=item.parent)
        self._check_levels(children)
        if self.preview.errors:
            return
        for code, item in self.items.items():
            place = self.known.get(code)
            changed = [] if place is None else [
                column for column, before, after in (
                    ("name", place.name, item.name), ("level", place.level, item.level),
                    ("parent_code", parent_code[code], item.parent),
                    ("address", place.address, item.address)) if before != after]
            self.classify(code, place is not None, changed)

    def _check_levels(self, children: dict[str, list[str]]) -> None:
        """Cycles, and each place deeper than its parent and above its children, in the tree
        the import would leave (the database's places with the file's rows laid over them)."""
        levels = {code: place.level for code, place in self.known.items()}
        parents = dict(self.known_parent)
        for code, item in self.items.items():
            if item.level:
                levels[code] = item.level
            parents[code] = item.parent
        in_cycle = self._cycles(parents)
        for code, item in self.items.items():
            if code in in_cycle or not item.level:
                continue
            parent_level = levels.get(item.parent or "")
            if item.parent and parent_level and \
                    LEVEL_DEPTH[item.level] <= LEVEL_DEPTH[parent_level]:
                self.error(item.row, "level", ErrorCode.LEVEL_NOT_BELOW_PARENT, code=item.parent)
            below = [child for child in children.get(code, ())
                     if child not in self.items and child not in in_cycle   # own rows checked
                     and LEVEL_DEPTH[levels[child]] <= LEVEL_DEPTH[item.level]]
            if below:
                self.error(item.row, "level", ErrorCode.LEVEL_NOT_ABOVE_CHILD, code=below[0])

    def _row(self, row: ImportRow) -> _PlaceRow:
        code = self.code(row, "code", PLACE_CODE_MAX)
        name = self.text(row, "name", NAME_MAX, required=True)
        raw_level = row.get("level")
        level = LEVEL_WORDS.get(raw_level.lower().strip(), "")
        if not raw_level:
            self.error(row, "level", FieldCode.REQUIRED)
        elif not level:
            self.error(row, "level", ErrorCode.UNKNOWN_LEVEL)
        parent = self.code(row, "parent_code", PLACE_CODE_MAX, required=False) or None
        if parent is None and level and level not in ROOT_LEVELS:
            if _optional(row, "parent_code") or code not in self.known:
                self.error(row, "parent_code", ErrorCode.PARENT_REQUIRED)
        if parent is None and not _optional(row, "parent_code") and code in self.known:
            parent = self.known_parent[code]
        address = self.text(row, "address", ADDRESS_MAX) or None
        if address is not None and level and level != PlaceLevel.BUILDING:
            self.error(row, "address", ErrorCode.ADDRESS_ONLY_BUILDING)
        if not _optional(row, "address") and code in self.known:
            address = self.known[code].address
        return _PlaceRow(row, code, name, level, parent, address)

    def _cycles(self, parents: dict[str, str | None]) -> set[str]:
        """Codes of the file that sit on a cycle of parents (each cycle reported on its rows)."""
        done: set[str] = set()
        found: set[str] = set()
        for start in self.items:
            path: list[str] = []
            on_path: dict[str, int] = {}
            code: str | None = start
            while code is not None and code not in done and code not in on_path:
                on_path[code] = len(path)
                path.append(code)
                code = parents.get(code)
            if code is not None and code in on_path:
                cycle = path[on_path[code]:]
                text = " → ".join([*cycle, cycle[0]])
                for member in cycle:
                    if member in self.items:
                        self.error(self.items[member].row, "parent_code", ErrorCode.PLACE_CYCLE,
                                   codes=text)
                found.update(cycle)
            done.update(path)
        return found

    def apply(self, uow: UnitOfWork, actor: Actor, result: ImportResult,
              password_for: Callable[[str], tuple[str, str]]) -> None:
        session = uow.session
        ids = {code: place.id for code, place in self.known.items()}
        moved: list[int] = []
        updated = set(self.preview.updated)
        for codes in _chunks(sorted(updated)):
            for place in session.scalars(select(Place).where(Place.code.in_(codes))):
                item = self.items[place.code]
                parent_id = ids[item.parent] if item.parent else None
                if parent_id != place.parent_id:
                    moved.append(place.id)
                place.name, place.level, place.parent_id = item.name, item.level, parent_id
                for column, value in self._address(item).items():
                    setattr(place, column, value)
        session.flush()
        # bulk statements per generation (an ORM insert would go row by row to learn each id)
        paths = {code: place.path for code, place in self.known.items()}
        for generation in self._generations([self.items[c] for c in self.preview.created]):
            session.execute(insert(Place), [
                {"code": item.code, "name": item.name, "level": item.level, "path": "",
                 "parent_id": ids[item.parent] if item.parent else None, "active": True,
                 **self._address(item)} for item in generation])
            for chunk in _chunks([item.code for item in generation]):
                ids.update((code, ident) for code, ident in session.execute(
                    select(Place.code, Place.id).where(Place.code.in_(chunk))))
            for item in generation:   # the form of district.places.child_path
                paths[item.code] = f"{paths[item.parent] if item.parent else '/'}{ids[item.code]}/"
            session.execute(update(Place), [{"id": ids[item.code], "path": paths[item.code]}
                                            for item in generation])
        if moved:
            _repath(uow)

    @staticmethod
    def _address(item: _PlaceRow) -> dict[str, str | None]:
        """A building's standard address and its match key; other places carry none."""
        if item.level != PlaceLevel.BUILDING or not item.address:
            return {"address": None, "address_key": None}
        return {"address": item.address, "address_key": address_key(item.address)}

    def _generations(self, new: list[_PlaceRow]) -> list[list[_PlaceRow]]:
        """New places, parents before children (a parent that is new too comes a step earlier)."""
        fresh = {item.code: item for item in new}
        depth: dict[str, int] = {}

        def depth_of(code: str) -> int:
            trail = []
            while code not in depth:
                parent = fresh[code].parent
                if parent is None or parent not in fresh:
                    depth[code] = 0
                    break
                trail.append(code)
                code = parent
            for step in reversed(trail):
                depth[step] = depth[fresh[step].parent or ""] + 1
            return depth[trail[0]] if trail else depth[code]

        levels: dict[int, list[_PlaceRow]] = {}
        for item in new:
            levels.setdefault(depth_of(item.code), []).append(item)
        return [levels[key] for key in sorted(levels)]


def _repath(uow: UnitOfWork) -> None:
    """Places moved: rebuild every path from the parents, and the paths cases carry."""
    session = uow.session
    rows = session.execute(select(Place.id, Place.parent_id, Place.path)).all()
    children: dict[int | None, list[int]] = {}
    stored = {}
    for ident, parent_id, path in rows:
        children.setdefault(parent_id, []).append(ident)
        stored[ident] = path
    fresh: dict[int, str] = {}
    queue = [(ident, "/") for ident in children.get(None, [])]
    while queue:
        ident, prefix = queue.pop()
        fresh[ident] = f"{prefix}{ident}/"
        queue.extend((child, fresh[ident]) for child in children.get(ident, []))
    changed = [{"id": ident, "path": path} for ident, path in fresh.items()
               if stored.get(ident) != path]
    if changed:
        session.execute(update(Place), changed)
        for item in changed:
            session.execute(update(Case).where(Case.place_id == item["id"])
                            .values(place_path=item["path"]))
        # the cases' search terms carry their place path (the list's place facts)
        moved = [item["id"] for item in changed]
        for start in range(0, len(moved), 500):
            rewrite_search_terms(session, Case.place_id.in_(moved[start:start + 500]))


# -- units --------------------------------------------------------------------------------------
@dataclass
class _UnitRow:
    row: ImportRow
    code: str
    name: str
    kind: str
    place: str | None


class _UnitsPlan(_Plan):
    def __init__(self, uow: UnitOfWork, rows: list[ImportRow]):
        super().__init__(ImportKind.UNITS, rows)
        session = uow.session
        self.known = {unit.code: unit for unit in session.scalars(select(Department))}
        # code and level of places by code; the places of existing units are known by id too
        self.places: dict[str, tuple[int, str]] = {}
        self.place_code: dict[int, str] = {}
        self._load_places(session, Place.id.in_,
                          sorted({u.place_id for u in self.known.values() if u.place_id}))
        parsed = [self._row(row) for row in rows]
        self.items: dict[str, _UnitRow] = self.unique(parsed, "code", "code")
        self._load_places(session, Place.code.in_,
                          sorted({i.place for i in parsed if i.place} - set(self.places)))
        for item in parsed:
            if item.place and item.place not in self.places:
                self.error(item.row, "place_code", ErrorCode.UNKNOWN_PLACE, code=item.place)
            if item.kind and item.kind not in ROUTING_KINDS:
                self.warn(item.row, "kind", ErrorCode.UNKNOWN_KIND, kind=item.kind)
        if self.preview.errors:
            return
        for code, item in self.items.items():
            unit = self.known.get(code)
            changed = [] if unit is None else [
                column for column, before, after in (
                    ("name", unit.name, item.name), ("kind", unit.kind, item.kind),
                    ("place_code", self.place_code.get(unit.place_id or 0), item.place),
                    ("tier", unit.tier, self._tier(item))) if before != after]
            self.classify(code, unit is not None, changed)

    def _load_places(self, session: Any, where: Callable[[list], Any], keys: list) -> None:
        for chunk in _chunks(keys):
            for code, ident, level in session.execute(
                    select(Place.code, Place.id, Place.level).where(where(chunk))):
                self.places[code] = (ident, level)
                self.place_code[ident] = code

    def _row(self, row: ImportRow) -> _UnitRow:
        code = self.code(row, "code", UNIT_CODE_MAX)
        name = self.text(row, "name", NAME_MAX, required=True)
        kind = self.code(row, "kind", UNIT_CODE_MAX).upper()
        place = self.code(row, "place_code", PLACE_CODE_MAX, required=False) or None
        if place is None and not _optional(row, "place_code") and code in self.known:
            place = self.place_code.get(self.known[code].place_id or 0)  # left as it is
        return _UnitRow(row, code, name, kind, place)

    def _tier(self, item: _UnitRow) -> str:
        if item.place is None:
            return Tier.DISTRICT
        return TIER_OF_LEVEL[self.places[item.place][1]]

    def apply(self, uow: UnitOfWork, actor: Actor, result: ImportResult,
              password_for: Callable[[str], tuple[str, str]]) -> None:
        for code in self.preview.created + self.preview.updated:
            item = self.items[code]
            place_id = self._place_id(item)
            unit = self.known.get(code)
            if unit is None:
                unit = Department(code=code, name=item.name, kind=item.kind,
                                  tier=self._tier(item), place_id=place_id, active=True,
                                  responsibilities=SEED_RESPONSIBILITIES.get(item.kind, []))
                uow.session.add(unit)
            else:
                unit.name, unit.kind, unit.tier, unit.place_id = \
                    item.name, item.kind, self._tier(item), place_id
        uow.session.flush()

    def _place_id(self, item: _UnitRow) -> int | None:
        return None if item.place is None else self.places[item.place][0]


# -- users --------------------------------------------------------------------------------------
@dataclass
class _UserRow:
    row: ImportRow
    username: str
    display_name: str
    roles: list[str]
    unit: str | None
    mobile: str | None


class _UsersPlan(_Plan):
    def __init__(self, uow: UnitOfWork, rows: list[ImportRow]):
        super().__init__(ImportKind.USERS, rows)
        session = uow.session
        self.cipher = uow.services.cipher
        self.role_names = _role_names(session)
        parsed = [self._row(row) for row in rows]
        self.items: dict[str, _UserRow] = self.unique(parsed, "username", "username")
        self.known: dict[str, User] = {}
        for chunk in _chunks(sorted(self.items)):
            self.known.update((user.username, user) for user in session.scalars(
                select(User).where(User.username.in_(chunk)).options(selectinload(User.roles))))
        self.units = {unit.code: unit for unit in session.scalars(select(Department))}
        unit_codes = {unit.id: code for code, unit in self.units.items()}
        for item in parsed:
            if item.unit and item.unit not in self.units:
                self.error(item.row, "unit_code", ErrorCode.UNKNOWN_UNIT, code=item.unit)
            elif not item.unit and UNIT_ROLES.intersection(item.roles):
                user = self.known.get(item.username)
                if _optional(item.row, "unit_code") or user is None or \
                        user.department_id is None:
                    self.error(item.row, "unit_code", ErrorCode.UNIT_REQUIRED)
        if self.preview.errors:
            return
        for name, item in self.items.items():
            user = self.known.get(name)
            if item.unit is None and user is not None and not _optional(item.row, "unit_code"):
                item.unit = unit_codes.get(user.department_id or 0)
            changed = [] if user is None else self._changes(user, item, unit_codes)
            self.classify(name, user is not None, changed)

    def _row(self, row: ImportRow) -> _UserRow:
        username = row.get("username")
        if not username:
            self.error(row, "username", FieldCode.REQUIRED)
        elif len(username) > USERNAME_MAX or not username.isprintable() or " " in username:
            self.error(row, "username", ErrorCode.BAD_USERNAME)
        display_name = self.text(row, "display_name", NAME_MAX, required=True)
        roles: list[str] = []
        unknown: list[str] = []
        for word in split_roles(row.get("roles")):
            code = self.role_names.get(word.casefold())
            (roles if code else unknown).append(code or word)
        if unknown:
            self.error(row, "roles", ErrorCode.UNKNOWN_ROLE, roles="、".join(unknown))
        elif not roles:
            self.error(row, "roles", FieldCode.REQUIRED)
        elif EXCLUSIVE.issubset(roles):
            self.error(row, "roles", ErrorCode.ADMIN_NOT_AUDITOR)
        unit = self.code(row, "unit_code", UNIT_CODE_MAX, required=False) or None
        mobile = None
        raw = row.get("mobile")
        if raw:
            try:
                mobile = normalize_phone(raw)
                if not MOBILE.fullmatch(mobile):   # a landline is no work mobile
                    raise FieldRefused(FieldCode.PHONE_NOT_MOBILE)
            except FieldRefused as exc:
                self.preview.errors.append(RowProblem(row.number, "mobile", exc.error))
        return _UserRow(row, username, display_name, list(dict.fromkeys(roles)), unit, mobile)

    def _changes(self, user: User, item: _UserRow, unit_codes: dict[int, str]) -> list[str]:
        changed = []
        if user.display_name != item.display_name:
            changed.append("display_name")
        if sorted(link.role.code for link in user.roles) != sorted(item.roles):
            changed.append("roles")
        if unit_codes.get(user.department_id or 0) != item.unit:
            changed.append("unit_code")
        if _optional(item.row, "mobile") and self._mobile(user) != item.mobile:
            changed.append("mobile")
        return changed

    def _mobile(self, user: User) -> str | None:
        if user.mobile_enc is None:
            return None
        return self.cipher.decrypt(user.mobile_enc,
                                   aad=field_aad("user_account", "mobile_enc", user.id))

    def _set_mobile(self, user: User, mobile: str | None) -> None:
        user.mobile_enc = None if mobile is None else self.cipher.encrypt(
            mobile, aad=field_aad("user_account", "mobile_enc", user.id))
        user.mobile_masked = None if mobile is None else mask_phone(mobile)

    def apply(self, uow: UnitOfWork, actor: Actor, result: ImportResult,
              password_for: Callable[[str], tuple[str, str]]) -> None:
        session = uow.session
        roles = seed_roles(session)
        granted_by = int(actor.id) if actor.type == "user" and actor.id and actor.id.isdigit() \
            else None
        now = uow.clock.now()
        created: list[tuple[User, _UserRow]] = []
        for name in self.preview.created:
            item = self.items[name]
            password, digest = password_for(name)
            user = User(username=name, display_name=item.display_name,
                        password_hash=digest, locale="", active=True,
                        department_id=self._unit_id(item), created_at=now)
            session.add(user)
            created.append((user, item))
            result.passwords.append(OneTimePassword(name, item.display_name, password,
                                                    tuple(item.roles), item.unit))
        session.flush()
        for user, item in created:
            self._set_mobile(user, item.mobile)
            self._grant(session, user, item.roles, roles, granted_by, now)
            uow.audit.record(AuditAction.USER_CREATED, actor, object_type="user",
                             object_id=user.id, username=user.username, roles=item.roles,
                             department=item.unit, source="import")
        for name in self.preview.updated:
            user, item = self.known[name], self.items[name]
            changed = self.preview.changes[name]
            user.display_name = item.display_name
            user.department_id = self._unit_id(item)
            if "mobile" in changed:
                self._set_mobile(user, item.mobile)
            if "roles" in changed or "unit_code" in changed:
                user.roles.clear()
                session.flush()
                self._grant(session, user, item.roles, roles, granted_by, now)
                revoke_sessions(session, user.id, now)   # rights changed: sign in again
            uow.audit.record(AuditAction.USER_UPDATED, actor, object_type="user",
                             object_id=user.id, change="import", fields=changed,
                             roles=item.roles, department=item.unit)
        session.flush()

    def _unit_id(self, item: _UserRow) -> int | None:
        return self.units[item.unit].id if item.unit else None

    @staticmethod
    def _grant(session: Any, user: User, codes: list[str], roles: dict[str, Role],
               granted_by: int | None, now: Any) -> None:
        for code in codes:
            session.add(UserRole(user_id=user.id, role_id=roles[code].id,
                                 department_id=user.department_id, granted_by=granted_by,
                                 granted_at=now))


def _role_names(session: Any) -> dict[str, str]:
    """Role code by code, Chinese name or English name (case folded)."""
    names = {}
    for seed in ROLES:
        for word in (seed.code, seed.name_zh, seed.name_en):
            names[str(word).casefold()] = str(seed.code)
    for code, zh, en in session.execute(select(Role.code, Role.name_zh, Role.name_en)):
        for word in (code, zh, en):
            names[str(word).casefold()] = code
    return names


def _new_password(hasher: PasswordHasher) -> tuple[str, str]:
    password = one_time_password()
    return password, hasher.hash(password)


def one_time_password() -> str:
    """A random first password that meets the password policy (letters and digits mixed)."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            check_password_policy(password)
            return password


# -- mediation rooms ----------------------------------------------------------------------------
YES = frozenset({"是", "有", "y", "yes", "true", "1", "√", "✓"})
NO = frozenset({"否", "无", "n", "no", "false", "0", ""})
CAPACITY = (1, 200)


@dataclass
class _RoomRow:
    row: ImportRow
    code: str
    name: str
    unit: str
    capacity: int | None
    flags: dict[str, bool | None]


class _RoomsPlan(_Plan):
    """Rooms by code: the unit must exist; capacity a count; equipment 是/否."""

    FLAGS = ("recording", "video", "accessible")

    def __init__(self, uow: UnitOfWork, rows: list[ImportRow]):
        super().__init__(ImportKind.ROOMS, rows)
        session = uow.session
        self.known = {room.code: room for room in session.scalars(select(Room))}
        self.units: dict[str, int] = dict(
            session.execute(select(Department.code, Department.id)).all())
        parsed = [self._row(row) for row in rows]
        self.items: dict[str, _RoomRow] = self.unique(parsed, "code", "code")
        for item in parsed:
            if item.unit and item.unit not in self.units:
                self.error(item.row, "unit_code", ErrorCode.UNKNOWN_UNIT, code=item.unit)
        if self.preview.errors:
            return
        for code, item in self.items.items():
            room = self.known.get(code)
            changed = [] if room is None else [
                column for column, before, after in (
                    ("name", room.name, item.name), ("unit_code", room.unit_id,
                                                     self.units[item.unit]),
                    ("capacity", room.capacity, item.capacity if item.capacity is not None
                     else room.capacity),
                    *((flag, getattr(room, flag), item.flags[flag]
                       if item.flags[flag] is not None else getattr(room, flag))
                      for flag in self.FLAGS)) if before != after]
            self.classify(code, room is not None, changed)

    def _row(self, row: ImportRow) -> _RoomRow:
        code = self.code(row, "code", 40)
        name = self.text(row, "name", NAME_MAX, required=True)
        unit = self.code(row, "unit_code", UNIT_CODE_MAX)
        capacity = None
        if row.get("capacity"):
            text = unicodedata.normalize("NFKC", row.get("capacity")).strip()
            if not (text.isascii() and text.isdigit() and CAPACITY[0] <= int(text) <= CAPACITY[1]):
                self.error(row, "capacity", ErrorCode.CAPACITY_RANGE, min=CAPACITY[0],
                           max=CAPACITY[1])
            else:
                capacity = int(text)
        flags: dict[str, bool | None] = {}
        for flag in self.FLAGS:
            word = row.get(flag).strip().lower()
            if not _optional(row, flag):
                flags[flag] = None
            elif word in YES or word in NO:
                flags[flag] = word in YES
            else:
                flags[flag] = None
                self.error(row, flag, FieldCode.NOT_AN_OPTION)
        return _RoomRow(row, code, name, unit, capacity, flags)

    def apply(self, uow: UnitOfWork, actor: Actor, result: ImportResult,
              password_for: Callable[[str], tuple[str, str]]) -> None:
        for code in self.preview.created + self.preview.updated:
            item = self.items[code]
            room = self.known.get(code)
            if room is None:
                room = Room(code=code, capacity=6, recording=False, video=False,
                            accessible=False, active=True)
                uow.session.add(room)
            room.name, room.unit_id = item.name, self.units[item.unit]
            if item.capacity is not None:
                room.capacity = item.capacity
            for flag in self.FLAGS:
                if item.flags[flag] is not None:
                    setattr(room, flag, item.flags[flag])
            uow.session.flush()
            uow.audit.record(AuditAction.ROOM_SAVED, actor, object_type="mediation_room",
                             object_id=room.id, code=room.code, unit_id=room.unit_id,
                             capacity=room.capacity, recording=room.recording, video=room.video,
                             accessible=room.accessible, source="import")


# -- the expert pool ----------------------------------------------------------------------------
@dataclass
class _ExpertRow:
    row: ImportRow
    username: str
    item: expert_pool.ExpertInput


class _ExpertsPlan(_Plan):
    """Experts by username: a new one gets an account with the role ``expert``; an existing
    account must already be an expert of the pool. Cells are read like the admin's form."""

    COMPARED = ("display_name", "field", "unit_code", "organisation", "organisation_code",
                "contact", "available_days")

    def __init__(self, uow: UnitOfWork, rows: list[ImportRow]):
        super().__init__(ImportKind.EXPERTS, rows)
        session = uow.session
        self.uow = uow
        self.units: dict[str, int] = dict(
            session.execute(select(Department.code, Department.id)).all())
        parsed = [self._row(row) for row in rows]
        self.items: dict[str, _ExpertRow] = self.unique(parsed, "username", "username")
        self.users: dict[str, User] = {}
        for chunk in _chunks(sorted(self.items)):
            self.users.update((u.username, u) for u in session.scalars(
                select(User).where(User.username.in_(chunk))))
        self.experts = {e.user_id: e for e in session.scalars(select(Expert).where(
            Expert.user_id.in_([u.id for u in self.users.values()])))} if self.users else {}
        for item in parsed:
            if item.item.unit_code and item.item.unit_code not in self.units:
                self.error(item.row, "unit_code", ErrorCode.UNKNOWN_UNIT,
                           code=item.item.unit_code)
            user = self.users.get(item.username)
            if user is not None and user.id not in self.experts:
                self.error(item.row, "username", ErrorCode.USER_EXISTS, username=item.username)
        if self.preview.errors:
            return
        for name, item in self.items.items():
            user = self.users.get(name)
            changed = [] if user is None else self._changes(user, item)
            self.classify(name, user is not None, changed)

    def _row(self, row: ImportRow) -> _ExpertRow:
        username = row.get("username")
        if not username:
            self.error(row, "username", FieldCode.REQUIRED)
        elif len(username) > USERNAME_MAX or not username.isprintable() or " " in username:
            self.error(row, "username", ErrorCode.BAD_USERNAME)
        item, errors = expert_pool.check_input(row.values)
        for column, error in errors.items():
            self.preview.errors.append(RowProblem(row.number, column, error))
        return _ExpertRow(row, username, item)

    def _changes(self, user: User, row: _ExpertRow) -> list[str]:
        expert, item = self.experts[user.id], row.item
        contact = expert_pool.contact_of(self.uow, expert)
        unit_code = next((c for c, i in self.units.items() if i == expert.unit_id), None)
        before = {"display_name": user.display_name, "field": expert.field,
                  "unit_code": unit_code, "organisation": expert.organisation,
                  "organisation_code": expert.organisation_code, "contact": contact,
                  "available_days": list(expert.available_days or [])}
        after = {"display_name": item.display_name, "field": item.field,
                 "unit_code": item.unit_code, "organisation": item.organisation,
                 "organisation_code": item.organisation_code,
                 "contact": item.contact if _optional(row.row, "contact") else contact,
                 "available_days": item.available_days}
        return [column for column in self.COMPARED if before[column] != after[column]]

    def apply(self, uow: UnitOfWork, actor: Actor, result: ImportResult,
              password_for: Callable[[str], tuple[str, str]]) -> None:
        session = uow.session
        role = seed_roles(session)[RoleCode.EXPERT]
        granted_by = int(actor.id) if actor.type == "user" and actor.id and actor.id.isdigit() \
            else None
        now = uow.clock.now()
        for name in self.preview.created:
            row = self.items[name]
            unit_id = self.units[row.item.unit_code]
            password, digest = password_for(name)
            user = User(username=name, display_name=row.item.display_name,
                        password_hash=digest, locale="", active=True, department_id=unit_id,
                        created_at=now)
            session.add(user)
            session.flush()
            session.add(UserRole(user_id=user.id, role_id=role.id, department_id=unit_id,
                                 granted_by=granted_by, granted_at=now))
            result.passwords.append(OneTimePassword(name, row.item.display_name, password,
                                                    (str(RoleCode.EXPERT),), row.item.unit_code))
            uow.audit.record(AuditAction.USER_CREATED, actor, object_type="user",
                             object_id=user.id, username=name, roles=[RoleCode.EXPERT],
                             department=row.item.unit_code, source="import")
            expert = Expert(user_id=user.id, active=True)
            session.add(expert)
            expert_pool.apply_input(uow, expert, row.item, unit_id)
            session.flush()
            expert_pool.audit_saved(uow, actor, expert, "import")
        for name in self.preview.updated:
            row, user = self.items[name], self.users[name]
            expert = self.experts[user.id]
            unit_id = self.units[row.item.unit_code]
            user.display_name, user.department_id = row.item.display_name, unit_id
            expert_pool.apply_input(uow, expert, row.item, unit_id,
                                    keep_contact=not _optional(row.row, "contact"))
            session.flush()
            expert_pool.audit_saved(uow, actor, expert, "import")
