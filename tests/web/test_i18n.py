"""Locale: user preference -> session choice -> Accept-Language -> Simplified Chinese."""

from __future__ import annotations

from tests.web.conftest import csrf_token, login


def test_chinese_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="zh-Hans-CN"' in page and "登录解纷平台" in page


def test_english_browser_gets_english(client):
    page = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    text = page.get_data(as_text=True)
    assert 'lang="en"' in text and "Sign in to jiefen" in text


def test_chinese_browser_variants_get_chinese(client):
    for header in ("zh-CN,zh;q=0.9", "zh-TW", "zh"):
        assert "登录解纷平台" in client.get("/auth/login", headers={
            "Accept-Language": header}).get_data(as_text=True)


def test_language_switch_is_remembered_in_the_session(client):
    token = csrf_token(client)
    response = client.post("/i18n/locale/en", data={"csrf_token": token, "next": "/auth/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert "Sign in to jiefen" in client.get("/auth/login").get_data(as_text=True)


def test_language_switch_refuses_get_and_unknown_codes(client):
    assert client.get("/i18n/locale/en").status_code == 405
    token = csrf_token(client)
    assert client.post("/i18n/locale/xx", data={"csrf_token": token}).status_code == 404


def test_language_switch_never_redirects_off_site(client):
    token = csrf_token(client)
    response = client.post("/i18n/locale/en", data={"csrf_token": token,
                                                     "next": "https://evil.example"})
    assert response.headers["Location"] == "/"


def test_a_users_choice_follows_them_to_a_new_session(app, client, users):
    login(client, "mediator")
    token = csrf_token(client, "/inbox")
    client.post("/i18n/locale/en", data={"csrf_token": token, "next": "/inbox"})
    fresh = app.test_client()
    login(fresh, "mediator")
    text = fresh.get("/inbox", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Tasks" in text and "待办任务" not in text


def test_field_errors_are_shown_in_english(as_role, services, case_no):
    from tests.web.conftest import post
    from tests.web.test_task_pages import _task_id

    client = as_role("triage_officer")
    post(client, "/i18n/locale/en")
    task_id = _task_id(services, case_no, "triage")
    text = post(client, f"/cases/{case_no}/tasks/{task_id}",
                {"department": "", "triage_note": "x" * 60}).get_data(as_text=True)
    assert "Required" in text and "At most 50 characters" in text and "必填" not in text


def test_a_new_account_follows_the_browser_until_a_choice_is_made(client, users):
    login(client, "mediator")
    text = client.get("/inbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Open tasks" in text or "Tasks" in text
    assert "待办任务" not in text
