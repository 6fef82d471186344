"""The inbox's default order (deadline first, then task id) paged by keyset: a page after (or
before) a cursor is as cheap as the first, whatever its depth.

The rows an actor may act on are cut into parts that each match one index range, read in the
inbox order and stopped after a page (UNION ALL of small ordered scans, merged in the outer
query): per role, the unit's unclaimed tasks (``ix_open_task_role_department_due``: role, unit,
deadline, id) and the tasks of no unit (same index, unit IS NULL) — the only part whose case
scope must be checked row by row; the tasks assigned to or claimed by the actor
(``ix_open_task_assignee_due``, the claimed ones few); tasks of no role naming the actor. A
task assigned to, claimed by, or waiting in the group of a unit of its reader makes its case
visible to that reader by the policy itself (``visible_cases``: "a task of mine or of my
unit's group"), so only the tasks of no unit carry the scope check.

A cursor is the last row's (deadline, id): ``<microseconds since 1970 or n>_<id>``. Deadlines
sort ascending with the undated tasks last, so "after" a dated row means a later deadline, the
same deadline and a larger id, or no deadline at all: a row comparison the index answers, plus
the undated tail as a part of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, false, func, literal, or_, select, true, tuple_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from workflows.access.policy import user_id, visible_cases
from workflows.core.actors import Actor
from workflows.models import Case, OpenTask

# the policy's scope clause has correlated subqueries on open_task: an alias keeps them apart
T = aliased(OpenTask, name="inbox_task")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2 ** 62


@dataclass(frozen=True)
class Cursor:
    """A row's place in the inbox order."""

    due_at: datetime | None
    id: int

    def text(self) -> str:
        due = "n" if self.due_at is None else str((self.due_at - EPOCH) // timedelta(microseconds=1))
        return f"{due}_{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """A cursor from a link; None for anything malformed (the first page is shown)."""
        due, sep, ident = (text or "").partition("_")
        if not sep or not ident.isascii() or not ident.isdigit() or len(ident) > 18:
            return None
        if due == "n":
            moment = None
        elif due.isascii() and due.lstrip("-").isdigit() and len(due) <= 18:
            try:
                moment = EPOCH + timedelta(microseconds=int(due))
            except OverflowError:
                return None
            if not 1 <= moment.year <= 9998:
                return None
        else:
            return None
        number = int(ident)
        return cls(moment, number) if number < MAX_ID else None


def ordered(task: Any, forward: bool) -> tuple:
    """ORDER BY of the inbox order (or its reverse, to read a page backwards)."""
    if forward:
        return (task.due_at.asc().nulls_last(), task.id.asc())
    return (task.due_at.desc().nulls_first(), task.id.desc())


def _beyond(task: Any, cursor: Cursor | None,
            forward: bool) -> tuple[ColumnElement[bool] | None, ColumnElement[bool] | None]:
    """(dated rows, undated rows) beyond ``cursor`` in the direction; None: none of them."""
    if cursor is None:
        return task.due_at.is_not(None), true()
    key = tuple_(task.due_at, task.id)
    mark = tuple_(literal(cursor.due_at, task.due_at.type), literal(cursor.id, task.id.type))
    if forward:
        if cursor.due_at is None:
            return None, task.id > cursor.id
        return key > mark, true()
    if cursor.due_at is None:
        return task.due_at.is_not(None), task.id < cursor.id
    return key < mark, None


def parts(actor: Actor, scope: str) -> list[tuple[ColumnElement[bool], bool]]:
    """(condition, needs the case row) per part of the actor's inbox; disjoint by construction."""
    uid, dept = user_id(actor), actor.department_id
    if uid is None:
        return []
    roles = sorted(str(r) for r in actor.roles)
    named = or_(T.assignee_id == uid, T.candidate_users.contains(f",{uid},"))
    role_ok = or_(T.role.in_(roles), and_(T.role.is_(None), named)) \
        if roles else and_(T.role.is_(None), named)
    unclaimed = and_(T.assignee_id.is_(None), T.claimed_by.is_(None),
                     or_(T.candidate_users.is_(None),
                         T.candidate_users.contains(f",{uid},")))
    out: list[tuple[ColumnElement[bool], bool]] = []
    if scope in ("all", "mine"):
        out.append((and_(T.assignee_id == uid, role_ok), False))
        out.append((and_(T.claimed_by == uid, role_ok,
                         or_(T.assignee_id.is_(None), T.assignee_id != uid)), False))
    if scope in ("all", "group"):
        for role in roles:
            if dept is not None:
                out.append((and_(T.role == role, T.department_id == dept,
                                 unclaimed), False))
            out.append((and_(T.role == role, T.department_id.is_(None), unclaimed,
                             visible_cases(actor)), True))
        # a task naming the reader among its candidates makes its case visible (the policy)
        own = T.department_id == dept if dept is not None else false()
        out.append((and_(T.role.is_(None), unclaimed, T.candidate_users.contains(f",{uid},"),
                         or_(own, T.department_id.is_(None))), False))
    return out


Parts = list[tuple[ColumnElement[bool], bool]]


def page_ids(found: Parts, filters: list[ColumnElement[bool]], cursor: Cursor | None,
             forward: bool, limit: int) -> Select | CompoundSelect | None:
    """One statement: the ids and deadlines of up to ``limit`` rows beyond the cursor, read part
    by part (``parts``) in the inbox order (each part stops after ``limit`` rows). The undated
    tasks (rare) of every part are one more part (``ix_open_task_undated``): a statement of
    fewer parts plans faster."""
    if not found:
        return None
    dated, undated = _beyond(T, cursor, forward)
    selects = []
    if dated is not None:
        for condition, needs_case in found:
            selects.append(_part(select(T.id.label("id"), T.due_at.label("due_at"))
                                 .where(condition, dated), needs_case, filters)
                           .order_by(*ordered(T, forward)).limit(limit))
    if undated is not None:
        anyone = or_(*(condition for condition, _ in found))
        selects.append(_part(select(T.id.label("id"), T.due_at.label("due_at"))
                             .where(T.due_at.is_(None), anyone, undated),
                             any(needs for _, needs in found), filters)
                       .order_by(T.id.asc() if forward else T.id.desc()).limit(limit))
    pieces = [select(*s.subquery().c) for s in selects]
    return pieces[0] if len(pieces) == 1 else pieces[0].union_all(*pieces[1:])


def _part(statement: Select, needs_case: bool, filters: list[ColumnElement[bool]]) -> Select:
    if needs_case or filters:
        return statement.join(Case, Case.id == T.case_id).where(*filters)
    return statement


def bounded_count(found: Parts, filters: list[ColumnElement[bool]], bound: int) -> Select | None:
    """Counts up to ``bound + 1`` rows of each part (a sum above ``bound`` means "bound+"): the
    parts without a scope check together (their indexes OR-ed), each with one on its own."""
    plain = [condition for condition, needs_case in found if not needs_case]
    scoped = [condition for condition, needs_case in found if needs_case]
    selects = []
    if plain:
        selects.append(_part(select(T.id.label("id")).where(or_(*plain)), False, filters)
                       .limit(bound + 1))
    for condition in scoped:
        # ordered like the page: the planner then walks the part's index range and stops
        selects.append(_part(select(T.id.label("id")).where(condition), True, filters)
                       .order_by(*ordered(T, True)).limit(bound + 1))
    if not selects:
        return None
    pieces = [select(*s.subquery().c) for s in selects]
    union = pieces[0] if len(pieces) == 1 else pieces[0].union_all(*pieces[1:])
    return select(func.count()).select_from(union.subquery())
