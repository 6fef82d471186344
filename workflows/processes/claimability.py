"""The deploy check: a user task that no active user could ever claim is refused.

Each user task's drawing (lane, candidate groups, candidate users, assignee) is resolved as the
projection will resolve it (``workflows.library.assignment``) against the roles, units and
users in the database: a name that is no role, unit kind or unit, a user who does not exist or
is inactive, a unit kind without a unit, or a role (in a unit of that kind) that no active user
holds. A lane that only names a role (the shipped library's way, the unit coming from task data)
is checked for the name only. A unit taken from task data by an expression is checked for its syntax and the role only.
On a database without any active user (a fresh installation before the directory is imported)
only the names are checked; before the roles are seeded, nothing. Messages are Chinese and name the element.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn_parser import BPMN_NS, read_assignment
from engine.errors import BpmnValidationError, ExpressionError, Problem
from engine.xmlsafe import safe_fromstring
from workflows.district.kinds import KIND_ALIASES
from workflows.library.assignment import (
    EVALUATOR,
    HANDLER,
    Directory,
    Drawing,
    Named,
    drawing_of,
    expression_of,
)
from workflows.models import Department, Role, User, UserRole

PREFIX = "无人能办理："


def deploy_note(note: str | None, warnings: list[Problem]) -> str | None:
    """The version's note with the unclaimable tasks the owner deployed anyway (the catalogue
    shows it next to the version)."""
    nobody = [f"{p.element_id} {p.message[len(PREFIX):]}" for p in warnings
              if p.message.startswith(PREFIX)]
    if not nobody:
        return note
    return f"{note or ''}【警告】{PREFIX}{'；'.join(nobody)}".strip()


@dataclass
class Staff:
    """Active users' roles with their unit and its kind: what someone could claim."""

    grants: set[tuple[str, int | None, str | None]] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session) -> Staff:
        rows = session.execute(
            select(Role.code, User.department_id, Department.kind)
            .join(UserRole, UserRole.role_id == Role.id).join(User, User.id == UserRole.user_id)
            .outerjoin(Department, Department.id == User.department_id)
            .where(User.active.is_(True)))
        return cls({(str(role), unit, kind) for role, unit, kind in rows})

    def can(self, role: str, unit: Named | None, unit_ids: Mapping[str, int]) -> bool:
        for held, unit_id, kind in self.grants:
            if held != role:
                continue
            if unit is None or (unit.kind == "unit_kind" and kind == unit.value) or (
                    unit.kind == "unit" and unit_id == unit_ids.get(unit.value)):
                return True
        return False


def unclaimable(session: Session, files: Mapping[str, str | bytes]) -> list[Problem]:
    """Every user task of the bundle that nobody could claim, with the reason."""
    names = Directory(session)
    if not names.role_names:
        return []     # no reference data yet (roles are seeded with the directory)
    staff = Staff.load(session)
    problems: list[Problem] = []
    for filename, text in sorted(files.items()):
        if not filename.endswith(".bpmn"):
            continue
        try:
            root = safe_fromstring(text.encode("utf-8") if isinstance(text, str) else text,
                                   filename)
        except BpmnValidationError:
            continue   # the validation reports it
        lanes = _lanes(root)
        for task in root.iter(f"{{{BPMN_NS}}}userTask"):
            drawn = drawing_of(_lane_of(task, lanes), read_assignment(task))
            if not drawn.explicit and drawn.lane is None:
                continue   # in no lane: the lint warns
            problems += [Problem(filename, task.get("id"), f"{PREFIX}{reason}")
                         for reason in reasons(drawn, names, staff)]
    return problems


def reasons(drawn: Drawing, names: Directory, staff: Staff) -> list[str]:
    """Why nobody could claim a task drawn like this (empty when somebody can)."""
    out, role, unit, dynamic = _groups(drawn, names)
    lane = names.name(drawn.lane)
    if lane is None and drawn.lane and not drawn.explicit:
        out.append(f"泳道「{drawn.lane}」不是角色、单位类型或单位，没有人能办理此任务")
    elif lane is not None and lane.kind == "role":
        role = role or lane.value
    elif lane is not None and not dynamic:
        unit = unit or lane
    out += _users(drawn, names)
    if unit is not None and unit.kind == "unit_kind" and unit.value not in names.kinds:
        out.append(f"没有「{_kind_words(unit.value)}」类型的在用单位")
    if out or not staff.grants or (not drawn.explicit and unit is None):
        # a lane that only names a role is the shipped library's way: the unit comes from task
        # data at run time and the directory grows after the library is deployed
        return out
    if unit is not None or dynamic:
        role = role or HANDLER
    if role is not None and not staff.can(role, None if dynamic else unit, names.unit_ids):
        where = "" if unit is None or dynamic else f"（{_unit_words(unit, names)}）"
        out.append(f"没有在职用户能办理：需要角色「{names.role_names.get(role, role)}」{where}")
    return out


def _groups(drawn: Drawing, names: Directory
            ) -> tuple[list[str], str | None, Named | None, bool]:
    """Problems of the candidate groups, the role and unit they name, and whether a unit comes
    from task data (an expression)."""
    out: list[str] = []
    role: str | None = None
    unit: Named | None = None
    dynamic = False
    for entry in drawn.groups:
        inner = expression_of(entry)
        if inner is not None:
            dynamic = True
            try:
                EVALUATOR.check(inner)
            except ExpressionError as exc:
                out.append(f"候选组表达式「{entry}」不合法：{exc}")
            continue
        named = names.name(entry)
        if named is None:
            out.append(f"候选组「{entry}」不是角色、单位类型或单位")
        elif named.kind == "role":
            role = role or named.value
        else:
            unit = unit or named
    return out, role, unit, dynamic


def _users(drawn: Drawing, names: Directory) -> list[str]:
    plain = [n for n in (*drawn.users, *([drawn.assignee] if drawn.assignee else []))
             if expression_of(n) is None]
    return [f"用户「{n}」不存在或已停用" for n in plain if names.user_id(n) is None]


def _kind_words(kind: str) -> str:
    aliases = KIND_ALIASES.get(kind)
    return aliases[0] if aliases else kind


def _unit_words(unit: Named, names: Directory) -> str:
    if unit.kind == "unit_kind":
        return f"属于「{_kind_words(unit.value)}」类单位"
    return f"属于单位「{names.unit_names.get(unit.value, unit.value)}」"


def _lanes(root: etree._Element) -> dict[str, str]:
    """Flow node id -> the name of the (innermost) lane it sits in."""
    out: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            out[(ref.text or "").strip()] = (lane.get("name") or "").strip()
    return out


def _lane_of(task: etree._Element, lanes: Mapping[str, str]) -> str | None:
    """A task's lane, or the lane of the embedded sub-process it sits in."""
    node: etree._Element | None = task
    while node is not None:
        found = lanes.get(node.get("id") or "")
        if found:
            return found
        parent = node.getparent()
        node = parent if parent is not None and parent.tag == f"{{{BPMN_NS}}}subProcess" \
            else None
    return None
