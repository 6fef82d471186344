"""Builders for the scheduler tests: deploy fixture processes, cases with instances, work orders."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import func, select

from engine.models import AuditEvent, InstanceRow, OutboxMessage
from tests.conftest import fixture_bytes
from tests.workflows.engine_helpers import transitions
from workflows.core.actors import SYSTEM
from workflows.models import Case, Department, WorkOrder
from workflows.processes.deploy import deploy_bundle

_numbers = itertools.count(1)


class Probe:
    """The ``sched_probe`` service operation: records calls, raises while ``failing``."""

    def __init__(self):
        self.calls: list[str] = []
        self.failing = False

    def __call__(self, context, task_data, *, label: str) -> dict:
        self.calls.append(label)
        if self.failing:
            raise RuntimeError("probe failure")
        return {"label": label}


def deploy(services, *names: str, probe: Probe | None = None) -> None:
    if probe is not None:
        services.operations.register("sched_probe", probe)
    deploy_bundle(services.new_uow(), SYSTEM, fixture_bytes(*names))


def department(services, code: str = "RS") -> int:
    with services.new_uow() as uow:
        found = uow.session.scalar(select(Department.id).where(Department.code == code))
        if found is None:
            dept = Department(code=code, name=f"部门{code}", tier="district", responsibilities=[])
            uow.session.add(dept)
            uow.session.flush()
            found = dept.id
            uow.commit()
    return found


def start(services, process_id: str = "simple", *, with_case: bool = True,
          **case_fields) -> tuple[int, int | None]:
    """Start an instance (and a case bound to it); returns (instance id, case id)."""
    with services.new_uow() as uow:
        row, _ = uow.start_instance(process_id, data={"case_no": "pending"}, actor=SYSTEM)
        case_id = None
        if with_case:
            case = Case(case_no=f"JF-2025-{next(_numbers):06d}", channel="counter",
                        workflow_instance_id=row.id, opened_at=uow.clock.now(), **case_fields)
            uow.session.add(case)
            uow.session.flush()
            case_id = case.id
        uow.commit()
    return row.id, case_id


def add_order(services, case_id: int, department_id: int, *, role: str = "lead",
              dispatched_at: datetime | None = None, due_at: datetime | None = None) -> int:
    with services.new_uow() as uow:
        order = WorkOrder(case_id=case_id, department_id=department_id, round=1, role=role,
                          status="dispatched", dispatched_at=dispatched_at or uow.clock.now(),
                          due_at=due_at)
        uow.session.add(order)
        uow.session.flush()
        ident = order.id
        uow.commit()
    return ident


def ready(services, instance_id: int) -> list[str]:
    with services.new_uow() as uow:
        return sorted(t.bpmn_id for t in uow.load_instance(instance_id).ready_tasks())


def row(services, instance_id: int) -> InstanceRow:
    with services.session_factory() as session:
        return session.get(InstanceRow, instance_id)


def events(services, action: str, case_id: int | None = None) -> list[AuditEvent]:
    """Rows of ``action``; ``task_state_changed`` also from step events (one per transition)."""
    names = (action, "engine_step") if action == "task_state_changed" else (action,)
    query = select(AuditEvent).where(AuditEvent.action.in_(names))
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    with services.session_factory() as session:
        return transitions(session.scalars(query.order_by(AuditEvent.id)))


def count(services, model, *where) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def party(services, *, phone: str | None = "13800138000", preference: str = "sms") -> str:
    """A party with an encrypted phone number; returns its id."""
    from engine.crypto import field_aad
    from workflows.models import Party

    with services.new_uow() as uow:
        person = Party(contact_preference=preference, masked={"name": "张*"})
        person.name_enc = services.cipher.encrypt("张三", aad=field_aad("party", "name_enc",
                                                                       person.id))
        if phone:
            person.phone_enc = services.cipher.encrypt(
                phone, aad=field_aad("party", "phone_enc", person.id))
        uow.session.add(person)
        ident = person.id
        uow.commit()
    return ident


def case(services, **fields) -> int:
    """A case without a workflow instance (outbox, SLA clock and report tests)."""
    with services.new_uow() as uow:
        row = Case(case_no=f"JF-2025-{next(_numbers):06d}", channel="counter",
                   opened_at=fields.pop("opened_at", uow.clock.now()), **fields)
        uow.session.add(row)
        uow.session.flush()
        ident = row.id
        uow.commit()
    return ident


def user(services, username: str, *roles: str):
    """A user row (for foreign keys such as created_by) and the Actor acting as it."""
    from workflows.core.actors import Actor
    from workflows.models import User

    with services.new_uow() as uow:
        row = User(username=username, display_name=username, password_hash="x")
        uow.session.add(row)
        uow.session.flush()
        ident = row.id
        uow.commit()
    return Actor(type="user", id=str(ident), username=username, roles=frozenset(roles))


def c03_walk(services, clock):
    """C03 on the shipped library: urgent collective wage arrears dispatched to 人社 at
    Mon 2025-03-10 09:30 and never signed off (tests/bpmn/test_services_labour.py's intake)."""
    from tests.bpmn.test_services_labour import c03_request, local
    from tests.factories import Walk

    clock.set(local(2025, 3, 10, 9, 30))
    walk = Walk.ready(services, clock)
    walk.intake(**vars(c03_request()))
    walk.do("register", category="labour_collective", urgency="urgent", people_count="14",
            summary="集体欠薪，工人表示将到项目大门聚集")
    walk.do("confirm_triage", tier="district", department="RS", risk_level="orange",
            handling="labour", triage_note="群体欠薪，维持路由")
    return walk


def ladder_counts(services, case_no: str) -> dict:
    """How often each rung of the shipped ladder happened for a case."""
    import json as _json

    from workflows.models import Case as _Case

    with services.session_factory() as session:
        case_id = session.scalar(select(_Case.id).where(_Case.case_no == case_no))
        templates = list(session.scalars(select(OutboxMessage.template).where(
            OutboxMessage.case_id == case_id)))
    ready = [_json.loads(e.payload)["task"] for e in events(services, "task_state_changed",
                                                            case_id)
             if _json.loads(e.payload)["to"] == "READY"]
    fired = [(_json.loads(e.payload)["timer"], _json.loads(e.payload)["due_at"])
             for e in events(services, "timer_fired", case_id)]
    return {"reminder": templates.count("reminder"),
            "issue_supervision": ready.count("issue_supervision"),
            "upgrade_notice": templates.count("upgrade_notice"),
            "timers_fired_twice": len(fired) - len(set(fired))}
