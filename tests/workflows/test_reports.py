"""Periodic reports: periods, weekly review list, monthly bulletin, quarterly KPIs vs targets,
storage, CSV/XLSX downloads."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.workflows import sched_support as S
from workflows.core.errors import InvalidInput
from workflows.models import WorkOrder
from workflows.models.scheduling import Report, SupervisionNotice
from workflows.reports import periodic as reports

SH = "+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + SH).astimezone(UTC)


@pytest.mark.parametrize(("kind", "day", "period"), [
    ("weekly", date(2025, 3, 12), (date(2025, 3, 3), date(2025, 3, 9))),
    ("weekly", date(2025, 3, 10), (date(2025, 3, 3), date(2025, 3, 9))),
    ("monthly", date(2025, 4, 2), (date(2025, 3, 1), date(2025, 3, 31))),
    ("monthly", date(2025, 1, 1), (date(2024, 12, 1), date(2024, 12, 31))),
    ("quarterly", date(2025, 4, 1), (date(2025, 1, 1), date(2025, 3, 31))),
    ("quarterly", date(2025, 2, 15), (date(2024, 10, 1), date(2024, 12, 31))),
])
def test_report_period_is_the_last_complete_one(kind, day, period):
    assert reports.period_before(kind, day) == period


def _order(services, case_id, dept, **fields) -> int:
    order_id = S.add_order(services, case_id, dept, dispatched_at=fields.pop("dispatched_at"))
    with services.new_uow() as uow:
        order = uow.session.get(WorkOrder, order_id)
        for name, value in fields.items():
            setattr(order, name, value)
        uow.commit()
    return order_id


def test_weekly_review_lists_cases_open_over_7_days_or_overdue(services, clock):
    dept = S.department(services, "RS")
    old = S.case(services, opened_at=at("2025-02-25T10:00"), category="neighbour",
                 lead_department_id=dept)
    overdue = S.case(services, opened_at=at("2025-03-06T10:00"), category="labour")
    _order(services, overdue, dept, dispatched_at=at("2025-03-06T10:00"), light="orange")
    S.case(services, opened_at=at("2025-03-07T10:00"))                       # fresh, on time
    S.case(services, opened_at=at("2025-02-01T10:00"), status="closed")      # closed
    S.case(services, opened_at=at("2025-02-01T10:00"), duplicate_of_id=old)  # 重复件
    report = reports.generate(services, "weekly", at=at("2025-03-10T06:00"))
    rows = {r["case_no"]: r for r in report.rows}
    assert len(rows) == 2
    first, second = sorted(rows.values(), key=lambda r: r["opened"])
    assert (first["days_open"], first["overdue"], first["reason"]) == (12, "否", "超过7天未办结")
    assert first["department"] == "部门RS"
    assert (second["overdue"], second["light"], second["reason"]) == ("是", "orange", "超期")
    assert report.summary["listed"] == 2 and report.title.startswith("周调度清单（2025-03-03")


def test_monthly_bulletin_names_overdue_and_escalated_orders_by_department(services, clock):
    rs, zj = S.department(services, "RS"), S.department(services, "ZJ")
    late = S.case(services, opened_at=at("2025-03-03T09:00"))
    escalated = _order(services, late, rs, dispatched_at=at("2025-03-03T09:00"), light="red",
                       breach_count=2)
    fine = S.case(services, opened_at=at("2025-03-04T09:00"))
    _order(services, fine, zj, dispatched_at=at("2025-03-04T09:00"), status="done",
           due_at=at("2025-03-10T00:00"), completed_at=at("2025-03-07T09:00"))
    with services.new_uow() as uow:
        uow.session.add(SupervisionNotice(
            case_id=late, work_order_id=escalated, department_id=rs, level=2, kind="upgrade",
            reason="再次超时", source="work_order:red", issued_at=at("2025-03-12T09:00"),
            issued_by="scheduler", dedupe_key="k1"))
        uow.commit()
    report = reports.generate(services, "monthly", at=at("2025-04-01T06:10"))
    assert [(r["department"], r["light"], r["level"], r["breaches"]) for r in report.rows] == [
        ("部门RS", "red", 2, 2)]
    assert report.summary["departments"] == {"部门RS": {"overdue": 1, "escalated": 1,
                                                       "upgraded": 1}}


def _closed(services, dept, *, outcome, satisfaction, category="labour", second=False,
            opened="2025-01-06T09:00", closed="2025-01-16T09:00"):
    return S.case(services, opened_at=at(opened), closed_at=at(closed), status="closed",
                  outcome=outcome, satisfaction=satisfaction, category=category,
                  second_complaint=second, lead_department_id=dept)


def test_quarterly_evaluation_computes_kpis_against_the_dated_targets(services, clock):
    rs = S.department(services, "RS")
    _closed(services, rs, outcome="R1", satisfaction="satisfied")
    _closed(services, rs, outcome="R2", satisfaction="basically_satisfied")
    _closed(services, rs, outcome="R1", satisfaction="dissatisfied", second=True)
    _closed(services, rs, outcome="R3", satisfaction=None, category="neighbour")
    _closed(services, rs, outcome="R4", satisfaction=None)                  # routed: not counted
    case = S.case(services, opened_at=at("2025-01-06T09:00"))
    _order(services, case, rs, dispatched_at=at("2025-01-06T09:00"),
           accepted_at=at("2025-01-06T15:00"), due_at=at("2025-01-20T00:00"),
           completed_at=at("2025-01-15T09:00"), status="done")
    late_case = S.case(services, opened_at=at("2025-01-07T09:00"))
    _order(services, late_case, rs, dispatched_at=at("2025-01-07T09:00"),
           accepted_at=at("2025-01-09T09:00"), due_at=at("2025-01-20T00:00"),
           completed_at=at("2025-01-22T09:00"), status="done")
    report = reports.generate(services, "quarterly", at=at("2025-04-01T06:20"))
    total = report.rows[0]
    assert (total["scope"], total["closed"]) == ("全区", 5)
    assert total["K-01"] == 0.5                  # R1+R2 not dissatisfied (2) / closed minus R4 (4)
    assert total["K-02"] == round(2 / 3, 4)      # rated: satisfied, basically, dissatisfied
    assert total["K-03"] == 0.2
    assert total["K-26"] == 0.5 and total["K-25"] == 0.5
    assert total["K-05"] == 27.0                 # (6 h + 48 h) / 2
    assert total["K-08"] == 10.0
    targets = report.summary["targets"]
    assert targets["K-01"] == {"name": "矛盾纠纷化解率", "value": 0.5, "met": False,
                               "target": ">= 0.8", "source": "《区综治中心机制建设方案》"}
    assert targets["K-03"]["met"] is False and targets["K-02"]["met"] is False
    scopes = {(r["scope"], r["name"]) for r in report.rows}
    assert {("部门", "部门RS"), ("类型", "labour"), ("类型", "neighbour")} <= scopes


def test_a_2026_quarter_uses_the_2026_targets(services):
    report = reports.generate(services, "quarterly", at=at("2026-04-01T06:20"))
    assert report.summary["targets"]["K-01"]["target"] == ">= 0.85"
    assert report.summary["targets"]["K-02"]["target"] == ">= 0.9"
    assert report.summary["targets"]["K-01"]["met"] is None        # no closures: no data


def test_regenerating_a_period_replaces_it_and_is_audited_each_time(services):
    for _ in range(2):
        reports.generate(services, "weekly", at=at("2025-03-10T06:00"))
    with services.session_factory() as session:
        assert len(session.scalars(select(Report)).all()) == 1
        assert [r.kind for r in reports.list_reports(session)] == ["weekly"]
    assert len(S.events(services, "report_generated")) == 2


def test_csv_download_has_chinese_headers_and_neutralises_formulas(services):
    S.case(services, opened_at=at("2025-02-20T10:00"), category="=HYPERLINK(\"x\")")
    report = reports.generate(services, "weekly", at=at("2025-03-10T06:00"))
    data = reports.to_csv(report)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["案件编号", "类型", "层级"]
    assert rows[1][1].startswith("'=")


def test_xlsx_download_holds_the_rows_and_the_kpi_sheet(services):
    from openpyxl import load_workbook

    rs = S.department(services, "RS")
    _closed(services, rs, outcome="R1", satisfaction="satisfied")
    report = reports.generate(services, "quarterly", at=at("2025-04-01T06:20"))
    book = load_workbook(io.BytesIO(reports.to_xlsx(report)))
    sheet = book["季度评估"]
    assert sheet["A1"].value.startswith("季度评估（2025-01-01")
    assert [c.value for c in sheet[2]][:3] == ["维度", "名称", "办结数"]
    assert sheet["A3"].value == "全区" and sheet["C3"].value == 1
    kpis = book["指标对照"]
    assert [c.value for c in kpis[1]][:2] == ["指标", "实际值"]        # no KPI code column
    assert kpis["A2"].value == "矛盾纠纷化解率" and kpis["D2"].value == "达标"


def test_a_range_report_counts_only_its_dates_and_is_stored_beside_the_period(services, clock):
    rs = S.department(services, "RS")
    _closed(services, rs, outcome="R1", satisfaction="satisfied", closed="2025-01-10T09:00")
    _closed(services, rs, outcome="R3", satisfaction="dissatisfied", closed="2025-02-20T09:00")
    clock.set(at("2025-04-02T09:00"))
    quarter = reports.generate(services, "quarterly")
    january = reports.generate_range(services, "quarterly", date(2025, 1, 1), date(2025, 1, 31))
    assert quarter.id != january.id and january.period_end == date(2025, 1, 31)
    assert january.title == "季度评估（2025-01-01 至 2025-01-31）"
    assert (january.rows[0]["closed"], january.rows[0]["K-01"]) == (1, 1.0)
    assert (quarter.rows[0]["closed"], quarter.rows[0]["K-01"]) == (2, 0.5)
    # the trend of a month is by day; of a quarter by week (Mondays)
    assert len(january.summary["trend"]) == 31
    assert january.summary["trend"][9] == {"label": "2025-01-10", "received": 0, "closed": 1}
    assert quarter.summary["trend"][0]["label"] == "2024-12-30"
    assert sum(p["received"] for p in quarter.summary["trend"]) == 2


def test_the_current_period_runs_to_today(services, clock):
    clock.set(at("2025-03-12T09:00"))                    # a Wednesday
    report = reports.generate_current(services, "weekly")
    assert (report.period_start, report.period_end) == (date(2025, 3, 10), date(2025, 3, 12))
    assert reports.period_containing("quarterly", date(2025, 5, 20)) == (date(2025, 4, 1),
                                                                         date(2025, 5, 20))


@pytest.mark.parametrize(("first", "last", "field"), [
    (date(2025, 3, 5), date(2025, 3, 1), "to"),           # ends before it starts
    (date(2025, 3, 1), date(2025, 3, 13), "to"),          # after today
    (date(2023, 1, 1), date(2025, 3, 1), "from"),         # more than 366 days
])
def test_a_bad_range_is_refused_with_the_field(services, clock, first, last, field):
    clock.set(at("2025-03-12T09:00"))
    with pytest.raises(InvalidInput) as refused:
        reports.generate_range(services, "monthly", first, last)
    assert set(refused.value.field_errors) == {field}


def test_rates_are_percentages_in_csv_and_xlsx_and_the_xlsx_carries_charts(services):
    from openpyxl import load_workbook

    rs = S.department(services, "RS")
    _closed(services, rs, outcome="R1", satisfaction="satisfied")
    _closed(services, rs, outcome="R3", satisfaction="dissatisfied")
    report = reports.generate(services, "quarterly", at=at("2025-04-01T06:20"))
    rows = list(csv.reader(io.StringIO(reports.to_csv(report).decode("utf-8-sig"))))
    assert rows[0][3:6] == ["化解率", "满意度", "二次投诉率"]
    assert rows[1][3:6] == ["50.0%", "50.0%", "0.0%"]
    book = load_workbook(io.BytesIO(reports.to_xlsx(report)))
    sheet = book["季度评估"]
    assert sheet["D3"].value == 0.5 and sheet["D3"].number_format == "0.0%"
    kpis = book["指标对照"]
    assert kpis["B2"].number_format == "0.0%" and kpis["C2"].value == "≥ 80.0%"
    assert kpis["C5"].value == "≤ 24"                              # K-05 in hours
    charts = book["图表"]._charts
    assert len(charts) == 2
    assert [type(c).__name__ for c in charts] == ["LineChart", "BarChart"]
    assert book["图表"]["A1"].value == "日期"


@pytest.mark.parametrize("kind", ["weekly", "monthly"])
def test_weekly_and_monthly_xlsx_carry_their_charts(services, kind):
    from openpyxl import load_workbook

    dept = S.department(services, "RS")
    case = S.case(services, opened_at=at("2025-02-03T10:00"), category="labour",
                  lead_department_id=dept)
    _order(services, case, dept, dispatched_at=at("2025-02-03T10:00"), light="red")
    report = reports.generate(services, kind, at=at("2025-03-03T06:00"))
    assert report.summary["chart"]["names"] == ["部门RS"]
    book = load_workbook(io.BytesIO(reports.to_xlsx(report)))
    assert len(book["图表"]._charts) == 2
