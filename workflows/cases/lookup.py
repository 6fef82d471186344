"""Cases: the one case code (一案一码), loading under the policy, listing and the case summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.crypto import field_aad
from engine.models import InstanceRow
from workflows.access.policy import (
    Permission,
    denials_audited,
    note_scope,
    require,
    scope_actor,
    scope_columns,
    visible_cases,
)
from workflows.audit.log import note_case_head, with_case_head
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, ErrorCode, NotFound
from workflows.district import directory_cache
from workflows.district.places import location_of
from workflows.district.units import UnitResolver
from workflows.models import (
    STATUS_LABELS,
    Case,
    CaseNumber,
    CaseStatus,
    Department,
    OpenTask,
    WorkOrder,
)
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

CODE_PREFIX = "JF"
CODE_ATTEMPTS = 8


# -- case code ----------------------------------------------------------------------------------
def allocate_case_no(session: Session, year: int) -> str:
    """Take the next free code of a year from its counter row: ``JF-<year>-<6 digits>``.

    The counter row stays locked until the caller's transaction ends, so concurrent intakes
    queue here (PostgreSQL row lock; SQLite writers are serialised anyway) and never collide on
    a number; a rollback gives the number back. A year without a row starts after the highest
    code already issued that year.

    A code can only be taken already by a row written without the counter (an import, an older
    release): the same statement that moves the counter says so, the counter moves past the
    highest code issued and the next number is taken. So the insert needs no savepoint."""
    for _ in range(CODE_ATTEMPTS):
        number, taken = _next_number(session, year)
        if not taken:
            return _code(year, number)
        session.execute(update(CaseNumber).where(CaseNumber.year == year)
                        .values(last_no=_highest(session, year))
                        .execution_options(synchronize_session=False))
    raise ConcurrentUpdate("no free case code")


def _next_number(session: Session, year: int) -> tuple[int, bool]:
    """The counter's next number and whether its code is taken, in one statement."""
    postgres = session.get_bind().dialect.name == "postgresql"
    taken = select(Case.id).where(Case.case_no == _code_sql(year, postgres)) \
        .correlate(CaseNumber).exists()
    # a Core UPDATE: the ORM's bulk-update path costs more than the statement
    table: Table = CaseNumber.__table__  # type: ignore[assignment]
    row = session.execute(
        update(table).where(table.c.year == year)
        .values(last_no=table.c.last_no + 1).returning(table.c.last_no, taken)).first()
    if row is not None:
        return row[0], bool(row[1])
    insert = pg_insert if postgres else sqlite_insert
    first = insert(CaseNumber).values(year=year, last_no=_highest(session, year) + 1)
    number = session.scalar(first.on_conflict_do_update(
        index_elements=[CaseNumber.year], set_={"last_no": CaseNumber.last_no + 1})
        .returning(CaseNumber.last_no))
    assert number is not None  # an upsert with RETURNING always yields the row
    return number, False          # past the highest code of the year: free


def _code_sql(year: int, postgres: bool) -> ColumnElement[str]:
    """``_code`` in SQL over the counter row's number (six digits at least)."""
    number = CaseNumber.last_no
    digits = sql_case((number < 1_000_000, func.lpad(cast(number, Text), 6, "0")),
                  else_=cast(number, Text)) if postgres else func.printf("%06d", number)
    return literal(f"{CODE_PREFIX}-{year}-").concat(digits)


def assign_code(session: Session, case: Case, moment: datetime, tz: str) -> str:
    """Give ``case`` (not yet inserted) a freshly allocated code of the year of ``moment``."""
    case.case_no = allocate_case_no(session, moment.astimezone(ZoneInfo(tz)).year)
    return case.case_no


def insert_with_code(session: Session, case: Case, moment: datetime, tz: str) -> Case:
    """Insert ``case`` under a freshly allocated code of the year of ``moment`` (in ``tz``)."""
    assign_code(session, case, moment, tz)
    session.add(case)
    session.flush()
    return case


def _highest(session: Session, year: int) -> int:
    prefix = f"{CODE_PREFIX}-{year}-"
    codes = session.scalars(select(Case.case_no).where(Case.case_no.like(f"{prefix}%")))
    return max((int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()), default=0)


def _code(year: int, number: int) -> str:
    return f"{CODE_PREFIX}-{year}-{number:06d}"


# -- loading under the policy -------------------------------------------------------------------
def find_case(session: Session, case_no: str) -> Case:
    """The case with this code (no policy check: internal callers only)."""
    case = session.scalars(select(Case).where(Case.case_no == case_no)).first()
    if case is None:
        raise NotFound(ErrorCode.CASE_NOT_FOUND, case_no=case_no)
    return case


def load_case(uow: UnitOfWork, actor: Actor, case_no: str,
              permission: Permission = Permission.VIEW_CASE, *, with_instance: bool = False) -> Case:
    """The case if the actor may see it: NotFound if none, Denied if out of scope (the scope is
    asked with the case, in one statement). ``with_instance``: the same statement reads the
    case's instance row too (a step, which loads it next, then asks nothing more). The directory
    stamp comes along, so the units and lane roles kept in this process need no read of it."""
    case = _load(uow, actor, _load_query(scope_actor(actor), with_instance, False),
                 {"case_no": case_no}, permission, with_instance)
    if case is None:
        raise NotFound(ErrorCode.CASE_NOT_FOUND, case_no=case_no)
    return case


def load_task_case(uow: UnitOfWork, actor: Actor, task_id: str,
                   permission: Permission = Permission.VIEW_CASE, *,
                   with_instance: bool = False) -> Case | None:
    """``load_case`` for the case of the open task ``task_id`` (API callers know only the task),
    found in the same one statement; None if no open task has this id (Denied if out of scope)."""
    return _load(uow, actor, _load_query(scope_actor(actor), with_instance, True),
                 {"task_id": task_id}, permission, with_instance)


def _load(uow: UnitOfWork, actor: Actor, query: Select, params: dict,
          permission: Permission, with_instance: bool) -> Case | None:
    row = uow.session.execute(query, params).first()
    if row is None:
        return None
    scope = scope_columns(actor)
    case = row[0]
    note_scope(uow.session, actor, case, tuple(row[1:1 + len(scope)]))
    directory_cache.note_stamp(uow.session, row[1 + len(scope)])
    note_case_head(uow.session, case.id, *row[-2:])
    if with_instance and row[-3] is not None:
        uow.keep_instance_row(row[-3])
    require(actor, permission, case, session=uow.session)
    return case


@lru_cache(maxsize=2048)
def _load_query(actor: Actor, with_instance: bool, by_task: bool) -> Select:
    # built once per user, roles and unit (like the scope it holds), the key bound at execution:
    # building it cost more than the case's read
    query = select(Case, *scope_columns(actor), directory_cache.stamp_column())
    if with_instance:
        query = query.add_columns(InstanceRow).outerjoin(
            InstanceRow, InstanceRow.id == Case.workflow_instance_id)
    if by_task:
        query = query.join(OpenTask, OpenTask.case_id == Case.id) \
            .where(OpenTask.task_id == bindparam("task_id", type_=OpenTask.task_id.type))
    else:
        query = query.where(Case.case_no == bindparam("case_no", type_=Case.case_no.type))
    return with_case_head(query)


def decrypt_narrative(services: Services, case: Case) -> str:
    """The complaint narrative (personal content): callers check VIEW_PARTIES first."""
    if not case.narrative_enc:
        return ""
    return services.cipher.decrypt(case.narrative_enc,
                                   aad=field_aad("dispute_case", "narrative_enc", case.case_no))


def encrypt_narrative(services: Services, case_no: str, text: str) -> str | None:
    """Encrypt a narrative bound to the case code (the row id does not exist before insert)."""
    if not text:
        return None
    return services.cipher.encrypt(text, aad=field_aad("dispute_case", "narrative_enc", case_no))


# -- lists --------------------------------------------------------------------------------------
@dataclass
class CaseFilter:
    """Server-side filters of the case list."""

    status: str | None = None
    category: str | None = None
    tier: str | None = None
    risk_level: str | None = None
    department_code: str | None = None
    open_only: bool = False


def list_cases(uow: UnitOfWork, actor: Actor, filters: CaseFilter | None = None, *,
               limit: int = 200, offset: int = 0) -> list[dict]:
    """Case summaries the actor may see, newest first (no personal data)."""
    filters = filters or CaseFilter()
    with denials_audited(uow.services, actor, object_type="case_list"):
        require(actor, Permission.LIST_CASES)
    with uow:
        query = select(Case).where(visible_cases(actor))
        query = _apply_filters(query, filters)
        cases = list(uow.session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc())
                                         .limit(limit).offset(offset)))
        return [case_summary(uow.session, c) for c in cases]


def _apply_filters(query, f: CaseFilter):
    for column, value in ((Case.status, f.status), (Case.category, f.category),
                          (Case.tier, f.tier), (Case.risk_level, f.risk_level)):
        if value:
            query = query.where(column == value)
    if f.open_only:
        query = query.where(Case.status != CaseStatus.CLOSED)
    if f.department_code:
        dept = select(Department.id).where(Department.code == f.department_code)
        query = query.where(Case.id.in_(select(WorkOrder.case_id)
                                        .where(WorkOrder.department_id.in_(dept))))
    return query


def case_summary(session: Session, case: Case, *, planned_co: list[str] | None = None) -> dict:
    """Plain data about a case, free of personal data (lists, CLI, API).

    ``co_departments``: departments with a co-department order, then (when ``planned_co`` codes
    from the routing are given) those routed but not dispatched yet.
    """
    depts = _departments(session, case)
    orders = session.scalars(select(WorkOrder).where(WorkOrder.case_id == case.id)
                             .order_by(WorkOrder.round, WorkOrder.id)).all()
    co = list({o.department_id: depts[o.department_id] for o in orders
               if o.role == "co" and o.department_id in depts}.values())
    if planned_co:
        known = {d["code"] for d in co}
        resolver = UnitResolver(session, case.place_path)
        planned = [resolver.id_of(code) for code in planned_co]
        rows = session.scalars(select(Department).where(
            Department.id.in_([ident for ident in planned if ident is not None])))
        co += [{"code": d.code, "name": d.name} for d in rows if d.code not in known]
    tasks = session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)
                            .order_by(OpenTask.due_at.is_(None), OpenTask.due_at)).all()
    lead = depts.get(case.lead_department_id) if case.lead_department_id else None
    return {
        "case_no": case.case_no, "status": case.status,
        "status_label": STATUS_LABELS.get(case.status, case.status), "stage": case.stage,
        "channel": case.channel, "category": case.category, "urgency": case.urgency,
        "tier": case.tier, "risk_level": case.risk_level, "people_count": case.people_count,
        "summary": case.summary, "second_complaint": case.second_complaint,
        "reopened_count": case.reopened_count, "outcome": case.outcome,
        "satisfaction": case.satisfaction,
        "lead_department": lead, "co_departments": co, "lead_unit": lead, "co_units": co,
        "location": location_of(session, case.place_id, case.place_path),
        "location_detail": case.location_detail,
        "received_late_reason": case.received_late_reason,
        "amount": float(case.amount) if case.amount is not None else None,
        "opened_at": _iso(case.opened_at), "closed_at": _iso(case.closed_at),
        "received_at": _iso(case.opened_at),
        "registered_at": _iso(case.registered_at or case.opened_at),
        "open_tasks": [{"task_id": t.task_id, "bpmn_id": t.bpmn_id, "name": t.name,
                        "role": t.role,
                        "department": depts.get(t.department_id) if t.department_id is not None else None,
                        "assignee_id": t.assignee_id, "due_at": _iso(t.due_at)} for t in tasks],
        "deadline": _iso(min((t.due_at for t in tasks if t.due_at), default=None)),
    }


def case_overview(uow: UnitOfWork, case: Case) -> dict:
    """The summary plus the routed co-departments from the workflow data (one case)."""
    data = uow.load_instance(case.workflow_instance_id).latest_data() \
        if case.workflow_instance_id else {}
    planned = data.get("co_departments")
    return case_summary(uow.session, case,
                        planned_co=[str(c) for c in planned] if isinstance(planned, list) else None)


def _departments(session: Session, case: Case) -> dict[int, dict]:
    ids = set(session.scalars(select(WorkOrder.department_id).where(WorkOrder.case_id == case.id)))
    ids |= set(session.scalars(select(OpenTask.department_id).where(OpenTask.case_id == case.id)))
    if case.lead_department_id:
        ids.add(case.lead_department_id)
    ids.discard(None)
    if not ids:
        return {}
    rows = session.scalars(select(Department).where(Department.id.in_(ids)))
    return {d.id: {"code": d.code, "name": d.name} for d in rows}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
