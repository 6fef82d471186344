"""joint_dispatch / department_order: one order per co-department, own deadline, return, consolidation."""

from __future__ import annotations

from tests.bpmn.helpers import Driver, co_orders_done, contact, days, local, register, sign_off


def public_order_case() -> Driver:
    """高空抛物: 派出所 (GA) leads, 物业 (WY) and 社区 (SQ) co-operate."""
    d = Driver(category="public_order")
    register(d, category="public_order", summary="楼上高空抛物")
    sign_off(d)
    contact(d)
    return d


def test_each_co_department_gets_its_own_order_and_deadline():
    d = public_order_case()
    orders = {v.data["dept"]: v for v in d.tasks("co_sign_off")}
    assert set(orders) == {"WY", "SQ"}
    assert all(v.process_id == "department_order" for v in orders.values())
    assert all(v.due_at is not None for v in orders.values())


def test_return_accepted_by_triage_and_lead_consolidates_the_rest():
    d = public_order_case()
    d.complete("co_sign_off", "WY", co_sign_off_decision="return", co_return_reason="非物业服务范围",
               co_return_basis="物业服务合同")
    assert d.task("review_co_return").data["dept"] == "WY"
    d.complete("review_co_return", co_return_review="accept_return", co_return_review_note="退单成立")
    d.complete("co_sign_off", "SQ", co_sign_off_decision="accept")
    d.complete("co_handle", "SQ", co_result="已入户走访", co_result_status="done")
    view = d.task("lead_consolidate")
    assert view.data["co_decisions"] == ["return", "accept"]
    assert view.data["department"] == "GA"
    d.complete("lead_consolidate", joint_result="已查明抛物住户并教育", joint_outcome="resolved")
    assert d.ready() == ["submit_result"]
    data = d.data("submit_result")
    assert data["joint_outcome"] == "resolved" and "co_decisions" not in data and "dept" not in data


def test_orders_finished_after_a_restart_still_reach_the_lead():
    """The co-orders were dispatched before the server restarted and finished after it (a return
    accepted, the others done): each result reaches co_decisions and the lead consolidates, as
    it does when everything runs in one process. Before, the orders' results were merged only
    where the orders had been created: after a restart none was, and the case stopped with no
    open task and no timer."""
    d = Driver(at=local(2025, 7, 4, 8, 40), category="property_collective", people_count=62)
    register(d, category="property_collective", people_count="62", summary="两部电梯停运两周")
    sign_off(d)
    contact(d)
    d.complete("co_sign_off", "SJ", co_sign_off_decision="accept")
    d.complete("co_handle", "SJ", co_result="已检验电梯", co_result_status="done")
    d.restart()
    d.complete("co_sign_off", "JD", co_sign_off_decision="return", co_return_reason="非街道职责",
               co_return_basis="职责清单")
    d.complete("review_co_return", co_return_review="accept_return", co_return_review_note="成立")
    d.complete("co_sign_off", "SQTJ", co_sign_off_decision="accept")
    d.complete("co_handle", "SQTJ", co_result="已组织业主协商", co_result_status="done")
    assert d.ready() == ["lead_consolidate"]
    assert d.task("lead_consolidate").data["co_decisions"] == ["accept", "return", "accept"]


def test_rejected_return_goes_back_to_the_same_department():
    d = public_order_case()
    d.complete("co_sign_off", "WY", co_sign_off_decision="return", co_return_reason="不归我管")
    d.complete("review_co_return", co_return_review="reject_return", co_return_review_note="属物业管理职责")
    assert {v.data["dept"] for v in d.tasks("co_sign_off")} == {"WY", "SQ"}


def test_a_late_department_is_escalated_alone():
    d = public_order_case()
    d.complete("co_sign_off", "SQ", co_sign_off_decision="accept")
    d.advance(hours=18, minutes=1)
    assert [n["dept"] for n in d.notified("sign_off_reminder")] == ["WY"]
    d.advance(hours=6)
    reminders = d.notified("reminder")
    assert [(n["to"], n["dept"]) for n in reminders] == [("responsible_department", "WY")]
    again = d.task("co_sign_off", "WY")
    assert again.data["escalation_level"] == "L0"
    assert d.task("co_handle", "SQ").data.get("escalation_level") == "none"


def test_co_department_handling_overdue_is_reminded():
    d = public_order_case()
    co_orders = [v.data["dept"] for v in d.tasks("co_sign_off")]
    for dept in co_orders:
        d.complete("co_sign_off", dept, co_sign_off_decision="accept")
    d.advance(days(8))  # 7 days (statutory_days) from dispatch
    assert sorted(n["dept"] for n in d.notified("handling_overdue")) == sorted(co_orders)
    assert sorted(v.data["dept"] for v in d.tasks("co_handle")) == sorted(co_orders)


def test_collective_property_case_dispatches_jointly_before_mediation():
    """C02: 锦绣家园 elevator, 62 households, 12345 on Fri 2025-07-04 08:40."""
    d = Driver(at=local(2025, 7, 4, 8, 40), category="property_collective", people_count=62)
    register(d, category="property_collective", people_count="62", summary="两部电梯停运两周")
    view = d.task("sign_off")
    assert (view.data["tier"], view.data["department"], view.data["risk_level"]) == ("district", "ZJ", "yellow")
    assert d.timers()["签收超时"] == local(2025, 7, 5, 8, 40)
    sign_off(d)
    assert d.timers()["首次联系超时"] == local(2025, 7, 9, 0, 0), "2 working days -> Tue 07-08 24:00"
    contact(d)
    assert sorted(v.data["dept"] for v in d.tasks("co_sign_off")) == ["JD", "SJ", "SQTJ"]
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="电梯已检验，费用分摊方案待调解", joint_outcome="partly_resolved")
    assert d.ready() == ["confirm_consent"]
