"""``jiefen demo``: reference data, users, the library and C01-C07 at realistic points."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.models import ProcessVersion
from workflows.access.policy import actor_for_user
from workflows.cases.lookup import CaseFilter, list_cases
from workflows.demo.loader import load_demo
from workflows.mediation.upcoming import upcoming_sessions
from workflows.models import Case, Department, Device, DeviceAlarm, EarlyWarning, User


def test_demo_loads_cases_at_realistic_points(committed_services, clock):
    services = committed_services
    now = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
    report = load_demo(services, now=now)
    assert {u.role for u in report.users} >= {"intake_clerk", "triage_officer", "mediator",
                                               "dept_handler", "supervisor", "leader",
                                               "process_owner", "auditor", "admin"}
    assert all(len(u.password) >= 10 for u in report.users)
    with services.session_factory() as session:
        cases = {c.summary: c for c in session.scalars(select(Case)) if c.category != "noise"}
        by_key = {line.split()[0]: line.split()[2] for line in report.cases}
        assert session.scalar(select(func.count()).select_from(Department)) >= 26
        assert all(u.password_hash.startswith("$argon2id$") for u in session.scalars(select(User)))
    assert len(cases) == 9          # the seven samples, a grid worker's report, a smoke alarm
    # the catalogue's 说明 column shows this note to the process owner
    with services.session_factory() as session:
        notes = set(session.scalars(select(ProcessVersion.note)))
    assert notes == {"演示数据初始部署"}
    channels = {c.channel for c in cases.values()}
    assert {"grid_app", "iot"} <= channels
    with services.session_factory() as session:
        alarm = session.scalars(select(DeviceAlarm)).one()
        assert (alarm.kind, alarm.count) == ("smoke", 3)
        assert session.scalar(select(func.count()).select_from(Device)) == 5
    assert by_key["C01"] == "closed" and by_key["C04"] == "closed"
    assert by_key["C02"] == "in_handling" and by_key["C06"] in ("in_handling", "triage")
    with services.session_factory() as session:
        c03 = next(c for c in session.scalars(select(Case)) if c.category == "labour_collective")
        c06 = next(c for c in session.scalars(select(Case)) if c.people_count == 23)
        assert c06.risk_level == "red"
        clerk = actor_for_user(session.scalars(select(User).where(User.username == "clerk")).one())
    overdue = [t for t in list_cases(services.new_uow(), clerk, CaseFilter(open_only=True))
               if t["deadline"] and t["deadline"] < now.isoformat()]
    assert [t["case_no"] for t in overdue] == [c03.case_no]
    assert load_demo(services, if_empty=True).skipped
    # warnings of several rules, one already confirmed by the district's supervisor
    with services.session_factory() as session:
        warnings = session.scalars(select(EarlyWarning).order_by(EarlyWarning.id)).all()
        kinds = {w.kind for w in warnings}
        states = sorted(w.state for w in warnings)
    assert {"hotspot", "large_group", "risk_rise"} <= kinds, report.warnings
    assert states.count("confirmed") == 1 and "open" in states
    # a session booked ahead with a co-mediator: both mediators find it under 调解安排
    clock.set(now)
    with services.session_factory() as session:
        for username in ("mediator", "donghu01_tj"):
            who = actor_for_user(session.scalars(select(User).where(
                User.username == username)).one())
            (booked,) = upcoming_sessions(services.new_uow(), who)
            assert booked["case_no"] == cases["楼上夜间噪声扰民"].case_no
            assert booked["starts_at"] > now
