"""Drive a case through the unit of work and record its inputs the way case services must (docs/audit.md).

Used by the replay, export, audit-view and audit-page tests until the case services exist.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from tests.conftest import fixture_bytes
from workflows.audit.inputs import input_payload
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.models import Case
from workflows.processes.deploy import deploy_bundle

MEDIATOR = Actor(type="user", id="7", username="mediator1", roles=frozenset({"mediator"}),
                 department_id=3, department_code="dh_street")
DEPLOYER = Actor(type="system", id="test", username="test")
JOINT_DATA = {"co_departments": ["hrss", "housing", "court"]}


def deploy(services, *names: str) -> dict:
    """Deploy fixture files; returns {process_id: ProcessVersion}."""
    versions = deploy_bundle(services.new_uow(), DEPLOYER, fixture_bytes(*names))
    return {v.process_id: v for v in versions}


def deploy_bytes(services, name: str, replace: dict[str, str]) -> dict:
    """Deploy a changed copy of a fixture (a new version of the same process)."""
    text_ = fixture_bytes(name)[name].decode("utf-8")
    for old, new in replace.items():
        text_ = text_.replace(old, new)
    versions = deploy_bundle(services.new_uow(), DEPLOYER, {name: text_.encode("utf-8")})
    return {v.process_id: v for v in versions}


class CaseDriver:
    """One case: every engine step in its own unit of work, each followed by its input event."""

    def __init__(self, services, case_no: str, process_id: str, data: dict | None = None):
        self.services, self.case_no, self.process_id = services, case_no, process_id
        self.data = dict(data or {})
        self.case_id: int | None = None
        self.instance_id: int | None = None

    @property
    def clock(self):
        return self.services.clock

    def open(self, actor: Actor = MEDIATOR) -> CaseDriver:
        with self.services.new_uow() as uow:
            case = Case(case_no=self.case_no, channel="counter", summary="测试案件")
            uow.session.add(case)
            uow.session.flush()
            data = {**self.data, "case_no": self.case_no}
            row, inst = uow.start_instance(self.process_id, data=data, actor=actor, case=case)
            case.workflow_instance_id = row.id
            uow.audit.record(AuditAction.CASE_OPENED, actor, case=case, object_type="case",
                             object_id=case.id, **input_payload(
                                 inst, process_version_id=row.process_version_id,
                                 process_id=self.process_id, initial_data=data))
            uow.commit()
            self.case_id, self.instance_id = case.id, row.id
        return self

    def complete(self, bpmn_id: str, submitted: dict, index: int | None = None,
                 actor: Actor = MEDIATOR) -> None:
        with self.services.new_uow() as uow:
            inst = uow.load_instance(self.instance_id)
            view = inst.find_ready(bpmn_id, index)
            with uow.recording(inst, actor, case=self.case_id):
                inst.complete(view.id, submitted)
            uow.audit.record(AuditAction.TASK_COMPLETED, actor, case=self.case_id, object_type="task",
                             object_id=view.id, **input_payload(
                                 inst, bpmn_id=bpmn_id, instance_index=view.instance_index,
                                 process_id=view.process_id, task_name=view.name,
                                 submitted=submitted))
            uow.commit()

    def fire_timers(self) -> None:
        from workflows.core.actors import SCHEDULER

        with self.services.new_uow() as uow:
            inst = uow.load_instance(self.instance_id)
            due = [name for name, at in inst.armed_timers() if at <= self.clock.now()]
            with uow.recording(inst, SCHEDULER, case=self.case_id):
                inst.fire_timers()
            uow.audit.record(AuditAction.TIMER_FIRED, SCHEDULER, case=self.case_id,
                             object_type="workflow_instance", object_id=self.instance_id,
                             **input_payload(inst, fired_at=self.clock.now().isoformat(),
                                             timers=due))
            uow.commit()

    def message(self, name: str, payload: dict) -> None:
        actor = Actor(type="api", id="token-1", username="hotline", channel="hotline_12345")
        with self.services.new_uow() as uow:
            inst = uow.load_instance(self.instance_id)
            with uow.recording(inst, actor, case=self.case_id):
                inst.deliver_message(name, payload)
            uow.audit.record(AuditAction.MESSAGE_RECEIVED, actor, case=self.case_id,
                             object_type="message", object_id=name,
                             **input_payload(inst, name=name, payload=payload))
            uow.commit()

    def migrate(self, version, actor: Actor = MEDIATOR) -> None:
        """What workflows.processes.case_migration.migrate_case does, with the input payload of the contract."""
        from engine.migration import migrate, plan_migration
        from engine.models import InstanceRow

        with self.services.new_uow() as uow:
            inst = uow.load_instance(self.instance_id)
            row = uow.session.get(InstanceRow, self.instance_id)
            bundle = self.services.specs.bundle(str(version.id))
            plan = plan_migration(inst, self.services.serializer.registry,
                                  bundle.spec(self.process_id), bundle.subprocess_specs(self.process_id))
            with uow.recording(inst, actor, case=self.case_id):
                migrate(inst, plan, f"{version.id}:{self.process_id}")
                inst.advance()
            source, row.process_version_id = row.process_version_id, version.id
            uow.audit.record(AuditAction.INSTANCE_MIGRATED, actor, case=self.case_id,
                             object_type="workflow_instance", object_id=self.instance_id,
                             **input_payload(inst, reason="测试迁移", reset_mask="READY",
                                             **{"from": {"version_id": source},
                                                "to": {"version_id": version.id}}))
            uow.commit()

    def set_data(self, action: str = AuditAction.RISK_CHANGED, **values) -> None:
        """Workflow-level data written outside an engine step (e.g. the risk colour)."""
        with self.services.new_uow() as uow:
            inst = uow.load_instance(self.instance_id)
            inst.set_data(**values)
            uow.audit.record(action, MEDIATOR, case=self.case_id, object_type="case",
                             object_id=self.case_id, **input_payload(inst, set_data=values))
            uow.commit()

    def advance(self, **kwargs) -> None:
        self.clock.advance(timedelta(**kwargs))


def run_joint_case(services, case_no: str = "TEST-J-001", *, escalate: bool = True) -> CaseDriver:
    """joint_case through triage, three co-department opinions, escalation, a reply and closure."""
    driver = CaseDriver(services, case_no, "joint_case", JOINT_DATA).open()
    driver.advance(minutes=20)
    driver.complete("triage", {"amount": 386000})
    for index in (2, 0, 1):
        driver.advance(minutes=30)
        driver.complete("co_handle", {"opinion": f"意见{index}"}, index=index)
    if escalate:
        driver.advance(hours=4)
        driver.fire_timers()
        driver.advance(minutes=10)
        driver.complete("escalate", {"lead_result": "督办完成"})
    else:
        driver.complete("lead_handle", {"lead_result": "已办结"})
    driver.advance(hours=1)
    driver.message("party_reply", {"accepted": True})
    driver.complete("close", {"outcome": "resolved"})
    return driver


def drop_audit_triggers(services) -> None:
    """Inside the test transaction only: let the test tamper with audit_event like a superuser."""
    conn = services.db  # the test's connection: the outer rollback restores the triggers
    if conn.dialect.name == "sqlite":
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger' "
                                  "AND tbl_name='audit_event'")).scalars().all()
        for name in names:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
    else:
        conn.execute(text("SET session_replication_role = replica"))
