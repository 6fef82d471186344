"""Periodic reports: generate for a period, store, list, download as CSV or XLSX.

``generate(services, kind, at=...)`` builds the report of the period that ended before ``at``
(Asia/Shanghai dates); ``generate_current`` the current period up to today; ``generate_range``
any range of dates. Each is stored in ``report`` (one row per kind and dates: regenerating the
same dates replaces the content and is audited again).

Reports are stored district-wide and scoped when read (a download goes through the access
policy like any page): a row naming a case is shown only to a reader who may see that case
(``visible_cases``); aggregate rows (the quarterly KPIs) are for every reader. Only district-tier
supervisors and leaders generate, and every download is audited (``report_downloaded``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access.policy import Denied, visible_cases
from workflows.audit.log import AuditAction
from workflows.core import dates
from workflows.core.actors import SCHEDULER, Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.mediation.rooms import month_room_use
from workflows.models import Case, Department, Tier
from workflows.models.scheduling import Report
from workflows.reports.charts import RATE_KEYS, series, shown, shown_target, trend
from workflows.reports.data import monthly_bulletin, quarterly_evaluation, weekly_review
from workflows.runtime.bootstrap import Services

KINDS = ("weekly", "monthly", "quarterly")
MAX_RANGE_DAYS = 366
TITLES = {"weekly": "周调度清单", "monthly": "月度通报", "quarterly": "季度评估"}


def period_before(kind: str, day: date) -> tuple[date, date]:
    """The last complete week (Mon-Sun), month or quarter before ``day``; inclusive dates."""
    if kind == "weekly":
        monday = day - timedelta(days=day.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if kind == "monthly":
        end = day.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if kind == "quarterly":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        end = first - timedelta(days=1)
        return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end
    raise InvalidInput({"kind": FieldError(FieldCode.NOT_AN_OPTION)})


def period_containing(kind: str, day: date) -> tuple[date, date]:
    """The week, month or quarter holding ``day``, up to ``day`` itself (the current period)."""
    if kind == "weekly":
        return day - timedelta(days=day.weekday()), day
    if kind == "monthly":
        return day.replace(day=1), day
    if kind == "quarterly":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), day
    raise InvalidInput({"kind": FieldError(FieldCode.NOT_AN_OPTION)})


def generate(services: Services, kind: str, *, at: datetime | None = None,
             actor: Actor = SCHEDULER) -> Report:
    """Build, store and audit the report of the period before ``at`` (default: now)."""
    at = at or services.clock.now()
    first, last = period_before(kind, at.astimezone(services.calendar.tz).date())
    return _store(services, kind, first, last, actor)


def generate_current(services: Services, kind: str, *, actor: Actor = SCHEDULER) -> Report:
    """The current week, month or quarter up to today."""
    today = services.clock.now().astimezone(services.calendar.tz).date()
    return _store(services, kind, *period_containing(kind, today), actor)


def generate_range(services: Services, kind: str, first: date, last: date, *,
                   actor: Actor = SCHEDULER) -> Report:
    """Any range of local dates (both included), at most MAX_RANGE_DAYS long, not after today."""
    if kind not in KINDS:
        raise InvalidInput({"kind": FieldError(FieldCode.NOT_AN_OPTION)})
    today = services.clock.now().astimezone(services.calendar.tz).date()
    if last < first:
        raise InvalidInput({"to": FieldError(FieldCode.TOO_EARLY, {"limit": first.isoformat()})})
    if last > today:
        raise InvalidInput({"to": FieldError(FieldCode.TOO_LATE, {"limit": today.isoformat()})})
    if first < dates.floor(services.settings):
        raise InvalidInput({"from": FieldError(ErrorCode.DATE_BEFORE_FLOOR,
                                               {"floor": services.settings.date_floor})})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput({"from": FieldError(FieldCode.TOO_EARLY, {
            "limit": (last - timedelta(days=MAX_RANGE_DAYS - 1)).isoformat()})})
    return _store(services, kind, first, last, actor)


def _store(services: Services, kind: str, first: date, last: date, actor: Actor) -> Report:
    """Build the report of [first, last] and store it (the same kind and dates: replaced)."""
    tz = services.calendar.tz
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    with services.new_uow() as uow:
        columns, rows, summary = _build(uow.session, kind, start, end, last, tz)
        summary = {**summary, "trend": trend(uow.session, start, end, tz)}
        summary["chart"] = series(kind, rows, summary)
        title = f"{TITLES[kind]}（{first.isoformat()} 至 {last.isoformat()}）"
        report = uow.session.scalars(select(Report).where(
            Report.kind == kind, Report.period_start == first,
            Report.period_end == last)).first()
        if report is None:
            report = Report(kind=kind, period_start=first, period_end=last)
            uow.session.add(report)
        report.title, report.columns = title, columns
        report.rows, report.summary = rows, {**summary, "rows": len(rows)}
        report.generated_at, report.generated_by = uow.clock.now(), str(actor.id)
        uow.session.flush()
        uow.audit.record(AuditAction.REPORT_GENERATED, actor, object_type="report",
                         object_id=report.id, kind=kind, period_start=first.isoformat(),
                         period_end=last.isoformat(), rows=len(rows))
        uow.commit()
    return report


def _build(session: Session, kind: str, start: datetime, end: datetime, last: date,
           tz: tzinfo) -> tuple[list, list, dict]:
    if kind == "weekly":
        return weekly_review(session, end=end, tz=tz)
    if kind == "monthly":
        columns, rows, summary = monthly_bulletin(session, start=start, end=end, tz=tz)
        return columns, rows, {**summary, "room_use": month_room_use(session, start.date(), last)}
    return quarterly_evaluation(session, start=start, end=end, last_day=last)


# -- reading and downloads ------------------------------------------------------------------------
def list_reports(session: Session, kind: str | None = None) -> list[Report]:
    """Stored reports, newest period first."""
    query = select(Report)
    if kind:
        query = query.where(Report.kind == kind)
    return list(session.scalars(query.order_by(Report.period_start.desc(), Report.kind)))


def get_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(ErrorCode.REPORT_NOT_FOUND, report_id=report_id)
    return report


@dataclass
class ReportView:
    """A stored report as one reader may see it (rows naming cases outside their scope left out)."""

    id: int
    kind: str
    title: str
    period_start: date
    period_end: date
    columns: list
    rows: list
    summary: dict
    generated_at: datetime
    hidden: int = 0          # rows left out for this reader


def read_report(services: Services, actor: Actor, report_id: int, *,
                download: str | None = None) -> ReportView:
    """The report scoped to the reader; a download (``csv``/``xlsx``) is audited."""
    with services.new_uow() as uow:
        report = get_report(uow.session, report_id)
        rows = scoped_rows(uow.session, actor, report)
        view = ReportView(report.id, report.kind, report.title, report.period_start,
                          report.period_end, list(report.columns), rows,
                          dict(report.summary or {}), report.generated_at,
                          hidden=len(report.rows or []) - len(rows))
        if download:
            uow.audit.record(AuditAction.REPORT_DOWNLOADED, actor, object_type="report",
                             object_id=report.id, kind=report.kind, format=download,
                             rows=len(rows), hidden=view.hidden, decision="allow",
                             rule="reports.scope", ip=actor.ip, session_hash=actor.session_hash)
            uow.commit()
    return view


def scoped_rows(session: Session, actor: Actor, report: Report) -> list[dict]:
    """Rows of the report the actor may read: a row with a case code needs that case in scope."""
    rows = list(report.rows or [])
    if "case_no" not in {key for key, _label in report.columns}:
        return rows                                  # aggregates only (quarterly KPIs)
    codes = sorted({row.get("case_no") for row in rows if row.get("case_no")})
    seen = set(session.scalars(select(Case.case_no).where(
        Case.case_no.in_(codes), visible_cases(actor)))) if codes else set()
    return [row for row in rows if row.get("case_no") in seen]


def require_district(session: Session, actor: Actor) -> None:
    """Generating a district-wide report is for district-tier supervisors and leaders."""
    tier = session.scalar(select(Department.tier).where(Department.id == actor.department_id)) \
        if actor.department_id is not None else None
    if tier != Tier.DISTRICT:
        raise Denied(ErrorCode.DISTRICT_REPORTS, "reports.generate.tier",
                     object_type="page", object_id="reports")


# how a download writes a stored cell (column key, value, row): the caller's words for codes
CellWords = Callable[[str, Any, dict], Any]


def _as_stored(_key: str, value: Any, _row: dict) -> Any:
    return value


def to_csv(report: Report, words: CellWords = _as_stored) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs read the Chinese headers), one row per line;
    ``words`` writes coded cells (status, light, category …) in words."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in report.columns])
    for row in report.rows:
        writer.writerow([_cell(shown(key, words(key, row.get(key), row)))
                         for key, _ in report.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Report, words: CellWords = _as_stored) -> bytes:
    """An XLSX workbook: the report sheet (rates as percentages, coded cells through ``words``),
    the KPI targets of a quarterly evaluation, and a chart sheet (received / closed over the
    period, the report's own bars)."""
    book = Workbook()
    sheet = book.active
    sheet.title = TITLES.get(report.kind, "报表")[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([label for _, label in report.columns])
    for row in report.rows:
        sheet.append([_cell(words(key, row.get(key), row)) for key, _ in report.columns])
    for index, (key, _label) in enumerate(report.columns, start=1):
        if key in RATE_KEYS:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = PERCENT
    summary = report.summary or {}
    targets = summary.get("targets")
    if targets:
        kpis = book.create_sheet("指标对照")
        kpis.append(["指标", "实际值", "目标", "是否达标", "依据"])   # by name: no KPI codes
        for kpi, item in targets.items():
            met = {True: "达标", False: "未达标"}.get(item["met"], "无数据")
            kpis.append([item["name"], item["value"], shown_target(kpi, item["target"]),
                         met, item["source"]])
            if kpi in RATE_KEYS:
                kpis.cell(row=kpis.max_row, column=2).number_format = PERCENT
    _charts(book, summary)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PERCENT = "0.0%"


def _charts(book: Workbook, summary: dict) -> None:
    """The sheet 图表: the data tables and an openpyxl chart beside each."""
    sheet = book.create_sheet("图表")
    points = summary.get("trend") or []
    sheet.append(["日期", "受理", "办结"])
    for point in points:
        sheet.append([point["label"], point["received"], point["closed"]])
    if points:
        line = LineChart()
        line.title, line.y_axis.title = "受理与办结", "件"
        line.add_data(Reference(sheet, min_col=2, max_col=3, min_row=1,
                                max_row=len(points) + 1), titles_from_data=True)
        line.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(points) + 1))
        line.width, line.height = 18, 8
        sheet.add_chart(line, "E2")
    chart = summary.get("chart") or {}
    names = chart.get("names") or []
    if not names:
        return
    top = len(points) + 3
    sheet.cell(row=top, column=1, value=chart["title"])
    sheet.cell(row=top + 1, column=1, value="名称")
    for col, (_key, label) in enumerate(chart["columns"], start=2):
        sheet.cell(row=top + 1, column=col, value=label)
    for offset, (name, values) in enumerate(zip(names, chart["values"], strict=True), start=2):
        sheet.cell(row=top + offset, column=1, value=_cell(name))
        for col, value in enumerate(values, start=2):
            cell = sheet.cell(row=top + offset, column=col, value=value)
            if chart.get("percent"):
                cell.number_format = PERCENT
    bars = BarChart()
    bars.type, bars.title = "col", chart["title"]
    bars.add_data(Reference(sheet, min_col=2, max_col=len(chart["columns"]) + 1, min_row=top + 1,
                            max_row=top + len(names) + 1), titles_from_data=True)
    bars.set_categories(Reference(sheet, min_col=1, min_row=top + 2, max_row=top + len(names) + 1))
    if chart.get("percent"):
        bars.y_axis.numFmt = PERCENT
    bars.width, bars.height = 18, 8
    sheet.add_chart(bars, f"E{top + 17 if points else 2}")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    text = str(value) if not isinstance(value, int | float) else value
    # a cell starting with = + - @ would be a formula in a spreadsheet (CSV injection)
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text
