"""The inbox: open tasks the actor can act on, filtered, sorted and paginated in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased

from workflows.access.policy import user_id, visible_cases
from workflows.core.actors import Actor
from workflows.models import Case, Department, OpenTask, WorkOrder
from workflows.runtime.unit_of_work import UnitOfWork

# The policy's scope clause has correlated subqueries on these tables; aliases keep them apart.
T = aliased(OpenTask, name="inbox_task")
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
WARN_SHARE = 0.75  # yellow light at 75 % of the period


@dataclass
class InboxQuery:
    """Filters chosen on the inbox page; every value is checked against an allow-list."""

    scope: str = "all"
    category: str | None = None
    tier: str | None = None
    risk_level: str | None = None
    sort: str = "due"
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class InboxPage:
    """One page of inbox rows plus the counts the template needs for pagination."""

    rows: list[dict] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE
    exact: bool = True      # False: at least ``total`` tasks (the count stopped there)

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
    clauses = [role, scope, visible_cases(actor)]
    for column, value in ((Case.category, query.category), (Case.tier, query.tier),
                          (Case.risk_level, query.risk_level)):
        if value:
            clauses.append(column == value)
    return and_(*clauses)


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
