"""The case page's 时限 and 通知送达 panels, the 中止 / 延期 forms, the department's reply to a
督办单 and the incidents list with retry (Flask test client, shipped process library)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent, InstanceRow, OutboxMessage
from tests.factories import IDS, Walk, deploy_library
from tests.web.conftest import PASSWORD, Users, login, post
from tests.web.test_pages_in_words import visible_text
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.models import SlaClock
from workflows.models.scheduling import SupervisionNotice
from workflows.people import admin

ACCOUNTS = {  # username -> (role, department)
    "h_jdtj": ("dept_handler", "JDTJ"), "h_wy": ("dept_handler", "WY"),
    "sup": ("supervisor", "ZZ"), "sup2": ("supervisor", "ZZ"), "med": ("mediator", "JDTJ")}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def accounts(services, reference) -> Users:
    found = Users(services)
    for username, (role, dept) in ACCOUNTS.items():
        found.add(username, role, dept)
    admin.create_user(services.new_uow(), SYSTEM, username="both", password=PASSWORD,
                      roles=["dept_handler", "supervisor"], department_code="JDTJ",
                      display_name="承办兼督办")
    return found


@pytest.fixture
def walk(services, clock, accounts) -> Walk:
    """A neighbour dispute (lead JDTJ, co WY, mediation) in handling since Tue 2025-03-04 10:00:
    its resolution clock runs, the co-department's sign-off is open."""
    deploy_library(services)
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk(services, clock)
    for username, (role, dept) in ACCOUNTS.items():
        walk.users.setdefault((role, dept), accounts.actor(username))
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="卫生间长期渗漏至楼下……",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678",
                                    contact_preference="sms")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    walk.do("sign_off", sign_off_decision="accept")
    clock.set(local(2025, 3, 4, 10, 0))
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系双方")
    return walk


def page(client, walk: Walk) -> str:
    response = client.get(f"/cases/{walk.case_no}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start:html.index("</section>", start)]


def denials(services) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "access_denied"))


def request_row(html: str) -> str:
    return re.search(r'data-request="(\d+)"', html).group(1)


def test_the_deadline_panel_shows_timers_and_the_clock_in_beijing_time(client, walk):
    login(client, "h_jdtj")
    panel = section(page(client, walk), "deadlines-panel")
    clock_row = re.search(r'<tr data-source="clock" data-kind="resolution".*?</tr>', panel, re.S)
    assert clock_row and "2025-04-08 00:00" in clock_row.group(0)       # 1 month, 清明 moved
    assert 'data-light="green"' in clock_row.group(0) and "计时中" in clock_row.group(0)
    assert "签收超时" in panel and "2025-03-05 10:00" in panel            # WY's sign-off, BPMN
    assert 'data-testid="deadline-request"' in panel                      # the lead's handler


def test_notifications_panel_lists_delivery_state_without_addresses(client, walk, services):
    with services.session_factory() as session:
        case = find_case(session, walk.case_no)
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)
                               .order_by(OutboxMessage.id)).all()
        rows[0].status, rows[0].attempts = "sent", 1
        rows[0].sent_at = local(2025, 3, 3, 9, 0, 5)
        rows[1].status, rows[1].attempts = "dead", 8
        session.commit()
        sms = [r for r in rows if r.channel == "sms"]
    login(client, "sup")
    panel = section(page(client, walk), "notifications-panel")
    assert panel.count("<tr data-template=") == len(rows)
    assert "已发送" in panel and "2025-03-03 09:00" in panel and "发送失败" in panel
    assert sms and "短信" in panel and "当事人" in panel                   # recipient by kind
    for address in ("13812345678", "138****5678", "刘淑芬", "刘*"):
        assert address not in panel


def test_a_suspension_requested_by_the_handler_is_approved_by_a_supervisor(client, as_user, walk,
                                                                            services):
    login(client, "h_jdtj")
    response = post(client, f"/cases/{walk.case_no}/deadlines/request",
                    {"kind": "resolution", "request_kind": "suspend", "reason": "等待司法鉴定"})
    assert response.status_code == 302
    html = page(client, walk)
    assert "待审批" in section(html, "deadlines-panel")
    assert 'data-testid="deadline-decide"' not in html                 # not for the requester
    request_id = request_row(html)
    client = as_user("sup")
    assert 'data-testid="deadline-decide"' in page(client, walk)
    response = post(client, f"/cases/{walk.case_no}/deadlines/decide",
                    {"request_id": request_id, "decision": "approve", "note": "同意中止"})
    assert response.status_code == 302
    panel = section(page(client, walk), "deadlines-panel")
    assert 'data-state="paused"' in panel and "已中止" in panel and "已批准" in panel
    with services.session_factory() as session:
        actions = [a for (a,) in session.execute(select(AuditEvent.action).where(
            AuditEvent.action.in_(("sla_requested", "sla_decided", "sla_changed"))))]
    assert {"sla_requested", "sla_decided", "sla_changed"} <= set(actions)


def test_a_request_without_reason_is_shown_again_with_the_error(client, walk):
    login(client, "h_jdtj")
    response = post(client, f"/cases/{walk.case_no}/deadlines/request",
                    {"kind": "resolution", "request_kind": "extend", "amount": "5",
                     "unit": "working_days", "reason": ""})
    assert response.status_code == 422
    panel = section(response.get_data(as_text=True), "deadlines-panel")
    assert "请说明申请理由" in panel and 'value="5"' in panel


def test_the_requester_cannot_approve_their_own_request(client, walk, services):
    login(client, "both")
    post(client, f"/cases/{walk.case_no}/deadlines/request",
         {"kind": "resolution", "request_kind": "suspend", "reason": "等待鉴定"})
    request_id = request_row(page(client, walk))
    before = denials(services)
    response = post(client, f"/cases/{walk.case_no}/deadlines/decide",
                    {"request_id": request_id, "decision": "approve"})
    assert response.status_code == 403 and "sla_decide.four_eyes" in response.get_data(True)
    assert denials(services) == before + 1


def test_a_co_department_gets_no_form_and_a_403(client, walk, services):
    login(client, "h_wy")
    assert 'data-testid="deadline-request"' not in page(client, walk)
    before = denials(services)
    response = post(client, f"/cases/{walk.case_no}/deadlines/request",
                    {"kind": "resolution", "request_kind": "suspend", "reason": "x"})
    assert response.status_code == 403
    assert denials(services) == before + 1


def breach(walk: Walk, services) -> int:
    """The resolution clock runs out: the SLA sweep issues a 督办单 to the lead (JDTJ)."""
    from workflows.scheduler.sla_sweep import sweep_sla

    sweep_sla(services, local(2025, 4, 8, 10, 0))
    with services.session_factory() as session:
        case = find_case(session, walk.case_no)
        assert session.scalars(select(SlaClock).where(SlaClock.case_id == case.id)).one() \
            .breached_at is not None
        return session.scalars(select(SupervisionNotice.id).where(
            SupervisionNotice.case_id == case.id, SupervisionNotice.level == 1)).one()


def test_the_department_replies_to_a_supervision_notice(client, walk, services):
    notice_id = breach(walk, services)
    login(client, "h_jdtj")
    listing = client.get("/supervision/notices").get_data(as_text=True)
    assert walk.case_no in listing and f'data-notice="{notice_id}"' in listing
    empty = post(client, f"/supervision/notices/{notice_id}/reply", {"note": " "})
    assert empty.status_code == 422 and "请填写情况说明" in empty.get_data(as_text=True)
    response = post(client, f"/supervision/notices/{notice_id}/reply",
                    {"note": "已约定鉴定时间，三日内完成", "back": "case"})
    assert response.status_code == 302 and walk.case_no in response.headers["Location"]
    panel = section(page(client, walk), "deadlines-panel")
    assert "已答复" in panel and "已约定鉴定时间" in panel
    with services.session_factory() as session:
        assert session.get(SupervisionNotice, notice_id).replied_at is not None


def test_another_department_may_not_reply(client, walk, services):
    notice_id = breach(walk, services)
    login(client, "h_wy")
    assert f'data-notice="{notice_id}"' not in client.get("/supervision/notices").get_data(True)
    before = denials(services)
    response = post(client, f"/supervision/notices/{notice_id}/reply", {"note": "越权答复"})
    assert response.status_code == 403
    assert denials(services) == before + 1
    with services.session_factory() as session:
        assert session.get(SupervisionNotice, notice_id).replied_at is None


def test_supervisors_see_incidents_and_retry_them(client, as_user, walk, services):
    with services.session_factory() as session:
        case = find_case(session, walk.case_no)
        row = session.get(InstanceRow, case.workflow_instance_id)
        row.status, row.timer_attempts, row.due_at = "incident", 3, None
        row.last_error = "EngineStepFailed: expression error"
        instance_id, process_id = row.id, row.process_id
        session.commit()
    login(client, "med")
    before = denials(services)
    assert post(client, f"/supervision/incidents/{instance_id}/retry").status_code == 403
    assert denials(services) == before + 1
    client = as_user("sup")
    listing = client.get("/supervision/").get_data(as_text=True)
    assert f'data-instance="{instance_id}"' in listing and "expression error" in listing
    shown = listing[listing.index(f'data-instance="{instance_id}"'):]
    shown = visible_text("<table><tr " + shown[:shown.index("</tr>")] + "</tr></table>")
    assert "矛盾纠纷" in shown and process_id not in shown    # the process by its name
    assert post(client, f"/supervision/incidents/{instance_id}/retry").status_code == 302
    with services.session_factory() as session:
        assert session.get(InstanceRow, instance_id).status == "running"
        retried = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "incident_retried")).one()
    assert json.loads(retried.payload)["last_error"].startswith("EngineStepFailed")
    assert 'data-testid="no-incidents"' in client.get("/supervision/").get_data(as_text=True)
