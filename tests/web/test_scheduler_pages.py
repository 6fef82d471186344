"""Supervision, reports and calendar pages: who may see them, what they show, downloads, edits."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.web.conftest import Users, post
from tests.workflows import sched_support as S
from web import calendar_admin, create_app, reports, supervision
from workflows.models import CalendarOverride, Department, WorkOrder


@pytest.fixture
def app(services, settings):
    app = create_app(settings, services=services)
    for module in (supervision, reports, calendar_admin):
        if module.bp.name not in app.blueprints:  # until web/__init__.py registers them
            module.register(app)
    return app


@pytest.fixture
def users(services, reference) -> Users:
    found = Users(services)
    for role in ("supervisor", "leader", "admin", "mediator", "auditor"):
        found.add(role, role, "T_CENTRE" if role in ("supervisor", "mediator") else None)
    return found


def _overdue_case(services) -> str:
    with services.session_factory() as session:
        dept = session.scalar(select(Department.id).where(Department.code == "T_CENTRE"))
    case_id = S.case(services, urgency="urgent", risk_level="orange", tier="district",
                     lead_department_id=dept)
    order_id = S.add_order(services, case_id, dept)
    with services.new_uow() as uow:
        uow.session.get(WorkOrder, order_id).light = "red"
        uow.commit()
    from workflows.models import Case

    with services.session_factory() as session:
        return session.get(Case, case_id).case_no


@pytest.mark.parametrize(("path", "allowed", "denied"), [
    ("/supervision/", "supervisor", "mediator"),
    ("/reports/", "auditor", "mediator"),
    ("/admin/calendar/", "admin", "supervisor"),
])
def test_pages_are_for_their_roles_and_denials_are_audited(as_role, services, path, allowed,
                                                           denied):
    assert as_role(denied).get(path).status_code == 403
    assert S.events(services, "access_denied")
    as_role(allowed).get("/auth/logout")
    assert as_role(allowed).get(path).status_code == 200


def test_supervision_page_lists_the_red_order_first(as_role, services):
    case_no = _overdue_case(services)
    page = as_role("supervisor").get("/supervision/").get_data(as_text=True)
    assert 'data-testid="overdue-orders"' in page and case_no in page
    assert 'data-light="red"' in page


def test_reports_page_generates_shows_and_downloads(as_role, services, clock):
    from openpyxl import load_workbook

    clock.set(datetime(2025, 4, 2, 1, 0, tzinfo=UTC))
    client = as_role("supervisor")
    response = post(client, "/reports/", {"kind": "quarterly"})
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "季度评估（2025-01-01 至 2025-03-31）" in detail and 'data-kpi="K-01"' in detail
    report_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    csv = client.get(f"/reports/{report_id}.csv")
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert csv.data.decode("utf-8-sig").startswith("维度,名称")
    xlsx = client.get(f"/reports/{report_id}.xlsx")
    assert load_workbook(io.BytesIO(xlsx.data))["指标对照"]["A2"].value == "矛盾纠纷化解率"
    assert "季度评估" in client.get("/reports/").get_data(as_text=True)


def test_auditor_reads_reports_but_cannot_generate_them(as_role):
    assert post(as_role("auditor"), "/reports/", {"kind": "weekly"}).status_code == 403


def test_admin_adds_and_withdraws_an_override(as_role, services):
    client = as_role("admin")
    page = client.get("/admin/calendar/?year=2025").get_data(as_text=True)
    assert "2025-10-11" in page                                   # a make-up working day
    bad = post(client, "/admin/calendar/", {"day": "2025-03-10", "kind": "holiday", "reason": ""})
    assert bad.status_code == 422 and "请说明调整原因" in bad.get_data(as_text=True)
    ok = post(client, "/admin/calendar/", {"day": "2025-03-10", "kind": "holiday",
                                           "reason": "停电闭馆"})
    assert ok.status_code == 302
    assert not services.calendar.calendar.is_working_day(datetime(2025, 3, 10).date())
    post(client, "/admin/calendar/withdraw", {"day": "2025-03-10", "reason": "恢复"})
    with services.session_factory() as session:
        rows = session.scalars(select(CalendarOverride)).all()
    assert [r.superseded_at is not None for r in rows] == [True]
    assert services.calendar.calendar.is_working_day(datetime(2025, 3, 10).date())
    assert len(S.events(services, "calendar_changed")) == 2


def test_reports_read_in_english_downloads_stay_chinese(as_role, clock):
    clock.set(datetime(2025, 4, 2, 1, 0, tzinfo=UTC))
    client = as_role("supervisor")
    post(client, "/i18n/locale/en")
    response = post(client, "/reports/", {"kind": "quarterly"})
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Quarterly evaluation (2025-01-01 to 2025-03-31)" in detail
    assert "District-wide" in detail and "Dispute resolution rate" in detail
    assert "季度评估" not in detail and "全区" not in detail and "化解率" not in detail
    listing = client.get("/reports/").get_data(as_text=True)
    assert "Weekly review list" in listing and "周调度清单" not in listing
    report_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert client.get(f"/reports/{report_id}.csv").data.decode("utf-8-sig").startswith("维度")


def test_calendar_page_in_english(as_role, services):
    client = as_role("admin")
    post(client, "/i18n/locale/en")
    bad = post(client, "/admin/calendar/", {"day": "2025-03-10", "kind": "holiday", "reason": ""})
    assert "Please give a reason for the adjustment" in bad.get_data(as_text=True)
    ok = post(client, "/admin/calendar/", {"day": "2025-03-10", "kind": "holiday",
                                           "reason": "停电闭馆"}, follow_redirects=True)
    page = ok.get_data(as_text=True)
    assert "2025-03-10 adjusted" in page and "2025-10-01, 2025-10-02" in page and "、" not in page
    assert 'name="reason" value=' not in page          # withdrawing sends no page-language text
    post(client, "/admin/calendar/withdraw", {"day": "2025-03-10"})
    assert json.loads(S.events(services, "calendar_changed")[-1].payload)["reason"] == "撤销调整"


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_calendar_page_says_where_holidays_come_from_without_naming_a_library(as_role, locale):
    """The source of the holidays in plain words (the State Council's published arrangement);
    the Python package that carries them is for docs/calendar.md, not for the page."""
    client = as_role("admin")
    post(client, "/i18n/locale/" + locale)
    page = client.get("/admin/calendar/?year=2025").get_data(as_text=True)
    assert "chinese-calendar" not in page and "chinese_calendar" not in page
    assert ("国务院办公厅" if locale == "zh_Hans_CN" else "General Office of the State Council") in page
