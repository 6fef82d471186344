"""Case codes (一案一码) under concurrency, the policy's SQL scope, case list and summary."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, update

from tests.factories import IDS, department, make_user, seed
from tests.workflows.helpers import deploy_fixture
from workflows.access.policy import Permission, case_access, require, visible_cases
from workflows.cases.lookup import CaseFilter, find_case, list_cases
from workflows.cases.parties import PartyInput
from workflows.core.errors import InvalidInput, NotPermitted
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Case, CaseNumber, WorkOrder


def request(name: str = "刘淑芬", category: str = "neighbour") -> IntakeRequest:
    return IntakeRequest(channel="counter", category=category, description="事实",
                         summary="邻里漏水", parties=[PartyInput(name=name,
                                                              id_number=IDS.get(name))])


@pytest.fixture
def clerk(services):
    seed(services)
    deploy_fixture(services, "simple.bpmn")
    return make_user(services, "intake_clerk", "ZZ")


def test_codes_are_per_year_and_sequential(services, clerk):
    first = submit_intake(services.new_uow(), clerk, request("刘淑芬"), process_id="simple")
    second = submit_intake(services.new_uow(), clerk, request("陈立伟"), process_id="simple")
    assert (first.case_no, second.case_no) == ("JF-2025-000001", "JF-2025-000002")
    assert first.kind == "new" and first.saved


def test_a_code_written_without_the_counter_is_skipped(services, clerk):
    """An import or an older release may have written a code the counter has not handed out."""
    first = submit_intake(services.new_uow(), clerk, request("刘淑芬"), process_id="simple")
    with services.new_uow() as uow:
        uow.session.execute(update(Case).where(Case.case_no == first.case_no)
                            .values(case_no="JF-2025-000002"))
        uow.commit()
    again = submit_intake(services.new_uow(), clerk, request("陈立伟"), process_id="simple")
    assert again.case_no == "JF-2025-000003"


def test_a_rolled_back_intake_gives_its_number_back(services, clerk):
    first = submit_intake(services.new_uow(), clerk, request("刘淑芬"), process_id="simple")
    with pytest.raises(InvalidInput):   # no such process: refused, the number is not used
        submit_intake(services.new_uow(), clerk, request("陈立伟"), process_id="not_deployed")
    second = submit_intake(services.new_uow(), clerk, request("马德顺"), process_id="simple")
    assert (first.case_no, second.case_no) == ("JF-2025-000001", "JF-2025-000002")


def test_a_year_without_a_counter_starts_after_the_highest_code(services, clerk):
    first = submit_intake(services.new_uow(), clerk, request("刘淑芬"), process_id="simple")
    with services.new_uow() as uow:
        uow.session.execute(update(Case).where(Case.case_no == first.case_no)
                            .values(case_no="JF-2025-000041"))
        uow.session.execute(delete(CaseNumber))
        uow.commit()
    again = submit_intake(services.new_uow(), clerk, request("陈立伟"), process_id="simple")
    assert again.case_no == "JF-2025-000042"


def test_concurrent_intakes_get_distinct_codes(committed_services):
    services = committed_services
    seed(services)
    deploy_fixture(services, "simple.bpmn")
    clerk = make_user(services, "intake_clerk", "ZZ")
    names = ["刘淑芬", "陈立伟", "马德顺", "韦春生"]
    codes, errors = [], []

    def work(name):
        try:
            codes.append(submit_intake(services.new_uow(), clerk, request(name),
                                       process_id="simple").case_no)
        except Exception as exc:  # collected: the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == [f"JF-2025-{n:06d}" for n in range(1, 5)]


def _case(services, case_no):
    uow = services.new_uow()
    with uow:
        case = find_case(uow.session, case_no)
        return case.id


def _visible(services, actor):
    uow = services.new_uow()
    with uow:
        return set(uow.session.scalars(select(Case.case_no).where(visible_cases(actor))))


def test_scope_by_role_department_and_tier(services, clerk):
    code = submit_intake(services.new_uow(), clerk, request(), process_id="simple").case_no
    uow = services.new_uow()
    with uow:
        case = find_case(uow.session, code)
        case.tier = "district"
        case.lead_department_id = department(uow.session, "RS").id
        uow.session.add(WorkOrder(case_id=case.id, department_id=department(uow.session, "RS").id,
                                  round=1, role="lead"))
        uow.session.add(WorkOrder(case_id=case.id, department_id=department(uow.session, "ZJ").id,
                                  round=1, role="co"))
        uow.commit()
    sees = {
        "clerk": clerk, "lead": make_user(services, "dept_handler", "RS"),
        "co": make_user(services, "dept_handler", "ZJ"),
        "district_triage": make_user(services, "triage_officer", "ZZ"),
        "auditor": make_user(services, "auditor"),
    }
    blind = {
        "owner": make_user(services, "process_owner"),  # process definitions only, no case
        "other_dept": make_user(services, "dept_handler", "GA"),
        "street_triage": make_user(services, "triage_officer", "JD"),
        "admin": make_user(services, "admin"),
        "other_clerk": make_user(services, "intake_clerk", "JD"),
        "mediator": make_user(services, "mediator", "JDTJ"),
    }
    assert {k for k, a in sees.items() if code in _visible(services, a)} == set(sees)
    assert {k for k, a in blind.items() if code in _visible(services, a)} == set()
    uow = services.new_uow()
    with uow:
        case = find_case(uow.session, code)
        assert case_access(uow.session, sees["co"], case).co_only
        assert not case_access(uow.session, sees["co"], case).unmask
        assert case_access(uow.session, sees["lead"], case).unmask
        assert not case_access(uow.session, sees["auditor"], case).unmask
        with pytest.raises(NotPermitted):
            require(blind["owner"], Permission.VIEW_CASE, case, session=uow.session)


def test_leaders_see_cases_escalated_to_them_and_supervisors_their_tier(services, clerk):
    code = submit_intake(services.new_uow(), clerk, request(), process_id="simple").case_no
    with services.new_uow() as uow:
        find_case(uow.session, code).tier = "district"
        uow.commit()
    leader = make_user(services, "leader", "ZZ")
    supervisor = make_user(services, "supervisor", "ZZ")
    assert code not in _visible(services, leader)
    assert code in _visible(services, supervisor)
    with services.new_uow() as uow:
        find_case(uow.session, code).risk_level = "orange"   # the ladder notifies the leaders
        uow.commit()
    assert code in _visible(services, leader)
    with services.new_uow() as uow:
        case = find_case(uow.session, code)
        assert case_access(uow.session, leader, case).unmask   # with a purpose, on this case only


def test_case_list_is_scoped_and_filtered(services, clerk):
    submit_intake(services.new_uow(), clerk, request("刘淑芬"), process_id="simple")
    submit_intake(services.new_uow(), clerk, request("陈立伟", "labour"), process_id="simple")
    rows = list_cases(services.new_uow(), clerk, CaseFilter(category="labour"))
    assert [r["category"] for r in rows] == ["labour"]
    assert list_cases(services.new_uow(), make_user(services, "dept_handler", "GA")) == []
    with pytest.raises(NotPermitted):
        list_cases(services.new_uow(), make_user(services, "admin"))
