"""Periodic reports: generate for a period, store, list, download as CSV or XLSX.

``generate(services, kind, at=...)`` builds the report of the period that ended before ``at``
(Asia/Shanghai dates) and stores it in ``report`` (one row per kind and period: regenerating the
same period replaces its content and is audited again).

Reports are stored district-wide and scoped when read (a download goes through the access
policy like any page): a row naming a case is shown only to a reader who may see that case
(``visible_cases``); aggregate rows (the quarterly KPIs) are for every reader. Only district-tier
supervisors and leaders generate, and every download is audited (``report_downloaded``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access.policy import Denied, visible_cases
from workflows.audit.log import AuditAction
from workflows.core.actors import SCHEDULER, Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.mediation.rooms import month_room_use
from workflows.models import Case, Department, Tier
from workflows.models.scheduling import Report
from workflows.reports.data import monthly_bulletin, quarterly_evaluation, weekly_review
from workflows.runtime.bootstrap import Services

KINDS = ("weekly", "monthly", "quarterly")
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


def generate(services: Services, kind: str, *, at: datetime | None = None,
             actor: Actor = SCHEDULER) -> Report:
    """Build, store and audit the report of the period before ``at`` (default: now)."""
    at = at or services.clock.now()
    tz = services.calendar.tz
    first, last = period_before(kind, at.astimezone(tz).date())
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    with services.new_uow() as uow:
        columns, rows, summary = _build(uow.session, kind, start, end, last, tz)
        title = f"{TITLES[kind]}（{first.isoformat()} 至 {last.isoformat()}）"
        report = uow.session.scalars(select(Report).where(
            Report.kind == kind, Report.period_start == first)).first()
        if report is None:
            report = Report(kind=kind, period_start=first)
            uow.session.add(report)
        report.period_end, report.title, report.columns = last, title, columns
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


def to_csv(report: Report) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs read the Chinese headers), one row per line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in report.columns])
    for row in report.rows:
        writer.writerow([_cell(row.get(key)) for key, _ in report.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    """An XLSX workbook: the report sheet, plus the KPI targets of a quarterly evaluation."""
    book = Workbook()
    sheet = book.active
    sheet.title = TITLES.get(report.kind, "报表")[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([label for _, label in report.columns])
    for row in report.rows:
        sheet.append([_cell(row.get(key)) for key, _ in report.columns])
    targets = (report.summary or {}).get("targets")
    if targets:
        kpis = book.create_sheet("指标对照")
        kpis.append(["指标", "名称", "实际值", "目标", "是否达标", "依据"])
        for kpi, item in targets.items():
            met = {True: "达标", False: "未达标"}.get(item["met"], "无数据")
            kpis.append([kpi, item["name"], item["value"], item["target"], met, item["source"]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    text = str(value) if not isinstance(value, int | float) else value
    # a cell starting with = + - @ would be a formula in a spreadsheet (CSV injection)
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text
