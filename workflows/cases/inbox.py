"""The inbox: open tasks the actor can act on, filtered, sorted and paginated in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased

from workflows.access.policy import user_id, visible_cases
from workflows.cases import inbox_keyset as keyset
from workflows.cases.inbox_keyset import Cursor
from workflows.core.actors import Actor
from workflows.models import Case, Department, OpenTask, WorkOrder
from workflows.runtime.unit_of_work import UnitOfWork

# The policy's scope clause has correlated subqueries on these tables; aliases keep them apart.
T = aliased(OpenTask, name="inbox_task")
R = aliased(OpenTask, name="inbox_row")      # the page's rows, read by id from the keyset parts
W = aliased(WorkOrder, name="inbox_order")
D = aliased(Department, name="inbox_department")
SORTS: dict[str, tuple[Any, ...]] = {  # allow-list (no SQL from a parameter): name -> ORDER BY columns
    "due": (T.due_at.asc().nulls_last(), T.id),   # ix_open_task_role_due_at_id
    "ready": (T.ready_at.desc(), T.id),
    "risk": (sql_case({"red": 0, "orange": 1, "yellow": 2, "blue": 3, "green": 4},
                      value=Case.risk_level, else_=5), T.due_at, T.id),
    "case": (Case.case_no, T.id),
}
SCOPES = ("all", "mine", "group")
PER_PAGE = 20
COUNT_BOUND, PAGES_AHEAD = 1000, 10
KEYSET_BOUND = 200  # the default order counts ten pages at most ("共 200+ 条")
WARN_SHARE = 0.75  # yellow light at 75 % of the period


@dataclass
class InboxQuery:
    """Filters chosen on the inbox page; every value is checked against an allow-list."""

    scope: str = "all"
    category: str | None = None
    tier: str | None = None
    risk_level: str | None = None
    sort: str = "due"
    page: int = 1             # shown; with a cursor it only numbers the page
    per_page: int = PER_PAGE
    after: str | None = None  # the default order pages by keyset: rows after this cursor
    before: str | None = None  # ... or the page before it (the previous page)


@dataclass
class InboxPage:
    """One page of inbox rows plus the counts the template needs for pagination."""

    rows: list[dict] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE
    exact: bool = True      # False: at least ``total`` tasks (the count stopped there)
    keyset: bool = False    # paged by cursor: next / previous links instead of numbers
    next_after: str | None = None
    prev_before: str | None = None

    @property
    def pages(self) -> int:
        """Pages known to exist; one more when the count stopped at its bound."""
        return max(1, -(-self.total // self.per_page) + (0 if self.exact else 1))


def inbox(uow: UnitOfWork, actor: Actor, query: InboxQuery | None = None) -> InboxPage:
    """Open tasks for the actor's roles: assigned to or claimed by them, or their group's."""
    query = _checked(query or InboxQuery())
    # no role check: the query itself is scoped to the actor's roles and visible cases, so
    # roles without tasks (auditor, process owner, admin) simply see an empty inbox
    with uow:
        if query.sort == "due":
            return _by_keyset(uow, actor, query)
        where = _where(actor, query)
        # counted up to a bound (ten pages past this one, at least COUNT_BOUND): a triage
        # group of tens of thousands of tasks needs "1,000+", not a visit to every case
        bound = max(COUNT_BOUND, (query.page + PAGES_AHEAD) * query.per_page)
        found = int(uow.session.scalar(select(func.count()).select_from(
            select(T.id).join(Case, Case.id == T.case_id).where(where).limit(bound + 1)
            .subquery())) or 0)
        total, exact = (bound, False) if found > bound else (found, True)
        statement = (select(T, Case, W.light, D.name)
                     .join(Case, Case.id == T.case_id)
                     .outerjoin(W, W.id == T.work_order_id)
                     .outerjoin(D, D.id == T.department_id)
                     .where(where).order_by(*SORTS[query.sort])
                     .limit(query.per_page).offset((query.page - 1) * query.per_page))
        now = uow.clock.now()
        rows = [_row(task, case, light, dept, actor, now)
                for task, case, light, dept in uow.session.execute(statement)]
    return InboxPage(rows, total, query.page, query.per_page, exact)


def _by_keyset(uow: UnitOfWork, actor: Actor, query: InboxQuery) -> InboxPage:
    """The default order: two statements (a bounded count, the page) whatever the depth."""
    filters, parts = _filters(query), keyset.parts(actor, query.scope)
    counted = keyset.bounded_count(parts, filters, KEYSET_BOUND)
    found = int(uow.session.scalar(counted) or 0) if counted is not None else 0
    total, exact = (KEYSET_BOUND, False) if found > KEYSET_BOUND else (found, True)
    cursor = Cursor.parse(query.before) or Cursor.parse(query.after)
    forward = cursor is None or Cursor.parse(query.before) is None
    # without a cursor, page n (a link from before keyset paging) skips n - 1 pages
    skip = 0 if cursor is not None else (query.page - 1) * query.per_page
    found_rows = _keyset_rows(uow, parts, query, filters, cursor, forward, skip)
    if not found_rows and cursor is not None:   # the rows beyond it were done meanwhile
        cursor, forward, query.page = None, True, 1
        found_rows = _keyset_rows(uow, parts, query, filters, None, True, 0)
    more = len(found_rows) > query.per_page
    found_rows = found_rows[:query.per_page]
    if not forward:
        found_rows.reverse()
    now = uow.clock.now()
    rows = [_row(task, case, light, dept, actor, now) for task, case, light, dept in found_rows]
    page = InboxPage(rows, total, query.page, query.per_page, exact, keyset=True)
    if found_rows:
        first, last = found_rows[0][0], found_rows[-1][0]
        if more or not forward:
            page.next_after = Cursor(last.due_at, last.id).text()
        if (not forward and more) or (forward and (cursor is not None or skip)):
            page.prev_before = Cursor(first.due_at, first.id).text()
    return page


def _keyset_rows(uow: UnitOfWork, parts: keyset.Parts, query: InboxQuery, filters: list,
                 cursor: Cursor | None, forward: bool, skip: int) -> list:
    ids = keyset.page_ids(parts, filters, cursor, forward, skip + query.per_page + 1)
    if ids is None:
        return []
    found = ids.subquery()
    statement = (select(R, Case, W.light, D.name)
                 .join(found, found.c.id == R.id)
                 .join(Case, Case.id == R.case_id)
                 .outerjoin(W, W.id == R.work_order_id)
                 .outerjoin(D, D.id == R.department_id)
                 .order_by(*keyset.ordered(R, forward))
                 .limit(query.per_page + 1).offset(skip))
    return list(uow.session.execute(statement))


def _filters(query: InboxQuery) -> list:
    return [column == value for column, value in ((Case.category, query.category),
                                                  (Case.tier, query.tier),
                                                  (Case.risk_level, query.risk_level)) if value]


def _checked(query: InboxQuery) -> InboxQuery:
    query.scope = query.scope if query.scope in SCOPES else "all"
    query.sort = query.sort if query.sort in SORTS else "due"
    query.page = max(1, query.page)
    query.per_page = min(max(1, query.per_page), 100)
    return query


def _where(actor: Actor, query: InboxQuery):
    uid = user_id(actor)
    mine = or_(T.assignee_id == uid, T.claimed_by == uid)
    group = and_(T.assignee_id.is_(None), T.claimed_by.is_(None),
                 or_(T.department_id == actor.department_id,
                     T.department_id.is_(None)),
                 or_(T.candidate_users.is_(None), T.candidate_users.contains(f",{uid},")))
    scope = {"mine": mine, "group": group}.get(query.scope, or_(mine, group))
    named = or_(T.assignee_id == uid, T.candidate_users.contains(f",{uid},"))
    role = or_(T.role.in_([str(r) for r in actor.roles]), and_(T.role.is_(None), named))
    return and_(role, scope, visible_cases(actor), *_filters(query))


def timeliness(ready_at: datetime | None, due_at: datetime | None, now: datetime,
               stored: str | None = None) -> str | None:
    """green / yellow (75 % elapsed) / orange (overdue); a work order's red light wins."""
    if stored == "red":
        return "red"
    if due_at is None:
        return stored
    if now >= due_at:
        return "orange"
    if ready_at is not None and due_at > ready_at:
        share = (now - ready_at) / (due_at - ready_at)
        if share >= WARN_SHARE:
            return "yellow"
    return stored if stored in ("yellow", "orange") else "green"


def _row(task: OpenTask, case: Case, light: str | None, dept: str | None, actor: Actor,
         now: datetime) -> dict:
    uid = user_id(actor)
    return {
        "task_id": task.task_id, "bpmn_id": task.bpmn_id, "name": task.name, "role": task.role,
        "department": dept, "due_at": task.due_at, "ready_at": task.ready_at,
        "light": timeliness(task.ready_at, task.due_at, now, light),
        "claimed_by_me": task.claimed_by == uid and uid is not None,
        "claimable": task.claimed_by is None and task.assignee_id is None,
        "assigned_to_me": task.assignee_id == uid and uid is not None,
        "case_no": case.case_no, "category": case.category, "tier": case.tier,
        "risk_level": case.risk_level, "urgency": case.urgency, "summary": case.summary,
        "status": case.status,
    }
