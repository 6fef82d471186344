"""The reports pages: a report for the current period or a range, rates as percentages, the charts
and the printable view."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.web.conftest import post
from tests.workflows import sched_support as S
from workflows.models.scheduling import Report


def _quarter(services, clock) -> None:
    rs = S.department(services, "RS")
    for outcome, rating in (("R1", "satisfied"), ("R3", "dissatisfied")):
        S.case(services, opened_at=datetime(2025, 1, 6, 1, tzinfo=UTC),
               closed_at=datetime(2025, 1, 16, 1, tzinfo=UTC), status="closed", outcome=outcome,
               satisfaction=rating, category="labour", lead_department_id=rs)
    clock.set(datetime(2025, 4, 2, 1, 0, tzinfo=UTC))


def test_a_range_report_shows_percentages_charts_and_a_print_view(as_role, services, clock):
    _quarter(services, clock)
    client = as_role("supervisor")
    response = post(client, "/reports/", {"kind": "quarterly", "period": "range",
                                          "from": "2025-01-01", "to": "2025-02-28"})
    assert response.status_code == 302
    with services.session_factory() as session:
        report = session.scalars(select(Report)).one()
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == (
        "2025-01-01", "2025-02-28")
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "50.0%" in page and "≥ 80.0%" in page and ">0.5<" not in page
    assert "劳资纠纷（个人）" in page and ">labour<" not in page       # codes in words
    assert "矛盾纠纷化解率" in page and not re.search(r">\s*K-\d\d", page)   # KPIs by name
    assert 'data-testid="trend-chart"' in page and 'data-testid="bar-chart"' in page
    printable = client.get(f"/reports/{report.id}/print")
    text = printable.get_data(as_text=True)
    assert printable.status_code == 200 and "jf-print" in text and "50.0%" in text
    assert 'class="navbar' not in text                    # paper: no navigation


def test_the_current_period_and_a_bad_range(as_role, services, clock):
    clock.set(datetime(2025, 3, 12, 1, 0, tzinfo=UTC))
    client = as_role("supervisor")
    assert post(client, "/reports/", {"kind": "monthly", "period": "current"}).status_code == 302
    with services.session_factory() as session:
        report = session.scalars(select(Report)).one()
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == (
        "2025-03-01", "2025-03-12")
    bad = post(client, "/reports/", {"kind": "monthly", "period": "range", "from": "2025-03-10",
                                     "to": "2025-03-01"})
    assert bad.status_code == 422 and 'value="2025-03-10"' in bad.get_data(as_text=True)
    assert post(client, "/reports/", {"kind": "monthly", "period": "range",
                                      "from": "", "to": ""}).status_code == 422


def test_the_report_command_takes_a_range(services, clock, monkeypatch, tmp_path):
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from web.cli import cli as group
    from web.commands import scheduler as command

    _quarter(services, clock)
    monkeypatch.setattr(command, "cli_services", lambda: services)
    xlsx = tmp_path / "q.xlsx"
    result = CliRunner().invoke(group, ["report", "quarterly", "--from", "2025-01-01", "--to",
                                        "2025-01-31", "--xlsx", str(xlsx)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "季度评估（2025-01-01 至 2025-01-31）" in result.output
    assert "K-01 矛盾纠纷化解率: 50.0% (target ≥ 80.0%) MISSED" in result.output
    assert len(load_workbook(xlsx)["图表"]._charts) == 2
    bad = CliRunner().invoke(group, ["report", "weekly", "--from", "2025-01-01"])
    assert bad.exit_code != 0


def _escalated_month(services, clock) -> None:
    """March 2025: one late, escalated (提级督办) order and one done in time."""
    from tests.workflows.test_reports import _order, at
    from workflows.models.scheduling import SupervisionNotice

    rs, zj = S.department(services, "RS"), S.department(services, "ZJ")
    late = S.case(services, opened_at=at("2025-03-03T09:00"))
    escalated = _order(services, late, rs, dispatched_at=at("2025-03-03T09:00"), light="red",
                       breach_count=2)
    fine = S.case(services, opened_at=at("2025-03-04T09:00"))
    _order(services, fine, zj, dispatched_at=at("2025-03-04T09:00"), status="done", light="red",
           due_at=at("2025-03-05T00:00"), completed_at=at("2025-03-07T09:00"))
    with services.new_uow() as uow:
        uow.session.add(SupervisionNotice(
            case_id=late, work_order_id=escalated, department_id=rs, level=2, kind="upgrade",
            reason="再次超时", source="work_order:red", issued_at=at("2025-03-12T09:00"),
            issued_by="scheduler", dedupe_key="k1"))
        uow.commit()
    clock.set(datetime(2025, 4, 2, 1, 0, tzinfo=UTC))


def test_downloads_and_page_say_lights_statuses_and_rungs_in_words(as_role, services, clock):
    import csv
    import io

    from openpyxl import load_workbook

    _escalated_month(services, clock)
    client = as_role("supervisor")
    post(client, "/i18n/locale/en")                         # downloads stay Chinese anyway
    made = post(client, "/reports/", {"kind": "monthly"})
    report_id = made.headers["Location"].rsplit("/", 1)[-1]

    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/reports/{report_id}.csv").data.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(client.get(f"/reports/{report_id}.xlsx").data)).active
    header = [c.value for c in sheet[2]]
    cells = [dict(zip(header, (c.value for c in row), strict=True))
             for row in sheet.iter_rows(min_row=3)]

    for table in (rows, cells):
        assert {(r["时效灯"], r["状态"]) for r in table} == {("红", "待签收"), ("红", "已办结")}
        assert "提级督办" in {r["最高督办级别"] for r in table}, table
        assert not {"red", "dispatched", "done"} & {v for r in table for v in r.values()}
    post(client, "/i18n/locale/zh_Hans_CN")
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "<td>2</td><td>提级督办</td>" in page            # 超时次数 2, 最高督办级别 in words
