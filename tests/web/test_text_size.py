"""The per-user text size (我的账号 → 字号): stored on the account, applied as a class on <html> of
every page, audited, a value outside the three sizes refused with a Chinese field error."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import post
from workflows.models import User


def _html_class(client, path: str = "/inbox") -> str:
    page = client.get(path).get_data(as_text=True)
    start = page.index("<html")
    return page[start:page.index(">", start)]


def test_a_chosen_size_applies_to_every_page_and_is_audited(as_role, services):
    client = as_role("intake_clerk")
    assert 'class="jf-text-standard"' in _html_class(client)
    account = client.get("/auth/account").get_data(as_text=True)
    assert 'value="standard" checked' in account and "特大字" in account

    response = post(client, "/auth/account/text-size", {"text_size": "xlarge"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/account")
    assert "字号已保存" in client.get("/auth/account").get_data(as_text=True)
    for path in ("/inbox", "/cases", "/auth/account"):
        assert 'class="jf-text-xlarge"' in _html_class(client, path)

    with services.new_uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == "intake_clerk")).one()
        assert user.text_size == "xlarge"
        user_id = str(user.id)
        payloads = [json.loads(p) for p in uow.session.scalars(
            select(AuditEvent.payload).where(AuditEvent.action == "user_updated",
                                             AuditEvent.object_id == user_id))]
    assert {"change": "text_size", "text_size": "xlarge", "previous": "standard"} in payloads

    # the same size again changes nothing and writes no second event
    post(client, "/auth/account/text-size", {"text_size": "xlarge"})
    with services.new_uow() as uow:
        count = len(list(uow.session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "user_updated",
                                        AuditEvent.object_id == user_id))))
    assert count == len(payloads)


def test_another_users_pages_keep_their_own_size(as_role, client):
    post(as_role("mediator"), "/auth/account/text-size", {"text_size": "large"})
    assert 'class="jf-text-large"' in _html_class(client)
    as_role("dept_handler")
    assert 'class="jf-text-standard"' in _html_class(client)


def test_an_unknown_size_is_refused_in_words_and_nothing_changes(as_role, services):
    client = as_role("intake_clerk")
    for value in ("huge", "", "x" * 5000):
        response = post(client, "/auth/account/text-size", {"text_size": value})
        assert response.status_code == 422
        assert "请选择列表中的一项" in response.get_data(as_text=True)
    assert 'class="jf-text-standard"' in _html_class(client)
