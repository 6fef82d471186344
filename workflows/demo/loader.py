"""``jiefen demo``: the district 临江区 (places, units, users), the process library, sample
cases C01-C06 and a few early warnings (workflows/demo/warnings.py).

Sample cases are registered through the intake service and advanced through ``complete_task``
under a frozen clock that walks from the past up to now, so their deadlines, audit chains and
projections are exactly what real use produces: some closed, some waiting, one overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import func, select

from engine.clock import FrozenClock
from workflows.access.policy import actor_for_user
from workflows.alarms.devices import import_devices, parse_devices
from workflows.alarms.receive import receive_alarm
from workflows.audit.log import AuditAction
from workflows.casework.events import record_rating
from workflows.casework.sessions import name_co_mediator
from workflows.casework.steps import fire_due_timers
from workflows.casework.tasks import complete_task
from workflows.core.actors import SYSTEM, Actor
from workflows.deadlines.calendar_admin import add_override
from workflows.demo.bulk import generate
from workflows.demo.cases import SAMPLES, Sample, Step
from workflows.demo.warnings import load_warnings
from workflows.district.units import UnitResolver
from workflows.grid.reports import GridReportInput, report_issue
from workflows.intake.register import submit_intake
from workflows.library.contract import ATTENDANCE_TASKS
from workflows.mediation.invitations import invite_expert, submit_opinion
from workflows.models import (
    Case,
    Expert,
    ExpertInvitation,
    MediationSession,
    OpenTask,
    Place,
    SessionStatus,
    User,
)
from workflows.people.departments import seed_reference_data
from workflows.people.directory_import import apply_import, parse_file
from workflows.processes.deploy import deploy_bundle, read_directory
from workflows.runtime.bootstrap import Services

MAX_WAIT_DAYS = 40
DATA = Path(__file__).resolve().parent / "data"
# places, then units at places, then users, rooms and experts in units (the imports' order)
DIRECTORY_FILES = (("places", "places.csv"), ("units", "units.csv"), ("users", "users.csv"),
                   ("rooms", "rooms.csv"), ("experts", "experts.csv"))
# The demo prints every password on the console, so its accounts are hashed with light argon2id
# parameters; the first sign-in re-hashes with the configured ones (sign_in.check_needs_rehash).
DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=7168, parallelism=1)


@dataclass
class DemoUser:
    """A created account with its one-time printed password."""

    username: str
    password: str
    role: str                 # role codes, ";" between several
    department: str | None    # unit code
    display_name: str = ""


class DemoNotEmpty(Exception):
    """The database holds cases: the demo is loaded into an empty one only."""


@dataclass
class DemoReport:
    """What ``load_demo`` did."""

    skipped: bool = False
    users: list[DemoUser] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    history: int = 0          # bulk closed cases of the past year


def load_demo(services: Services, *, if_empty: bool = False, now: datetime | None = None,
              hasher: PasswordHasher | None = None, history: int = 0) -> DemoReport:
    """Load the demo data set into a database without cases; where cases exist nothing is
    written: with ``if_empty`` it is skipped, else DemoNotEmpty.

    The district 临江区 (places, units, users) comes from the files in ``data/`` through the
    directory imports. ``hasher``: argon2 parameters for the demo passwords (default
    ``DEMO_HASHER``; tests pass cheaper ones). ``history``: that many closed cases of the past
    year written in bulk (workflows/demo/bulk.py, about a second per thousand), so the cockpit
    has trends, a ranking and hotspots to show; they have no workflow state.
    """
    with services.session_factory() as session:
        if session.scalar(select(func.count()).select_from(Case)):
            if if_empty:
                return DemoReport(skipped=True)
            # loading again would reset the demo users' passwords, then stop half way
            raise DemoNotEmpty("cases exist already")
    report = DemoReport()
    _reference_data(services)
    report.users = load_directory(services, hasher or DEMO_HASHER)
    deploy_bundle(services.new_uow(), SYSTEM, read_directory(services.settings.bpmn_dir),
                  note="演示数据初始部署")
    now = now or services.clock.now()
    _calendar(services, now)
    for sample in SAMPLES:
        report.cases.append(run_sample(services, sample, now))
    report.warnings = load_warnings(services, now, actor_named(services, "clerk"),
                                    actor_named(services, "supervisor"))
    report.cases += grid_and_alarms(services, now)
    if history:
        generate(services, history, seed=2026, workers=1, echo=lambda _line: None, history=True)
        report.history = history
    return report


def grid_and_alarms(services: Services, now: datetime) -> list[str]:
    """The sensors of 锦苑小区 and 石门村 (``data/devices.csv``), a grid worker's report from
    锦苑社区第二网格 and a smoke alarm that flapped three times: one case with a count."""
    path = DATA / "devices.csv"
    import_devices(services.new_uow(), SYSTEM, parse_devices(path.name, path.read_bytes()))
    local = replace(services, clock=FrozenClock(now - timedelta(hours=3)))
    done = report_issue(local, actor_named(local, "wangge"), GridReportInput(
        category="property_collective", summary="锦苑小区4栋电梯停运三天，老人上下楼困难",
        place_code="990102003001W02B02", where="2单元"))
    # the gateway's token is an iot token of the account iot_gateway (jiefen token create)
    gateway = replace(actor_named(local, "iot_gateway"), type="api", channel="iot")
    answer = None
    for minutes in (0, 4, 9):
        local = replace(services, clock=FrozenClock(now - timedelta(hours=2) + timedelta(minutes=minutes)))
        answer = receive_alarm(local, gateway, token_id=None, body={
            "device_id": "SD-JY3-01", "kind": "smoke", "severity": "high",
            "occurred_at": local.clock.now().isoformat(), "state": "alarm"})
    assert answer is not None
    return [f"G1 {done.case_no} 网格员赵丽上报：锦苑小区4栋电梯停运",
            f"A1 {answer.body['case_no']} 烟感报警（SD-JY3-01，{answer.body['alarm_count']} 次）"]


def _reference_data(services: Services) -> None:
    uow = services.new_uow()
    with uow:
        roles, depts = seed_reference_data(uow.session)
        uow.audit.record(AuditAction.CASE_UPDATED, SYSTEM, object_type="reference_data",
                         change="demo_seeded", departments=sorted(depts), roles=sorted(roles))
        uow.commit()


def load_directory(services: Services, hasher: PasswordHasher,
                   folder: Path = DATA) -> list[DemoUser]:
    """Import the district's places, units and users; the new users with their passwords."""
    users: list[DemoUser] = []
    for kind, name in DIRECTORY_FILES:
        path = folder / name
        rows = parse_file(kind, path.name, path.read_bytes())
        result = apply_import(services.new_uow(), SYSTEM, kind, rows, hasher=hasher)
        users += [DemoUser(p.username, p.password, ";".join(p.roles), p.unit_code,
                           p.display_name) for p in result.passwords]
    return users


def _calendar(services: Services, now: datetime) -> None:
    """One visible, withdrawable override in the future (the admin calendar page shows it); it lies
    after every sample deadline the demo computes, so the sample cases are unaffected."""


    day = (now + timedelta(days=75)).astimezone(ZoneInfo(services.settings.timezone)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    add_override(services.new_uow(), SYSTEM, day=day, kind="holiday",
                 reason="演示数据：区机关办公楼停电检修闭馆一天（可在日历管理中撤销）")


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
    outcome = submit_intake(local.new_uow(), actor_named(local, sample.clerk),
                            sample.request(place_id(local, sample.place)))
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
        if step.task in ATTENDANCE_TASKS:
            _to_session_end(local, case_no, clock)
        if clock.now() > now:
            raise RuntimeError(f"{sample.key}: step {step.task} would be in the future")
        play(local, case_no, step)
    if sample.fire_at_end:
        clock.set(now)
        fire_due_timers(local, case_no)
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        return f"{sample.key} {case.case_no} {case.status:<17} {sample.title}"


def session_step(services: Services, actor: Actor, case_no: str, task: str, data: dict) -> None:
    """The mediator names a co-mediator for the case's booked session or invites an expert of
    the pool to it, or the expert writes their opinion on their latest invitation to the case
    (looked up first, in a session closed before the service's own unit of work)."""
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        booked = session.scalars(select(MediationSession.id).where(
            MediationSession.case_id == case.id, MediationSession.status == "booked")
            .order_by(MediationSession.id.desc())).first()
    if task == "@co_mediator":
        name_co_mediator(services.new_uow(), actor, case_no=case_no, session_id=booked,
                         username=data["co_mediator"])
        return
    with services.session_factory() as session:
        expert = session.scalars(select(Expert.id).join(User, User.id == Expert.user_id).where(
            User.username == data.get("expert", actor.username))).one()
        invitation = session.scalars(select(ExpertInvitation.id).where(
            ExpertInvitation.case_id == case.id, ExpertInvitation.expert_id == expert)
            .order_by(ExpertInvitation.id.desc())).first()
    if task == "@invite_expert":
        invite_expert(services.new_uow(), actor, case_no=case_no, session_id=booked,
                      expert_id=expert, shared_note=data.get("shared_note", ""))
    else:
        submit_opinion(services.new_uow(), actor, invitation, data)


def place_id(services: Services, code: str) -> int:
    """The id of a place of the demo district by its code."""
    with services.session_factory() as session:
        return session.scalars(select(Place.id).where(Place.code == code)).one()


def _to_session_end(services: Services, case_no: str, clock: FrozenClock) -> None:
    """Attendance is recorded after the session: the clock moves to the end of the case's
    booked session when that still lies ahead (the samples' steps are spaced in days)."""
    with services.session_factory() as session:
        ends = session.scalar(
            select(MediationSession.ends_at).join(Case, Case.id == MediationSession.case_id)
            .where(Case.case_no == case_no, MediationSession.status == SessionStatus.BOOKED)
            .order_by(MediationSession.id.desc()).limit(1))
    if ends is not None and clock.now() < ends:
        clock.set(ends)
        fire_due_timers(services, case_no)


def _open_row(services: Services, case_no: str, step: Step) -> OpenTask | None:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        query = select(OpenTask).where(OpenTask.case_id == case.id,
                                       OpenTask.bpmn_id == step.task).order_by(OpenTask.id)
        if step.department is not None:   # a kind: the unit it resolves to at the case's place
            unit = UnitResolver(session, case.place_path).id_of(step.department)
            query = query.where(OpenTask.department_id == unit)
        row = session.scalars(query).first()
        if row is not None:
            session.expunge(row)
        return row


def play(services: Services, case_no: str, step: Step) -> None:
    """Complete the open task ``step.task`` (of ``step.department`` when several are open)."""
    actor = actor_named(services, step.user)
    today = services.clock.now().astimezone(ZoneInfo(services.settings.timezone)).date()
    days = {"@today": today, "@tomorrow": today + timedelta(days=1),
            "@in_2_days": today + timedelta(days=2)}
    data = {k: days[v].isoformat() if v in days else v for k, v in step.data.items()}
    if step.task == "@rating":
        record_rating(services.new_uow(), actor, case_no=case_no, rating=data["rating"])
        return
    if step.task in ("@invite_expert", "@expert_opinion", "@co_mediator"):
        session_step(services, actor, case_no, step.task, data)
        return
    row = _open_row(services, case_no, step)
    if row is None:
        raise RuntimeError(f"{case_no}: no open task {step.task}")
    task_id = row.task_id
    complete_task(services.new_uow(), actor, case_no=case_no, task_id=task_id, raw=data)


