"""The inbox's 待回电 tab in the browser's terms (Flask test client, shipped process library): the
count on the tab, the call list with masked values and what to tell the citizen, the audited
reveal of the number, the outcome with the personal-data check, the 409 of a second completion,
another unit's 404, and the English page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.factories import Walk, deploy_library
from tests.web.conftest import Users, login, post
from tests.workflows.test_call_tasks import reminded as reminded_walk

CJK = re.compile(r"[\u4e00-\u9fff]")
PHONE = "13812345678"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def accounts(services, reference) -> Users:
    found = Users(services)
    found.add("tri", "triage_officer", "ZZ")
    found.add("h_wy", "dept_handler", "WY")
    found.add("clerk", "intake_clerk", "ZZ")
    return found


@pytest.fixture
def reminded(services, clock, accounts) -> str:
    """A labour award received 09-20 followed on the labour path; day 10's reminder went to a
    worker who prefers the phone: a call for the centre (the case has no lead unit yet)."""
    deploy_library(services)
    clock.set(local(2025, 9, 22, 9, 0))
    walk = Walk(services, clock)
    walk.users[("intake_clerk", "ZZ")] = accounts.actor("clerk")
    walk.users[("triage_officer", "ZZ")] = accounts.actor("tri")
    return reminded_walk(walk)


def signed_in(app, username: str, **headers):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def reminder_id(page: str) -> int:
    """The call about the award's appeal window (the receipt and the guidance were calls too)."""
    rows = re.findall(r'<tr data-call="(\d+)"[^>]*>(.*?)</tr>', page, re.S)
    [found] = [int(i) for i, body in rows if "第48—50条" in body]
    return found


def count(services, action: str) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == action))


def test_the_centre_sees_the_call_reveals_the_number_and_marks_it_done(app, services, reminded):
    client = signed_in(app, "tri")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "待回电" in inbox and 'data-testid="call-count">3<' in inbox
    page = client.get("/inbox/calls").get_data(as_text=True)
    assert reminded in page and "2025-10-09" in page and "2025-09-20" in page
    assert "T-07" not in page, "the window's basis in words, not the timer id"
    assert "劳动争议调解仲裁法第48—50条" in page and "起诉期限提示" in page
    assert PHONE not in page and "5678" in page, "masked until revealed"
    call = reminder_id(page)
    revealed = post(client, f"/inbox/calls/{call}/reveal")
    assert revealed.status_code == 200 and PHONE in revealed.get_data(as_text=True)
    assert count(services, "party_unmasked") == 1
    assert PHONE not in client.get("/inbox/calls").get_data(as_text=True), "masked again"

    leaked = post(client, f"/inbox/calls/{call}/done",
                  {"outcome": "reached", "note": f"改用 {PHONE[:3]}-0000-1111 联系"})
    assert leaked.status_code == 422
    assert "个人信息" in leaked.get_data(as_text=True) or "手机号" in leaked.get_data(as_text=True)
    missing = post(client, f"/inbox/calls/{call}/done", {"outcome": "", "note": "已告知"})
    assert missing.status_code == 422 and count(services, "call_task_completed") == 0

    done = post(client, f"/inbox/calls/{call}/done",
                {"outcome": "reached", "note": "已告知起诉期限"})
    assert done.status_code == 302
    after = client.get("/inbox/calls").get_data(as_text=True)
    assert "已记录回电结果" in after and 'data-testid="call-count">2<' in after
    again = post(signed_in(app, "clerk"), f"/inbox/calls/{call}/done",
                 {"outcome": "not_reached", "note": ""})
    assert again.status_code == 409 and "已由他人完成" in again.get_data(as_text=True)
    assert count(services, "call_task_completed") == 1


def test_another_units_handler_has_no_such_call(app, services, reminded):
    client = signed_in(app, "tri")
    call = reminder_id(client.get("/inbox/calls").get_data(as_text=True))
    other = signed_in(app, "h_wy")
    assert reminded not in other.get("/inbox/calls").get_data(as_text=True)
    assert post(other, f"/inbox/calls/{call}/reveal").status_code == 404
    assert post(other, f"/inbox/calls/{call}/done", {"outcome": "reached"}).status_code == 404
    assert count(services, "party_unmasked") == 0 and count(services, "call_task_completed") == 0


def test_the_call_list_in_english(app, services, reminded):
    client = app.test_client()
    client.get("/auth/login", headers={"Accept-Language": "en"})
    assert login(client, "tri").status_code == 302
    page = client.get("/inbox/calls", headers={"Accept-Language": "en"}).get_data(as_text=True)
    body = page.split("<main", 1)[1].split("</main>", 1)[0]
    chinese = CJK.findall(re.sub(r"<[^>]+>", " ", body))
    # the masked name is the citizen's own data; everything else is in English
    assert set(chinese) <= set("刘"), chinese
    assert "Calls to make" in page and "Arts 48-50" in page and "T-07" not in page
