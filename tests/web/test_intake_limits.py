"""Intake enumerations and lengths are checked by the service, on the page and the API
(a crafted post gets field errors and 422, never a 500 from PostgreSQL's column sizes)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.web.conftest import post
from tests.web.test_api import BODY, _token
from tests.web.test_case_pages import INTAKE
from web.labels import CATEGORY, TABLES
from workflows.cases.field_limits import CATEGORIES, PARTY_ROLES
from workflows.models import Case, Party

BAD = [  # (form field, API body change, value, expected message)
    ("category", {"category": "x" * 100}, "x" * 100, "请选择列表中的一项"),
    ("category", {"category": "burglary"}, "burglary", "请选择列表中的一项"),
    ("channel_ref", {"channel_ref": "r" * 300}, "r" * 300, "最多 128 个字符"),
    ("summary", {"summary": "摘" * 201}, "摘" * 201, "最多 200 个字符"),
    ("description", {"description": "述" * 5001}, "述" * 5001, "最多 5000 个字符"),
    ("description", {"description": "a\x00b"}, "a\x00b", "含有无效字符"),
]
BAD_PARTY = [  # (field of the second party, value, expected message)
    ("role", "<b>superlongrolename</b>", "请选择列表中的一项"),
    ("name", "名" * 101, "最多 100 个字符"),
    ("address", "址" * 201, "最多 200 个字符"),
    ("name", "周\x00海燕", "含有无效字符"),
]


def _cases(services) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Case))


def _parties(services) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Party))


def test_the_service_lists_match_the_page_choices():
    assert set(CATEGORIES) == set(CATEGORY)
    assert set(PARTY_ROLES) == set(TABLES["party_role"])


@pytest.mark.parametrize(("field", "change", "value", "message"), BAD)
def test_api_answers_field_errors(client, services, users, process, field, change, value,
                                  message):
    response = client.post("/api/v1/cases", json={**BODY, **change},
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {field: message}
    assert _cases(services) == 0


@pytest.mark.parametrize(("field", "value", "message"), BAD_PARTY)
def test_api_checks_party_fields(client, services, users, process, field, value, message):
    parties = [BODY["parties"][0], {**BODY["parties"][1], field: value}]
    response = client.post("/api/v1/cases", json={**BODY, "parties": parties},
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {f"parties-1-{field}": message}
    assert _cases(services) == 0 and _parties(services) == 0


@pytest.mark.parametrize(("field", "change", "value", "message"), BAD)
def test_intake_page_shows_the_field_error(as_role, services, process, field, change, value,
                                           message):
    client = as_role("intake_clerk")
    response = post(client, "/cases/new", {**INTAKE, field: value, "action": "save"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _cases(services) == 0


@pytest.mark.parametrize("action", ["preview", "save"])
def test_an_empty_summary_is_a_field_error_with_everything_else_kept(as_role, services,
                                                                      process, action):
    """The form marks 事项摘要 required: left empty (or blank), it is a 必填 under that field, reported
    with the other mistakes at once, the typed values kept and nothing saved."""
    client = as_role("intake_clerk")
    response = post(client, "/cases/new", {**INTAKE, "summary": "  ", "people_count": "0",
                                           "action": action})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = re.search(r'<input[^>]*name="summary"[^>]*>', page)
    assert summary and 'aria-invalid="true"' in summary.group(0)
    assert re.search(r'id="f-summary-error">\s*必填\s*<', page)
    assert re.search(r'id="f-people_count-error">\s*不能小于 1\s*<', page)  # both at once
    assert INTAKE["description"] in page and "恒安物业服务有限公司" in page
    assert _cases(services) == 0


@pytest.mark.parametrize(("field", "value", "message"), BAD_PARTY)
def test_intake_page_checks_party_fields(as_role, services, process, field, value, message):
    client = as_role("intake_clerk")
    response = post(client, "/cases/new",
                    {**INTAKE, f"parties-1-{field}": value, "action": "preview"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_values_at_the_limits_are_accepted(client, services, users, process):
    body = {**BODY, "channel_ref": "r" * 128, "summary": "摘" * 200, "category": "other",
            "parties": [{**BODY["parties"][0], "name": "名" * 100, "address": "址" * 200,
                         "role": "third_party"},
                        {**BODY["parties"][0], "phone": None, "id_number": None}]}
    response = client.post("/api/v1/cases", json=body, headers=_token(services, "intake_clerk"))
    assert response.status_code == 201, response.get_json()
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case)).one()
        assert (len(case.channel_ref), len(case.summary), case.category) == (128, 200, "other")


@pytest.mark.parametrize(("field", "value"), [
    ("summary", "夜间施工噪声扰民，回电 138  1234  5678"),
    ("summary", "夜间施工噪声扰民，电话 138 - 1234 - 5678"),
    ("description", "夜间施工噪声扰民\n回电 138\n1234  5678"),
    ("description", "工资卡 6222  0212  3456  7890  128"),
])
def test_a_loosely_spaced_number_is_refused(client, services, users, process, field, value):
    """Double spaces, a hyphen with spaces around it or line breaks between its groups: intake
    reads the number as the correction at 登记核对 does, joined."""
    response = client.post("/api/v1/cases", json={**BODY, field: value},
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert "文字中不能填写身份证号、电话" in response.get_json()["errors"][field]
    assert _cases(services) == 0


def test_dates_amounts_and_case_codes_are_not_numbers_of_people(client, services, users,
                                                                process):
    text = "2025年3月3日起欠薪 12000 元，13 人；2025-03-03 - 2025-03-05 协商，见 JF-2026-000007"
    body = {**BODY, "summary": text, "description": text.replace("；", "\n")}
    response = client.post("/api/v1/cases", json=body, headers=_token(services, "intake_clerk"))
    assert response.status_code == 201, response.get_json()
