"""The mediation panel as the mediator sees it in the browser (Flask test client, shipped process
library): a refused move keeps what was typed."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.factories import IDS, Walk, deploy_library
from tests.web.conftest import Users, post
from workflows.cases.parties import PartyInput

ACCOUNTS = {  # username -> (role, department)
    "h_jdtj": ("dept_handler", "JDTJ"), "h_wy": ("dept_handler", "WY"),
    "med": ("mediator", "JDTJ"), "med_far": ("mediator", "SQTJ")}


@pytest.fixture
def accounts(services, reference) -> Users:
    found = Users(services)
    for username, (role, dept) in ACCOUNTS.items():
        found.add(username, role, dept)
    return found


@pytest.fixture
def walk(services, clock, accounts) -> Walk:
    """A neighbour dispute (lead JDTJ, co WY) walked to 指派调解员并审查回避."""
    deploy_library(services)
    walk = Walk(services, clock)
    for username, (role, dept) in ACCOUNTS.items():
        walk.users.setdefault((role, dept), accounts.actor(username))
    walk.intake(channel="counter", category="neighbour", summary="空调外机滴水",
                description="楼上空调外机长期滴水到楼下阳台……",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="空调外机滴水")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系双方")
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")
    walk.do("co_handle", "WY", co_result="已调整排水管", co_result_status="done")
    walk.do("lead_consolidate", joint_result="需面对面调解", joint_outcome="partly_resolved")
    walk.do("confirm_consent", consent="both_agree", consent_note="双方同意调解")
    return walk


def test_a_refused_move_keeps_the_form_open_with_what_was_typed(walk, as_user):
    walk.do("assign_mediator", mediator_id="med", mediator_chosen_by="committee",
            conflict_check="no_conflict")
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="public", mediation_registration_note="登记")
    walk.schedule("online")
    client = as_user("med")
    page = lxml_html.fromstring(client.get(f"/cases/{walk.case_no}").get_data(as_text=True))
    action = page.xpath("//form[@data-testid='reschedule-form']/@action")[0]
    hidden = {i.get("name"): i.get("value") for i in
              page.xpath("//form[@data-testid='reschedule-form']//input[@type='hidden']")}
    booked = [page.xpath(f"//form[@data-testid='reschedule-form']//input[@name='{n}']/@value")[0]
              for n in ("session_date", "session_start", "session_end")]
    assert all(booked), "the form starts from the booked date and hours"

    refused = post(client, action, {**hidden, "session_date": "2031-05-06",
                                    "session_start": "9点", "session_end": "10:30"})
    again = lxml_html.fromstring(refused.get_data(as_text=True))
    form = again.xpath("//form[@data-testid='reschedule-form']")[0]

    assert refused.status_code == 422 and not again.xpath("//*[@data-testid='session-errors']")
    start = form.xpath(".//input[@name='session_start']")[0]
    assert "is-invalid" in start.get("class")        # the error under the field it is about
    assert start.getnext().get("class") == "invalid-feedback" and start.getnext().text_content()
    assert form.getparent().get("open") is not None
    assert [form.xpath(f".//input[@name='{n}']/@value")[0] for n in
            ("session_date", "session_start", "session_end")] == ["2031-05-06", "9点", "10:30"]
