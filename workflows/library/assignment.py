"""Who does a task, as drawn: lanes, ``candidateGroups``, ``candidateUsers`` and ``assignee``.

The shipped library names lanes after roles (受理员, 承办人 …) and keeps the unit in task data
(``dept``); the projection handles that as before. A process drawn elsewhere names agencies
instead: a lane 公安, ``camunda:candidateGroups="教育"`` or ``"区城管执法局"``, a unit from task
data ``"${unit}"`` (a multi-instance over units), a user ``camunda:assignee="zhang"``. Each name
is resolved against

* roles — code, Chinese or English name (``dept_handler``, 承办人, Department handler);
* unit kinds — code or alias (``JY``, 教育; ``workflows.district.kinds``), reaching the unit of
  that kind nearest the case's place;
* units — code or name (``QS-JDTJ``, 青山镇人民调解委员会);

in that order. A unit without a role means the unit's handlers (承办人); a role from the groups
wins over the lane's; a task drawn only for users (candidate users, assignee) has no role: those
users may do it, whatever their role. Expressions (``${…}``, ``#{…}``, ``=…``) go through the restricted
evaluator (never Python ``eval``). What cannot be resolved leaves the task to nobody (default
deny): the deploy check (``workflows.processes.claimability``) refuses such drawings first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ExpressionError
from engine.expressions import BASE_FUNCTIONS, Evaluator
from engine.instance import TaskView
from workflows.district.kinds import kind_of_alias
from workflows.district.units import UnitResolver
from workflows.library.contract import LANE_ALIASES
from workflows.models import Department, Role, RoleCode, User

HANDLER = str(RoleCode.DEPT_HANDLER)
EXPRESSION = re.compile(r"^\s*(?:\$\{(?P<a>.*)\}|#\{(?P<b>.*)\}|=(?P<c>.*))\s*$", re.S)
SEPARATORS = re.compile(r"[,，、;；]")
EVALUATOR = Evaluator(BASE_FUNCTIONS)


@dataclass(frozen=True)
class Drawing:
    """A user task's lane and assignment attributes, as written."""

    lane: str | None
    groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    assignee: str | None = None

    @property
    def explicit(self) -> bool:
        """True when the modeler named groups, users or an assignee."""
        return bool(self.groups or self.users or self.assignee)


@dataclass(frozen=True)
class Named:
    """What one name means: ``kind`` is role, unit_kind or unit; ``value`` a code."""

    kind: str
    value: str


def drawing_of(lane: str | None, assignment: Mapping[str, str] | None) -> Drawing:
    """The drawing of a task from its lane and its ``assignment`` extension."""
    assignment = assignment or {}
    return Drawing(lane=(lane or "").strip() or None,
                   groups=split_names(assignment.get("candidateGroups")),
                   users=split_names(assignment.get("candidateUsers")),
                   assignee=(assignment.get("assignee") or "").strip() or None)


def split_names(text: str | None) -> tuple[str, ...]:
    """A comma-separated list (also ，、;); one expression stays whole."""
    text = (text or "").strip()
    if not text:
        return ()
    if expression_of(text) is not None:
        return (text,)
    return tuple(part.strip() for part in SEPARATORS.split(text) if part.strip())


def expression_of(text: str) -> str | None:
    """The inner expression of ``${x}``, ``#{x}`` or ``=x``; None for a plain name."""
    match = EXPRESSION.match(text)
    if match is None:
        return None
    return next(group for group in match.groups() if group is not None).strip()


def values_of(text: str, data: Mapping[str, Any]) -> list[str]:
    """The names a drawn entry stands for: itself, or what its expression yields from task
    data (a text, a number, or a list of them; a unit given as ``{"code": …}`` too)."""
    inner = expression_of(text)
    if inner is None:
        return [text]
    try:
        value = EVALUATOR.evaluate(inner, data)
    except (ExpressionError, ArithmeticError, TypeError, ValueError, KeyError, IndexError):
        return []
    items = value if isinstance(value, list | tuple) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("code")
        if isinstance(item, str | int) and not isinstance(item, bool) and str(item).strip():
            out.append(str(item).strip())
    return out


class Directory:
    """Roles, unit kinds, units and users by every name a drawing may use (one per session)."""

    def __init__(self, session: Session):
        self.session = session
        self.roles: dict[str, str] = dict(LANE_ALIASES)
        self.role_names: dict[str, str] = {}
        for code, zh, en in session.execute(select(Role.code, Role.name_zh, Role.name_en)):
            self.roles[zh], self.roles[en], self.roles[code] = code, code, code
            self.role_names[code] = zh
        units = session.execute(select(Department.id, Department.code, Department.name,
                                       Department.kind).where(Department.active.is_(True))).all()
        self.kinds = {kind for _id, _code, _name, kind in units}
        self.units: dict[str, tuple[int, str, str]] = {}
        self.unit_ids = {code: ident for ident, code, _name, _kind in units}
        self.unit_names = {code: name for _ident, code, name, _kind in units}
        for ident, code, name, kind in units:
            self.units.setdefault(code, (ident, code, kind))
            self.units.setdefault(name, (ident, code, kind))
        self._users: dict[str, int | None] = {}

    def name(self, text: str | None) -> Named | None:
        """What a lane or group name means (roles, kinds, aliases, unit codes, unit names)."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.roles:
            return Named("role", self.roles[text])
        kind = text.upper() if text.upper() in self.kinds else kind_of_alias(text)
        if kind is not None:
            return Named("unit_kind", kind)
        if text in self.units:
            return Named("unit", self.units[text][1])
        return None

    def unit_kind_of(self, code: str) -> str | None:
        found = self.units.get(code)
        return found[2] if found else None

    def user_id(self, name: str) -> int | None:
        """An active user by username (or numeric id)."""
        if name not in self._users:
            query = select(User.id).where(User.active.is_(True))
            if name.isdigit():
                query = query.where(User.id == int(name))
            else:
                query = query.where(User.username == name)
            self._users[name] = self.session.scalar(query)
        return self._users[name]


def directory(session: Session) -> Directory:
    """The session's directory, built once per unit of work."""
    found = session.info.get("assignment_directory")
    if not isinstance(found, Directory):
        found = session.info["assignment_directory"] = Directory(session)
    return found


def drawn_facts(task: TaskView, roles: Mapping[str, str],
                depts: UnitResolver) -> dict[str, Any] | None:
    """Role, department, assignee and candidate users of a task drawn with groups, users or a
    lane named after a unit; None for the shipped way (a role's lane, or no lane)."""
    drawn = drawing_of(task.lane, task.extensions.get("assignment"))
    if not drawn.explicit and (drawn.lane is None or drawn.lane in roles):
        return None
    return resolve(drawn, task.data, directory(depts.session), depts)


def resolve(drawn: Drawing, data: Mapping[str, Any], names: Directory,
            depts: UnitResolver) -> dict[str, Any]:
    """The facts the policy checks; a unit that names nothing leaves the task to nobody."""
    role, unit = _groups(drawn, data, names)
    lane = names.name(drawn.lane)
    if lane is not None and lane.kind == "role":
        role = role or lane.value
    elif lane is not None:
        unit = unit or lane
    users = [uid for entry in drawn.users for value in values_of(entry, data)
             if (uid := names.user_id(value)) is not None]
    assignee = next((uid for value in values_of(drawn.assignee, data)
                     if (uid := names.user_id(value)) is not None), None) \
        if drawn.assignee else None
    if assignee is None and len(users) == 1:
        assignee, users = users[0], []
    department = None
    if unit is not None:
        department = _unit_id(unit, depts)
        if department is None:
            role = None          # drawn for a unit the case's place does not have: nobody
        else:
            role = role or HANDLER
    if drawn.explicit and (drawn.users or drawn.assignee) and assignee is None and not users:
        role = None              # drawn for users none of whom is active: nobody
    return {"role": role, "department_id": department, "assignee_id": assignee,
            "candidate_users": candidate_text(users)}


def _groups(drawn: Drawing, data: Mapping[str, Any],
            names: Directory) -> tuple[str | None, Named | None]:
    """The first role and the first unit (or kind) the candidate groups name."""
    role: str | None = None
    unit: Named | None = None
    for entry in drawn.groups:
        for value in values_of(entry, data):
            named = names.name(value)
            if named is None:
                continue
            if named.kind == "role":
                role = role or named.value
            elif unit is None:
                unit = named
    return role, unit


def _unit_id(unit: Named, depts: UnitResolver) -> int | None:
    if unit.kind == "unit_kind":
        found = depts.unit_of_kind(unit.value)
        return found.id if found is not None else None
    return depts.id_of(unit.value)


def candidate_text(users: Iterable[int]) -> str | None:
    """",12,15," (one LIKE finds a user), or None."""
    ids = sorted(set(users))
    return f",{','.join(str(i) for i in ids)}," if ids else None
