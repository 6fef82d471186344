"""The administrator's API token pages: issue a token for an account (shown once), see it listed
in words, revoke it; the API follows at once. Bad input is a field error that keeps what was
typed."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import post
from tests.web.test_pages_in_words import visible_text

ISSUED = re.compile(r'data-testid="issued-token">([^<]+)<')


@pytest.fixture
def admin_client(as_role):
    return as_role("admin")


def _issue(admin_client, **form) -> str:
    response = post(admin_client, "/admin/tokens", {"username": "intake_clerk",
                                                    "channel": "hotline_12345",
                                                    "name": "12345 热线正式环境", "days": "30",
                                                    **form})
    assert response.status_code == 200
    return ISSUED.search(response.get_data(as_text=True)).group(1)


def _api(app, token: str) -> int:
    return app.test_client().get("/api/v1/cases",
                                 headers={"Authorization": f"Bearer {token}"}).status_code


def test_an_issued_token_works_is_listed_in_words_and_stops_when_revoked(app, services,
                                                                         admin_client):
    form = admin_client.get("/admin/tokens/new?username=intake_clerk").get_data(as_text=True)
    assert 'value="intake_clerk"' in form and "12345" in visible_text(form)
    token = _issue(admin_client)
    assert token.startswith("jf_") and _api(app, token) == 200

    listed = admin_client.get("/admin/tokens?username=intake_clerk").get_data(as_text=True)
    text = visible_text(listed)
    assert "12345 热线正式环境" in text and "有效" in text and token[:11] in listed
    assert token not in listed and "hotline_12345" not in text   # the secret, the channel code

    token_id = re.search(r'data-token="(\d+)" data-state="active"', listed).group(1)
    answer = post(admin_client, f"/admin/tokens/{token_id}/revoke?username=intake_clerk")
    assert answer.status_code == 302 and "username=intake_clerk" in answer.headers["Location"]
    assert _api(app, token) == 401
    after = admin_client.get("/admin/tokens?username=intake_clerk").get_data(as_text=True)
    assert f'data-token="{token_id}" data-state="revoked"' in after and "已吊销" in after
    again = post(admin_client, f"/admin/tokens/{token_id}/revoke", follow_redirects=True)
    assert "该令牌已吊销" in again.get_data(as_text=True)

    with services.session_factory() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.actor_role, AuditEvent.payload)
                                 .where(AuditEvent.object_type == "api_token",
                                        AuditEvent.action.like("token_%"))
                                 .order_by(AuditEvent.id)).all()
    assert [(action, role) for action, role, _ in events] == [("token_created", "admin"),
                                                              ("token_revoked", "admin")]
    assert token not in " ".join(payload for _, _, payload in events)
    assert json.loads(events[1][2])["prefix"] == token[3:11]


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"username": "", "channel": ""}, "username", "必填"),
    ({"channel": ""}, "channel", "必填"),
    ({"username": "nobody"}, "username", "没有可用的用户 nobody"),
    ({"days": "一年"}, "days", "有效期应为 1 至 366 天之间的整数"),
    ({"days": "400"}, "days", "有效期应为 1 至 366 天之间的整数"),
])
def test_bad_input_is_a_field_error_and_keeps_what_was_typed(admin_client, form, field, words):
    typed = {"username": "intake_clerk", "channel": "hotline_12345", "name": "门户测试",
             "days": "30", **form}
    response = post(admin_client, "/admin/tokens", typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page.split(f'data-field="{field}"')[1].split("jf-field")[0]
    assert words in visible_text(f"<div {error}</div>")
    assert 'value="门户测试"' in page and "issued-token" not in page


def test_the_account_page_leads_to_its_tokens(admin_client):
    page = admin_client.get("/admin/users/intake_clerk").get_data(as_text=True)
    assert 'href="/admin/tokens?username=intake_clerk"' in page
    menu = admin_client.get("/admin/tokens").get_data(as_text=True)
    assert "接口令牌" in visible_text(menu)
