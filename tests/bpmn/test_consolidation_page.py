"""The lead unit's consolidation step lists each co-unit by name with its own answer, whatever
the order in which the co-units answered."""

from __future__ import annotations

import pytest

from tests.bpmn.test_services_labour import C03_CO, c03  # noqa: F401
from workflows.casework.views import task_page
from workflows.library.instructions import render_instructions

RESULTS = {dept: f"{dept} 按分工完成核查" for dept in C03_CO}


@pytest.mark.parametrize("order", [C03_CO, list(reversed(C03_CO))], ids=["listed", "reversed"])
def test_each_co_unit_is_shown_with_its_own_decision_and_result(services, c03, order):  # noqa: F811
    walk = c03
    walk.do("confirm_triage", tier="district", department="RS", risk_level="orange",
            handling="labour", triage_note="维持路由")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="in_person", contact_summary="与工人代表面谈")
    walk.do("request_evidence", evidence_items="工人名册", evidence_status="received")
    for dept in order:
        if dept == "SF":       # the justice bureau returns its order; triage agrees
            walk.do("co_sign_off", dept, co_sign_off_decision="return",
                    co_return_reason="不属本单位职责", co_return_basis="职责清单第7条")
            walk.do("review_co_return", co_return_review="accept_return",
                    co_return_review_note="退单成立")
            continue
        walk.do("co_sign_off", dept, co_sign_off_decision="accept")
        walk.do("co_handle", dept, co_result=RESULTS[dept], co_result_status="done")
    task = walk.task("lead_consolidate")
    page = task_page(services.new_uow(), walk.actor_for(task), walk.case_no, task["task_id"])
    shown = {o["department_code"]: o for o in page.co_feedback}
    assert set(shown) == set(C03_CO)
    assert shown["SF"]["status"] == "returned" and shown["SF"]["return_reason"] == "不属本单位职责"
    for dept in C03_CO:
        if dept != "SF":
            assert shown[dept]["status"] == "done"
            assert shown[dept]["result_summary"] == RESULTS[dept]
            assert [d["title"] for d in shown[dept]["documents"]] == ["协办签收 / 退单记录",
                                                                       "协办办理反馈"]
    names = [o["department"] for o in page.co_feedback]
    assert names == sorted(names)            # a stable order, not the order of the answers
    shown_text = render_instructions(page.task.instructions, page.task.data)
    assert "co_decisions" not in page.task.instructions and "[" not in shown_text
