"""Test data builders: departments, users with roles, cases started through the intake service."""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import select

from workflows.access.policy import actor_for_user
from workflows.core.actors import SYSTEM, Actor
from workflows.models import Department, Role, User, UserRole
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle, read_directory

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
_counter = itertools.count(1)

# Valid (GB 11643 check digit) fictional resident ID numbers for the sample parties.
IDS = {
    "刘淑芬": "110101196203150020", "陈立伟": "110101198507200030", "马德顺": "510102197803040015",
    "韦春生": "450102198001010015", "杨光荣": "520102198211110039", "郑雅琪": "440301199405060024",
    "孙永福": "320102195809090019", "罗建平": "32010219671212001X", "周海燕": "310101196306060025",
}


def seed(services) -> None:
    """Roles and the default departments, committed."""
    uow = services.new_uow()
    with uow:
        seed_reference_data(uow.session)
        uow.commit()


def department(session, code: str) -> Department:
    return session.scalars(select(Department).where(Department.code == code)).one()


def make_department(services, code: str, name: str = "", tier: str = "district") -> int:
    uow = services.new_uow()
    with uow:
        dept = Department(code=code, name=name or code, tier=tier, responsibilities=[])
        uow.session.add(dept)
        uow.session.flush()
        ident = dept.id
        uow.commit()
    return ident


def make_user(services, roles: str | list[str], department_code: str | None = None,
              username: str | None = None) -> Actor:
    """A user holding ``roles`` in ``department_code``; returns the Actor services take."""
    roles = [roles] if isinstance(roles, str) else roles
    username = username or f"u{next(_counter)}_{roles[0]}"
    uow = services.new_uow()
    with uow:
        session = uow.session
        dept = department(session, department_code) if department_code else None
        user = User(username=username, display_name=username, password_hash="x",
                    department_id=dept.id if dept else None)
        session.add(user)
        session.flush()
        for code in roles:
            role = session.scalars(select(Role).where(Role.code == code)).one()
            session.add(UserRole(user_id=user.id, role_id=role.id,
                                 department_id=dept.id if dept else None))
        session.flush()
        session.refresh(user)
        actor = actor_for_user(user)
        uow.commit()
    return actor


def deploy_library(services) -> None:
    """Deploy the shipped bpmn/ library."""
    deploy_bundle(services.new_uow(), SYSTEM, read_directory(BPMN_DIR))


def deploy_files(services, files: dict[str, bytes]) -> None:
    deploy_bundle(services.new_uow(), SYSTEM, files)


# -- walking cases through the services ---------------------------------------------------------
class Walk:
    """Drive one case through the real services (intake, complete_task, timers) as its users."""

    def __init__(self, services, clock):

        self.services, self.clock = services, clock
        self.users: dict[tuple, Actor] = {}
        self.case_no: str | None = None

    @classmethod
    def ready(cls, services, clock) -> Walk:
        """Reference data and the shipped library deployed."""
        seed(services)
        deploy_library(services)
        return cls(services, clock)

    def user(self, role: str, dept: str | None = None) -> Actor:
        key = (role, dept)
        if key not in self.users:
            self.users[key] = make_user(self.services, role, dept)
        return self.users[key]

    def intake(self, *, clerk_dept: str = "ZZ", **fields) -> str:
        from workflows.intake.register import IntakeRequest, submit_intake

        outcome = submit_intake(self.services.new_uow(), self.user("intake_clerk", clerk_dept),
                                IntakeRequest(**fields))
        self.case_no = outcome.case_no
        return outcome.case_no

    def open(self) -> list[dict]:
        """The open tasks of the case (projection rows) with department codes."""
        from workflows.cases.lookup import find_case
        from workflows.models import OpenTask

        uow = self.services.new_uow()
        with uow:
            case = find_case(uow.session, self.case_no)
            codes = {d.id: d.code for d in uow.session.scalars(select(Department))}
            rows = uow.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)
                                       .order_by(OpenTask.id))
            return [{"bpmn_id": r.bpmn_id, "task_id": r.task_id, "role": r.role,
                     "dept": codes.get(r.department_id), "assignee_id": r.assignee_id,
                     "due_at": r.due_at, "lane": r.lane} for r in rows]

    def ids(self) -> list[str]:
        return sorted(t["bpmn_id"] for t in self.open())

    def task(self, bpmn_id: str, dept: str | None = None) -> dict:
        found = [t for t in self.open() if t["bpmn_id"] == bpmn_id
                 and (dept is None or t["dept"] == dept or t.get("mi_dept") == dept)]
        if not found and dept is not None:
            found = [t for t in self.open() if t["bpmn_id"] == bpmn_id
                     and self._mi_dept(t["task_id"]) == dept]
        assert found, f"{bpmn_id} ({dept}) not open; open: {self.ids()}"
        return found[0]

    def _mi_dept(self, task_id: str) -> str | None:
        from workflows.cases.lookup import find_case

        uow = self.services.new_uow()
        with uow:
            case = find_case(uow.session, self.case_no)
            inst = uow.load_instance(case.workflow_instance_id)
            view = next((t for t in inst.ready_tasks() if t.id == task_id), None)
            return view.data.get("dept") if view else None

    def actor_for(self, task: dict) -> Actor:
        if task["assignee_id"] is not None:
            return next(a for a in self.users.values() if a.id == str(task["assignee_id"]))
        dept = task["dept"] or {"triage_officer": "ZZ", "supervisor": "ZZ", "leader": "ZZ",
                                "intake_clerk": "ZZ"}.get(task["role"])
        return self.user(task["role"], dept)

    def do(self, bpmn_id: str, dept: str | None = None, actor: Actor | None = None, **form):
        """Complete the open task ``bpmn_id`` (of ``dept``) as its natural user."""
        from workflows.casework.tasks import complete_task

        task = self.task(bpmn_id, dept)
        return complete_task(self.services.new_uow(), actor or self.actor_for(task),
                             case_no=self.case_no, task_id=task["task_id"], raw=form)

    def schedule(self, mode: str = "online", *, room: str = "", days: int = 1,
                 start: str = "09:00", end: str = "10:30", link: str = "https://meet.example.cn/j/1"):
        """Book the next mediation session (``schedule_session``) ``days`` after today."""
        from datetime import timedelta

        from engine.deadlines import SHANGHAI

        day = (self.clock.now().astimezone(SHANGHAI) + timedelta(days=days)).date().isoformat()
        return self.do("schedule_session", session_mode=mode, room_code=room, session_date=day,
                       session_start=start, session_end=end,
                       meeting_link=link if mode == "online" else "")

    def session(self, record: str, next_step: str, *, mode: str = "online", room: str = "",
                applicant: str = "in_person", respondent: str = "online"):
        """One mediation session: booked, both sides attend, the record says what follows."""
        self.schedule(mode, room=room)
        self.attend(applicant_attendance=applicant, respondent_attendance=respondent)
        return self.do("mediation_session", session_record=record, session_next=next_step)

    def attend(self, **data):
        """Record who took part in the booked session once it has begun: the clock moves to
        the session's start first when that lies ahead (attendance is refused before it)."""
        from workflows.models import Case, MediationSession

        with self.services.session_factory() as session:
            starts = session.scalar(
                select(MediationSession.starts_at).join(Case, Case.id == MediationSession.case_id)
                .where(Case.case_no == self.case_no, MediationSession.status == "booked")
                .order_by(MediationSession.id.desc()).limit(1))
        if starts is not None and self.clock.now() < starts:
            self.clock.set(starts)
        return self.do("record_attendance", **data)

    def advance(self, **delta) -> list[str]:
        """Move the clock and fire the case's due timers (what the scheduler sweep does)."""
        from workflows.casework.steps import fire_due_timers

        self.clock.advance(**delta)
        return fire_due_timers(self.services, self.case_no)

    def until(self, moment) -> list[str]:
        from workflows.casework.steps import fire_due_timers

        self.clock.set(moment)
        return fire_due_timers(self.services, self.case_no)

    def summary(self) -> dict:
        from workflows.cases.lookup import case_summary, find_case

        with self.services.session_factory() as session:
            return case_summary(session, find_case(session, self.case_no))

    def orders(self) -> list[tuple]:
        from workflows.cases.lookup import find_case
        from workflows.models import WorkOrder

        with self.services.session_factory() as session:
            case = find_case(session, self.case_no)
            codes = {d.id: d.code for d in session.scalars(select(Department))}
            rows = session.scalars(select(WorkOrder).where(WorkOrder.case_id == case.id)
                                   .order_by(WorkOrder.id))
            return [(codes[o.department_id], o.role, o.round, o.status) for o in rows]

    def data(self) -> dict:
        """The case's current workflow data (what the last completed step left)."""
        from workflows.cases.lookup import find_case

        uow = self.services.new_uow()
        with uow:
            case = find_case(uow.session, self.case_no)
            return dict(uow.load_instance(case.workflow_instance_id).latest_data())

    def replays(self) -> str:
        """Verified re-execution of the case from its audit chain (``jiefen replay --verify``)."""
        from workflows.replay.case_replay import replay_case

        return replay_case(self.services, self.case_no, record=False).summary()
