"""``jiefen demo``: departments, one user per role, the process library and sample cases C01-C06.

Sample cases are registered through the intake service and advanced through ``complete_task``
under a frozen clock that walks from the past up to now, so their deadlines, audit chains and
projections are exactly what real use produces: some closed, some waiting, one overdue.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import func, select

from engine.clock import FrozenClock
from workflows.access.policy import actor_for_user
from workflows.access.sign_in import hasher
from workflows.audit.log import AuditAction
from workflows.casework.events import record_rating
from workflows.casework.steps import fire_due_timers
from workflows.casework.tasks import complete_task
from workflows.core.actors import SYSTEM, Actor
from workflows.deadlines.calendar_admin import add_override
from workflows.demo.cases import SAMPLES, Sample, Step
from workflows.intake.register import submit_intake
from workflows.models import Case, Department, OpenTask, User, UserRole
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle, read_directory
from workflows.runtime.bootstrap import Services

MAX_WAIT_DAYS = 40

# username, role, department code, display name
DEMO_USERS: tuple[tuple[str, str, str | None, str], ...] = (
    ("clerk", "intake_clerk", "ZZ", "王敏（受理员）"),
    ("triage", "triage_officer", "ZZ", "李强（分流研判员）"),
    ("mediator", "mediator", "JDTJ", "张秀兰（调解员）"),
    ("mediator_rs", "mediator", "RS", "钱进（人社局调解员）"),
    ("handler", "dept_handler", "RS", "赵刚（人社局承办人）"),
    ("supervisor", "supervisor", "ZZ", "孙丽（督办员）"),
    ("leader", "leader", "ZZ", "周建国（分管区领导）"),
    ("owner", "process_owner", None, "吴涛（流程管理员）"),
    ("auditor", "auditor", None, "郑洁（审计员）"),
    ("admin", "admin", None, "系统管理员"),
)


@dataclass
class DemoUser:
    """A created account with its one-time printed password."""

    username: str
    password: str
    role: str
    department: str | None


@dataclass
class DemoReport:
    """What ``load_demo`` did."""

    skipped: bool = False
    users: list[DemoUser] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)


def load_demo(services: Services, *, if_empty: bool = False,
              now: datetime | None = None) -> DemoReport:
    """Load the demo data set; with ``if_empty`` nothing happens when cases exist."""
    with services.session_factory() as session:
        if if_empty and session.scalar(select(func.count()).select_from(Case)):
            return DemoReport(skipped=True)
    report = DemoReport()
    _reference_data(services)
    report.users = _users(services, hasher(services.settings))
    deploy_bundle(services.new_uow(), SYSTEM, read_directory(services.settings.bpmn_dir),
                  note="demo")
    now = now or services.clock.now()
    _calendar(services, now)
    for sample in SAMPLES:
        report.cases.append(run_sample(services, sample, now))
    return report


def _reference_data(services: Services) -> None:
    uow = services.new_uow()
    with uow:
        roles, depts = seed_reference_data(uow.session)
        uow.audit.record(AuditAction.CASE_UPDATED, SYSTEM, object_type="reference_data",
                         change="demo_seeded", departments=sorted(depts), roles=sorted(roles))
        uow.commit()


def _calendar(services: Services, now: datetime) -> None:
    """One visible, withdrawable override in the future (the admin calendar page shows it); it lies
    after every sample deadline the demo computes, so the sample cases are unaffected."""


    day = (now + timedelta(days=75)).astimezone(ZoneInfo(services.settings.timezone)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    add_override(services.new_uow(), SYSTEM, day=day, kind="holiday",
                 reason="演示数据：区机关办公楼停电检修闭馆一天（可在日历管理中撤销）")


def _users(services: Services, hasher: PasswordHasher) -> list[DemoUser]:
    extra = sorted({user for sample in SAMPLES for user in sample.users})
    wanted = [(u, r, d, n) for u, r, d, n in DEMO_USERS] + [(u, r, d, u) for u, r, d in extra]
    created = []
    uow = services.new_uow()
    with uow:
        roles, depts = seed_reference_data(uow.session)
        for username, role, dept, name in wanted:
            if uow.session.scalars(select(User).where(User.username == username)).first():
                continue
            password = secrets.token_urlsafe(9) + "-7"
            user = User(username=username, display_name=name,
                        password_hash=hasher.hash(password), active=True,
                        department_id=depts[dept].id if dept else None,
                        created_at=uow.clock.now())
            uow.session.add(user)
            uow.session.flush()
            uow.session.add(UserRole(user_id=user.id, role_id=roles[role].id,
                                     department_id=user.department_id))
            uow.audit.record(AuditAction.USER_CREATED, SYSTEM, object_type="user",
                             object_id=user.id, username=username, roles=[role],
                             department=dept, source="demo")
            created.append(DemoUser(username, password, role, dept))
        uow.commit()
    return created


# -- sample cases -----------------------------------------------------------------------------------
def actor_named(services: Services, username: str) -> Actor:
    """The Actor of a demo user."""
    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return actor_for_user(user)


def run_sample(services: Services, sample: Sample, now: datetime) -> str:
    """Register one sample at its (relative) time and play its steps; returns a summary line."""
    clock = FrozenClock(now - sample.ago)
    local = replace(services, clock=clock)
    outcome = submit_intake(local.new_uow(), actor_named(local, sample.clerk), sample.request())
    case_no = outcome.case_no
    assert case_no is not None  # a saved intake always names its case
    for step in sample.steps:
        clock.advance(seconds=step.after.total_seconds())
        if clock.now() > now:
            raise RuntimeError(f"{sample.key}: step {step.task} would be in the future")
        fire_due_timers(local, case_no)
        for _ in range(MAX_WAIT_DAYS if step.wait else 0):
            if _open_row(local, case_no, step) is not None:
                break
            clock.advance(days=1)
            fire_due_timers(local, case_no)
        if clock.now() > now:
            raise RuntimeError(f"{sample.key}: step {step.task} would be in the future")
        play(local, case_no, step)
    if sample.fire_at_end:
        clock.set(now)
        fire_due_timers(local, case_no)
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        return f"{sample.key} {case.case_no} {case.status:<17} {sample.title}"


def _open_row(services: Services, case_no: str, step: Step) -> OpenTask | None:
    with services.session_factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_no == case_no))
        query = select(OpenTask).where(OpenTask.case_id == case_id,
                                       OpenTask.bpmn_id == step.task).order_by(OpenTask.id)
        if step.department is not None:
            query = query.where(OpenTask.department_id == select(Department.id).where(
                Department.code == step.department).scalar_subquery())
        row = session.scalars(query).first()
        if row is not None:
            session.expunge(row)
        return row


def play(services: Services, case_no: str, step: Step) -> None:
    """Complete the open task ``step.task`` (of ``step.department`` when several are open)."""
    actor = actor_named(services, step.user)
    today = services.clock.now().astimezone(ZoneInfo(services.settings.timezone)).date()
    data = {k: today.isoformat() if v == "@today" else v for k, v in step.data.items()}
    if step.task == "@rating":
        record_rating(services.new_uow(), actor, case_no=case_no, rating=data["rating"])
        return
    row = _open_row(services, case_no, step)
    if row is None:
        raise RuntimeError(f"{case_no}: no open task {step.task}")
    task_id = row.task_id
    complete_task(services.new_uow(), actor, case_no=case_no, task_id=task_id, raw=data)


