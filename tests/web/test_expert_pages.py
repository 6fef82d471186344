"""The expert pool pages, the mediator's invitation with the conflict check, and the expert's own
pages: only the invited case, masked, read-only but for the opinion; every other POST is 403."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, OutboxMessage
from tests.web.conftest import csrf_token, login, post
from tests.web.test_task_pages import _task_id
from workflows.cases.lookup import find_case
from workflows.core.actors import SYSTEM
from workflows.mediation.experts import save_expert
from workflows.models import (
    CaseDocument,
    CaseParty,
    Department,
    ExpertInvitation,
    MediationSession,
    Room,
    User,
)


def denials(services) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access_denied"))


@pytest.fixture
def mediated(services, users, case_no) -> dict:
    """The sample case mediated by the test mediator, with a session booked tomorrow in a room
    of the mediator's unit."""
    now = services.clock.now()
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        mediator = uow.session.scalars(select(User).where(User.username == "mediator")).one()
        case.mediator_id = mediator.id
        unit = uow.session.scalars(select(Department).where(
            Department.code == "T_MEDIATION")).one()
        room = Room(code="TR1", name="第一调解室", unit_id=unit.id, capacity=8, recording=True,
                    video=False, accessible=True, active=True)
        uow.session.add(room)
        uow.session.flush()
        row = MediationSession(case_id=case.id, room_id=room.id, mode="in_person",
                               starts_at=now + timedelta(days=1),
                               ends_at=now + timedelta(days=1, hours=1), status="booked",
                               attendance={})
        uow.session.add(row)
        uow.session.flush()
        session_id = row.id
        uow.commit()
    return {"case_no": case_no, "session_id": session_id}


def add_expert(services, username: str, contact: str = "13700001111") -> str:
    """An expert of the pool; returns the one-time password."""
    saved = save_expert(services.new_uow(), SYSTEM, {
        "username": username, "display_name": "周文博", "field": "law", "unit_code": "T_CENTRE",
        "organisation": "正衡律师事务所", "contact": contact, "available_days": ""})
    assert saved.password
    return saved.password


def expert_id(services, username: str) -> int:
    from workflows.models import Expert

    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return session.scalars(select(Expert.id).where(Expert.user_id == user.id)).one()


def sign_in(app, username: str, password: str):
    client = app.test_client()
    client.get("/auth/login")
    assert login(client, username, password).status_code == 302
    return client


def expert_post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/expert"), **(data or {})})


# -- the pool -------------------------------------------------------------------------------------
def test_the_admin_adds_an_expert_with_field_errors_in_chinese_first(services, users, as_role):
    client = as_role("admin")
    form = client.get("/experts/new").get_data(as_text=True)
    assert "新增专家" in form
    assert '<option value="T_CENTRE">测试区综治中心</option>' in form    # chosen by name
    bad = post(client, "/experts/new", {"username": "lawyer zhou", "display_name": "",
                                        "field": "astrology", "unit_code": "NOPE",
                                        "contact": "123", "available_days": "9"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for words in ("请选择专业领域", "请填写姓名", "没有编码为 NOPE 的单位"):
        assert words in text
    done = post(client, "/experts/new", {"username": "lawyer_zhou", "display_name": "周文博",
                                         "field": "law", "unit_code": "T_CENTRE",
                                         "contact": "13912340001", "available_days": ["2", "4"]})
    assert done.status_code == 200
    password = re.search(r'data-testid="one-time-password">([^<]+)<', done.get_data(as_text=True))
    assert password and len(password.group(1)) >= 10
    pool = client.get("/experts").get_data(as_text=True)
    expert_id = re.search(r'href="/experts/(\d+)"', pool).group(1)
    opened = client.get(f"/experts/{expert_id}").get_data(as_text=True)
    assert '<option value="T_CENTRE" selected>测试区综治中心</option>' in opened
    assert "周文博" in pool and "法律" in pool and "139****0001" in pool and "周二、周四" in pool
    assert "13912340001" not in pool and ">law<" not in pool
    with services.session_factory() as session:
        saved = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "expert_saved")).one()
    assert "13912340001" not in saved.payload


def test_others_cannot_edit_the_pool(services, users, as_role):
    mediator = as_role("mediator")
    assert mediator.get("/experts").status_code == 200
    before = denials(services)
    assert mediator.get("/experts/new").status_code == 403
    assert post(mediator, "/experts/new", {"username": "x"}).status_code == 403
    assert denials(services) == before + 2


def test_the_admin_imports_experts_with_row_errors_in_chinese(services, users, as_role):
    client = as_role("admin")
    bad = ("用户名,姓名,专业领域,单位编码,联系电话,可约日\n"
           "lawyer_a,甲律师,律师,T_CENTRE,13700000001,周二\n"
           "counsellor_b,乙老师,占卜,NOPE,12,周八\n").encode()
    from io import BytesIO

    answer = post(client, "/admin/import/preview", {"kind": "experts",
                                                    "file": (BytesIO(bad), "experts.csv")},
                  content_type="multipart/form-data")
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "第 3 行" in text and "请选择专业领域" in text and "可约日期请填" in text
    assert "没有编码为 NOPE 的单位" in text
    good = ("用户名,姓名,专业领域,单位编码,联系电话,可约日\n"
            "lawyer_a,甲律师,律师,T_CENTRE,13700000001,周二\n").encode()
    preview = post(client, "/admin/import/preview", {"kind": "experts",
                                                     "file": (BytesIO(good), "experts.csv")},
                   content_type="multipart/form-data")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "137****0001" in page and "13700000001" not in page and "法律" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = post(client, "/admin/import/confirm", {"token": token, "kind": "experts"})
    assert done.status_code == 200 and 'data-username="lawyer_a"' in done.get_data(as_text=True)
    assert "甲律师" in client.get("/experts").get_data(as_text=True)


# -- inviting ------------------------------------------------------------------------------------
def test_the_mediator_checks_conflicts_then_invites_and_the_expert_is_told(
        services, app, users, as_role, mediated):
    add_expert(services, "lawyer_li")
    # 周海燕, the applicant, is in the pool too: her phone is the expert's contact
    add_expert(services, "applicant_too", contact="13912345678")
    client = as_role("mediator")
    case_path = f"/cases/{mediated['case_no']}"
    page = client.get(case_path).get_data(as_text=True)
    assert 'data-testid="invite-form"' in page and "周文博（法律" in page
    invite = f"{case_path}/sessions/{mediated['session_id']}/experts"
    checked = post(client, invite, {"expert_id": expert_id(services, "applicant_too"),
                                    "action": "check"})
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "专家的联系电话与本案当事人相同" in text
    refused = post(client, invite, {"expert_id": expert_id(services, "applicant_too"),
                                    "action": "invite"})
    assert refused.status_code == 422
    assert "存在利害关系，请确认已告知当事人并征得同意后再邀请" in refused.get_data(as_text=True)
    clean = post(client, invite, {"expert_id": expert_id(services, "lawyer_li"),
                                  "action": "check"})
    assert "利害关系审查：未发现" in clean.get_data(as_text=True)
    done = post(client, invite, {"expert_id": expert_id(services, "lawyer_li"), "action": "invite",
                                 "shared_note": "电梯停运两周，物业费是否减免"})
    assert done.status_code == 302
    again = post(client, invite, {"expert_id": expert_id(services, "applicant_too"),
                                  "action": "invite", "reason": "双方同意"})
    assert again.status_code == 302
    page = client.get(case_path).get_data(as_text=True)
    assert "受邀专家" in page and "已邀请" in page
    assert "专家的联系电话与本案当事人相同" in page and "双方同意" in page
    assert "is_party" not in page and ">invited<" not in page and "（law" not in page
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "expert_invited")) == 2


def test_a_bad_invitation_is_a_4xx(services, users, as_role, mediated):
    add_expert(services, "lawyer_li")
    client = as_role("mediator")
    base = f"/cases/{mediated['case_no']}/sessions"
    assert post(client, f"{base}/{mediated['session_id']}/experts",
                {"expert_id": "abc", "action": "check"}).status_code == 422
    assert post(client, f"{base}/999999/experts",
                {"expert_id": expert_id(services, "lawyer_li")}).status_code == 422
    assert post(as_role("intake_clerk"), f"{base}/{mediated['session_id']}/experts",
                {"expert_id": expert_id(services, "lawyer_li")}).status_code == 403


# -- the expert's side ---------------------------------------------------------------------------
@pytest.fixture
def invited(services, app, users, as_role, mediated) -> dict:
    password = add_expert(services, "lawyer_li")
    client = as_role("mediator")
    post(client, f"/cases/{mediated['case_no']}/sessions/{mediated['session_id']}/experts",
         {"expert_id": expert_id(services, "lawyer_li"), "action": "invite",
          "shared_note": "电梯停运两周，物业费是否减免"})
    with services.session_factory() as session:
        invitation = session.scalars(select(ExpertInvitation.id)).one()
    return {**mediated, "password": password, "invitation": invitation}


def test_the_expert_sees_only_the_invited_case_masked_and_is_audited(services, app, invited):
    client = sign_in(app, "lawyer_li", invited["password"])
    assert client.get("/inbox").headers["Location"].endswith("/expert")
    home = client.get("/expert").get_data(as_text=True)
    assert invited["case_no"] in home and "待参加的调解" in home
    before = denials(services)
    page = client.get(f"/expert/invitations/{invited['invitation']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "电梯停运两周，物业费是否减免" in text and "第一调解室" in text and "周**" in text
    for secret in ("周海燕", "13912345678", "310101196306060025", "锦绣家园3栋"):
        assert secret not in text
    with services.session_factory() as session:
        looked = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "party_viewed", AuditEvent.actor_role == "expert")).all()
    assert len(looked) == 1
    # everything else of the case is out of reach, each denial audited once
    with services.session_factory() as session:
        case = find_case(session, invited["case_no"])
        party = session.scalars(select(CaseParty.party_id).where(
            CaseParty.case_id == case.id)).first()
    task = _task_id(services, invited["case_no"], "triage")
    assert client.get(f"/cases/{invited['case_no']}").status_code == 403
    assert client.get("/cases").status_code == 403
    for path in (f"/cases/{invited['case_no']}/tasks/{task}",
                 f"/cases/{invited['case_no']}/parties/{party}/reveal",
                 f"/cases/{invited['case_no']}/sessions/{invited['session_id']}/cancel",
                 f"/cases/{invited['case_no']}/sessions/{invited['session_id']}/experts"):
        assert expert_post(client, path, {"purpose": "contact", "reason": "x"}).status_code \
            == 403, path
    assert denials(services) == before + 6
    assert client.get("/expert/invitations/999999").status_code == 404


def test_the_opinion_becomes_a_document_the_mediator_reads(services, app, as_role, invited):
    client = sign_in(app, "lawyer_li", invited["password"])
    path = f"/expert/invitations/{invited['invitation']}/opinion"
    empty = expert_post(client, path, {"opinion": ""})
    assert empty.status_code == 422 and "请填写书面意见" in empty.get_data(as_text=True)
    personal = expert_post(client, path, {"opinion": "请致电 13912345678"})
    assert personal.status_code == 422
    done = expert_post(client, path, {
        "opinion": "物业未履行维修义务<script>alert(1)</script>，业主可主张减免物业费。",
        "basis": "《民法典》第九百四十二条", "recommendation": "物业限期修复，减免两周物业费。"})
    assert done.status_code == 302
    assert expert_post(client, path, {"opinion": "再改"}).status_code == 422
    mine = client.get(f"/expert/invitations/{invited['invitation']}").get_data(as_text=True)
    assert "民法典" in mine and "<script>alert" not in mine
    page = as_role("mediator").get(f"/cases/{invited['case_no']}").get_data(as_text=True)
    assert "专家书面意见（周文博，测试区综治中心）" in page and "第九百四十二条" in page
    assert "<script>alert" not in page and "已提交意见" in page
    with services.session_factory() as session:
        doc = session.scalars(select(CaseDocument).where(
            CaseDocument.kind == "expert_opinion")).one()
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "expert_opinion_submitted")) == 1
    assert doc.title.startswith("专家书面意见")


def test_every_post_route_of_a_case_refuses_the_expert(services, app, invited):
    """Whatever a case route an expert POSTs to (tasks, parties, sessions, documents, ratings,
    deadlines …), the answer is 403 and nothing but the denial is written."""
    client = sign_in(app, "lawyer_li", invited["password"])
    values = {"case_no": invited["case_no"], "session_id": invited["session_id"],
              "task_id": _task_id(services, invited["case_no"], "triage"), "fmt": "json"}
    refused = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or "case_no" not in rule.arguments \
                or rule.endpoint.startswith("api_v1."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values.get(m.group(1), 1)),
                      rule.rule)
        before = denials(services)
        answer = expert_post(client, path, {"purpose": "contact", "reason": "x"})
        refused.append((rule.endpoint, answer.status_code, denials(services) - before))
    wrong = [r for r in refused if r[1:] != (403, 1)]
    assert refused and not wrong, wrong
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CaseDocument).where(
            CaseDocument.kind == "expert_opinion")) == 0
