"""Dates typed into pages and the API have sane bounds: a clear Chinese field error, never a 500
(the test clock stands at 2025-03-03; the default floor is 2000-01-01)."""

from __future__ import annotations

from datetime import date

from tests.web.conftest import post
from workflows.access import tokens
from workflows.core.actors import SYSTEM


def test_case_list_refuses_registration_dates_outside_the_bounds(as_role):
    client = as_role("supervisor")
    early = client.get("/cases?from=0001-01-01")
    assert early.status_code == 422
    assert "日期不能早于 2000-01-01，请检查年份" in early.get_data(as_text=True)
    late = client.get("/cases?to=9999-12-31")
    assert late.status_code == 422 and "日期不能晚于 2026-12-31" in late.get_data(as_text=True)
    assert client.get("/cases?from=2025-01-01&to=2025-12-31").status_code == 200


def test_api_case_list_names_the_bad_date(client, services, users):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username="supervisor",
                                channel="hotline_12345")
    response = client.get("/api/v1/cases?to=9999-12-31",
                          headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 422
    assert "to" in response.get_json()["errors"]


def test_warning_filter_with_an_absurd_year_is_a_field_error(as_role):
    page = as_role("supervisor").get("/warnings?to=9999-12-31")
    assert page.status_code == 200 and "日期不能晚于 2026-12-31" in page.get_data(as_text=True)


def test_audit_filter_with_year_one_is_left_out_with_a_message(as_role):
    page = as_role("auditor").get("/audit/access?since=0001-01-01")
    assert page.status_code == 200
    assert "日期不能早于 2000-01-01" in page.get_data(as_text=True)


def test_calendar_override_far_ahead_is_refused(as_role):
    client = as_role("admin")
    response = post(client, "/admin/calendar/", {"day": "9999-01-01", "kind": "holiday",
                                                 "reason": "调休"})
    assert response.status_code == 422
    assert "日期不能晚于 2027-12-31，请检查年份" in response.get_data(as_text=True)
    assert post(client, "/admin/calendar/", {"day": "2026-10-08", "kind": "holiday",
                                             "reason": "调休"}).status_code == 302


def test_report_range_before_the_floor_is_refused(services):
    import pytest

    from workflows.core.errors import ErrorCode, InvalidInput
    from workflows.reports import periodic

    with pytest.raises(InvalidInput) as refused:
        periodic.generate_range(services, "weekly", date(1999, 12, 30), date(2000, 1, 2))
    assert refused.value.field_errors["from"].code == ErrorCode.DATE_BEFORE_FLOOR


def test_kpi_period_with_an_absurd_year_is_a_field_error(client, services, users):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username="leader",
                                channel="portal")
    response = client.get("/api/v1/kpis?from=0001-01-01&to=9999-12-31",
                          headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"from", "to"}
