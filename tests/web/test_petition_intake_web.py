"""A matter registered as a petition through the web intake form starts on the petition path (the
shipped case type 信访事项 → ``petition_intake``): the triage officers' first step is the petition
stage, the case is counted on the path from intake, and after that petitioner's final 复核 the same
form is refused with the reason and the earlier case (信访工作条例 Art 36)."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.models import AuditEvent, InstanceRow
from tests.factories import Walk, deploy_library
from tests.web.conftest import post
from workflows.cases.lookup import find_case
from workflows.models import CaseLegalPath, OpenTask

PETITION = {
    "channel": "counter", "category": "petition", "urgency": "general", "people_count": "1",
    "summary": "对低保资格取消不服", "description": "信访人对街道取消其低保资格的决定不服，来访反映。",
    "parties-0-role": "applicant", "parties-0-name": "刘淑芬",
    "parties-0-phone": "13812345678", "parties-0-id_number": "110101196203150020",
    "parties-0-contact_preference": "phone",
}


def _saved_case(client) -> str:
    saved = post(client, "/cases/new", {**PETITION, "action": "save"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    return saved.headers["Location"].split("/cases/", 1)[1].split("/", 1)[0]


def test_a_petition_from_the_intake_form_starts_on_the_petition_path(as_role, services, users,
                                                                      clock):
    deploy_library(services)
    case_no = _saved_case(as_role("intake_clerk"))
    with services.session_factory() as session:
        case = find_case(session, case_no)
        assert session.get(InstanceRow, case.workflow_instance_id).process_id == "petition_intake"
        [task] = session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)).all()
        assert (task.bpmn_id, task.role) == ("petition_stage_check", "triage_officer")
        assert session.scalar(select(CaseLegalPath.path)
                              .where(CaseLegalPath.case_id == case.id)) == "petition"
        [entered] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "legal_path_entered")).all()
        assert json.loads(entered.payload)["task"] == "intake"

    # the petition runs its course to the final 复核 answer
    walk = Walk(services, clock)
    walk.case_no = case_no
    walk.users[("triage_officer", "ZZ")] = users.actor("triage_officer")
    triage = users.actor("triage_officer")
    walk.do("petition_stage_check", actor=triage, petition_stage="reviewed")
    walk.do("petition_reviewed", actor=triage, review_decided_on=clock.now().date().isoformat())
    walk.do("recheck_request", actor=triage, recheck_request_decision="requested",
            recheck_requested_on=clock.now().date().isoformat())
    walk.do("recheck_decision", actor=triage, recheck_result="upheld",
            recheck_decided_on=clock.now().date().isoformat())
    assert walk.summary()["status"] == "closed" and walk.summary()["outcome"] == "R4"

    refused = post(as_role("intake_clerk"), "/cases/new", {**PETITION, "action": "save"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "不予受理" in text and case_no in text
    assert walk.replays().startswith("verified")


def test_the_petition_received_day_starts_from_the_day_the_matter_came_in(as_role, services,
                                                                         users, clock):
    from lxml import html as lxml_html

    deploy_library(services)
    received = "2025-03-01T09:30"          # a Saturday's letter, registered later
    case_no = _saved_case_with(as_role("intake_clerk"), received_at=received)
    walk = Walk(services, clock)
    walk.case_no = case_no
    walk.do("petition_stage_check", actor=users.actor("triage_officer"), petition_stage="new")
    client = as_role("triage_officer")

    page = lxml_html.fromstring(client.get(
        f"/cases/{case_no}/tasks/{walk.task('petition_received')['task_id']}").get_data(
        as_text=True))

    assert page.xpath("//input[@name='petition_received_on']/@value") == ["2025-03-01"]


def _saved_case_with(client, **fields) -> str:
    saved = post(client, "/cases/new", {**PETITION, **fields, "action": "save"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    return saved.headers["Location"].split("/cases/", 1)[1].split("/", 1)[0]
