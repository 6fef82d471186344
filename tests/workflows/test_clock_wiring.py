"""SLA clocks started and stopped by the projection, and work-order deadlines and lights that
follow the order's current step (docs/scheduler.md, "Which limits are SLA clocks")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.models import SlaClock, WorkOrder


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def clocks(walk: Walk) -> dict[str, SlaClock]:
    with walk.services.session_factory() as session:
        case = find_case(session, walk.case_no)
        return {c.kind: c for c in session.scalars(select(SlaClock)
                                                   .where(SlaClock.case_id == case.id))}


def lead_order(walk: Walk) -> WorkOrder:
    with walk.services.session_factory() as session:
        case = find_case(session, walk.case_no)
        return session.scalars(select(WorkOrder).where(WorkOrder.case_id == case.id,
                                                       WorkOrder.role == "lead")
                               .order_by(WorkOrder.round.desc())).first()


def noise(walk: Walk) -> Walk:
    walk.intake(channel="hotline_12345", category="noise", summary="夜间施工噪声",
                description="小区旁工地夜间施工噪声扰民",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678")])
    walk.do("register", category="noise", urgency="general", people_count="1",
            summary="夜间施工噪声")
    return walk


def armed(walk: Walk) -> dict:
    uow = walk.services.new_uow()
    with uow:
        case = find_case(uow.session, walk.case_no)
        return dict(uow.load_instance(case.workflow_instance_id).armed_timers())


def test_the_light_follows_the_current_step_not_the_sign_off_deadline(walk):
    noise(walk)                                                   # lead CG, co-department JD
    sign_off_due = walk.task("sign_off")["due_at"]
    assert lead_order(walk).due_at == sign_off_due == local(2025, 3, 4, 9, 0)
    walk.clock.set(local(2025, 3, 3, 10, 0))
    walk.do("sign_off", sign_off_decision="accept")
    contact_due = walk.task("contact_citizen")["due_at"]          # T-02: 2 WD from acceptance
    assert lead_order(walk).due_at == contact_due == local(2025, 3, 6, 0, 0)
    walk.until(local(2025, 3, 4, 12, 0))                          # the sign-off deadline passed
    order = lead_order(walk)
    assert (order.status, order.light) == ("accepted", "green")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    handling_due = armed(walk)["办理时限"]                        # the process's watcher
    assert lead_order(walk).due_at == handling_due == local(2025, 3, 12, 0, 0)
    walk.until(local(2025, 3, 10, 12, 0))                         # 75 % of the 7 days
    assert lead_order(walk).light == "yellow"
    walk.do("co_sign_off", "JD", co_sign_off_decision="accept")
    walk.do("co_handle", "JD", co_result="街道已协调工地", co_result_status="done")
    walk.do("lead_consolidate", joint_result="已责令停止夜间施工", joint_outcome="resolved")
    walk.do("submit_result", outcome="R2", result_summary="责令停止夜间施工")
    walk.until(local(2025, 3, 20, 12, 0))                         # long after the deadline
    order = lead_order(walk)
    assert order.status == "done" and order.due_at == handling_due   # what it was measured by
    assert order.light == "green"                                  # done on time: no open limit


def test_limits_the_process_times_itself_start_no_clock(walk):
    noise(walk)
    walk.do("sign_off", sign_off_decision="accept")               # T-01: sign_off_timeout
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")  # T-02
    assert "办理时限" in armed(walk)                               # resolution: the watcher
    walk.do("co_sign_off", "JD", co_sign_off_decision="accept")
    walk.do("co_handle", "JD", co_result="已协调", co_result_status="done")
    walk.do("lead_consolidate", joint_result="已处理", joint_outcome="resolved")
    walk.do("submit_result", outcome="R2", result_summary="已处理")
    walk.do("review_result", review_decision="approve")
    assert "评价期满" in armed(walk)                               # T-52: rating_timeout
    assert clocks(walk) == {}


def neighbour(walk: Walk) -> Walk:
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="卫生间长期渗漏至楼下……",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678"),
                         PartyInput(name="陈立伟", role="respondent", id_number=IDS["陈立伟"],
                                    phone="13912345678")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    return walk


def test_mediation_runs_a_resolution_clock_from_the_start_of_handling_to_its_end(walk):
    neighbour(walk)                                               # lead JDTJ, mediation
    walk.do("sign_off", sign_off_decision="accept")
    assert clocks(walk) == {}
    walk.clock.set(local(2025, 3, 4, 10, 0))
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系双方")
    clock = clocks(walk)["resolution"]
    assert clock.policy == "statutory_months(1)"                  # routing's handling_deadline
    assert clock.started_at == local(2025, 3, 4, 10, 0) and clock.stopped_at is None
    assert clock.due_at == local(2025, 4, 8, 0, 0)    # 1 month: 04-04 is 清明 -> end of 04-07
    assert "办理时限" not in armed(walk)                           # no watcher on mediation
    assert lead_order(walk).due_at == clock.due_at
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")
    walk.do("co_handle", "WY", co_result="物业已查明原因", co_result_status="done")
    walk.do("lead_consolidate", joint_result="物业已查明", joint_outcome="partly_resolved")
    walk.do("confirm_consent", consent="refused", consent_note="陈立伟拒绝调解")
    walk.clock.set(local(2025, 3, 6, 15, 0))
    walk.do("refusal_notice", actor=walk.user("mediator", "JDTJ"),
            legal_route_notice="可向人民法院起诉")                # mediation (handling) ends
    clock = clocks(walk)["resolution"]
    assert clock.stopped_at == local(2025, 3, 6, 15, 0) and clock.breached_at is None
    assert "submit_result" in walk.ids()


def test_a_step_without_a_process_timer_gets_a_clock_while_it_runs(walk):
    """A process version that does not time the sign-off: the response clock (T-01) runs from
    the task's arrival and stops when the task is done."""
    from dataclasses import replace

    from workflows.deadlines.clock_sync import sync_clocks

    noise(walk)
    uow = walk.services.new_uow()
    with uow:
        case = find_case(uow.session, walk.case_no)
        inst = uow.load_instance(case.workflow_instance_id)
        ready = [replace(t, timers=[]) for t in inst.ready_tasks()]   # no boundary timers
        sync_clocks(uow, case, inst, ready, inst.latest_data())
        clock = uow.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id)).one()
        assert (clock.kind, clock.policy) == ("response", "PT24H")
        assert clock.started_at == local(2025, 3, 3, 9, 0)       # the task's arrival
        assert clock.due_at == local(2025, 3, 4, 9, 0)
        walk.clock.set(local(2025, 3, 3, 11, 0))
        sync_clocks(uow, case, inst, [], inst.latest_data())      # the sign-off is done
        assert clock.stopped_at == local(2025, 3, 3, 11, 0)
