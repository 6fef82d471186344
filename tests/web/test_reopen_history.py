"""A second complaint reopens a closed case: the case page's 办理过程 says why and by which
channel in words (二次投诉，12345热线), not the codes the event keeps."""

from __future__ import annotations

from tests.bpmn.test_services_general import (
    close_with_rating,
    noise_request,
    registered,
    walk,  # noqa: F401 (fixture)
)
from tests.web.conftest import PASSWORD, login
from tests.web.test_pages_in_words import visible_text
from workflows.core.actors import SYSTEM
from workflows.intake.register import submit_intake
from workflows.people import admin


def test_the_reopening_reads_second_complaint_and_its_channel(app, services, walk, clock):  # noqa: F811
    registered(walk)
    close_with_rating(services, walk)
    clock.advance(days=10)
    outcome = submit_intake(services.new_uow(), walk.user("intake_clerk", "ZZ"),
                            noise_request(channel="hotline_12345", description="施工又开始了"))
    assert outcome.kind == "second_complaint"
    admin.create_user(services.new_uow(), SYSTEM, username="zz_supervisor", password=PASSWORD,
                      roles=["supervisor"], department_code="ZZ")
    client = app.test_client()
    login(client, "zz_supervisor")
    page = client.get(f"/cases/{walk.case_no}").get_data(as_text=True)
    reopened = page.split('data-action="case_reopened"')[1].split("</li>")[0]
    text = visible_text(f"<div {reopened}</div>")
    assert "二次投诉" in text and "12345" in text
    assert "second_complaint" not in visible_text(page) and "hotline_12345" not in text
