"""Blueprint ``reports``: stored periodic reports (周调度、月通报、季评估), generate, download."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from web.context import actor, services
from web.messages import field_errors
from web.report_labels import download_words, report_title
from workflows.access.policy import Denied, denials_audited
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import RoleCode
from workflows.reports import periodic as reports

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = (RoleCode.SUPERVISOR, RoleCode.LEADER, RoleCode.AUDITOR)
WRITERS = (RoleCode.SUPERVISOR, RoleCode.LEADER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



def _require(roles: tuple, what: str) -> None:
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(*roles):
            raise Denied(ErrorCode.REPORTS_ROLE, f"reports.{what}.role", object_type="page",
                         object_id="reports")


def _report(report_id: int, download: str | None = None) -> reports.ReportView:
    """The report scoped to the reader (rows of cases outside their scope left out)."""
    try:
        return reports.read_report(services(), actor(), report_id, download=download)
    except NotFound:
        abort(404)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Stored reports, newest period first."""
    _require(READERS, "list")
    return _index()


def _index(form: dict | None = None, errors: dict | None = None, status: int = 200):
    kind = request.args.get("kind") if request.args.get("kind") in reports.KINDS else None
    with services().session_factory() as session:
        rows = reports.list_reports(session, kind)
    return render_template("reports/index.html", reports=rows, kind=kind, titles=reports.TITLES,
                           can_generate=actor().has(*WRITERS), periods=PERIODS,
                           form=form or {"kind": "weekly", "period": "previous"},
                           errors=field_errors(errors)), status


PERIODS = ("previous", "current", "range")


def _day(form: dict, name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(form.get(name, "").strip())
    except ValueError:
        errors[name] = FieldError(FieldCode.REQUIRED if not form.get(name) else FieldCode.NOT_DATE)
        return None


@bp.post("/")
def generate() -> ResponseReturnValue:
    """Generate a report: the last complete period, the current one up to today, or a range."""
    _require(WRITERS, "generate")
    with denials_audited(services(), actor(), path=request.path, method=request.method), \
            services().session_factory() as session:
        reports.require_district(session, actor())
    form = {key: request.form.get(key, "")[:20] for key in ("kind", "period", "from", "to")}
    kind, period = form["kind"], form["period"] or "previous"
    if kind not in reports.KINDS or period not in PERIODS:
        abort(400)
    try:
        if period == "current":
            stored = reports.generate_current(services(), kind, actor=actor())
        elif period == "range":
            errors: dict = {}
            first, last = _day(form, "from", errors), _day(form, "to", errors)
            if errors or first is None or last is None:
                raise InvalidInput(errors)
            stored = reports.generate_range(services(), kind, first, last, actor=actor())
        else:
            stored = reports.generate(services(), kind, actor=actor())
    except InvalidInput as exc:
        return _index(form, exc.field_errors, 422)
    flash(report_title(stored))
    return redirect(url_for("reports.detail", report_id=stored.id))


@bp.get("/<int:report_id>")
def detail(report_id: int) -> ResponseReturnValue:
    """One report as a table, with its KPI targets."""
    _require(READERS, "view")
    return render_template("reports/detail.html", report=_report(report_id))


@bp.get("/<int:report_id>/print")
def printable(report_id: int) -> ResponseReturnValue:
    """The report on one page for printing (no navigation; print CSS)."""
    _require(READERS, "view")
    return render_template("reports/print.html", report=_report(report_id))


@bp.get("/<int:report_id>.<any(csv, xlsx):fmt>")
def download(report_id: int, fmt: str) -> ResponseReturnValue:
    """The report as CSV (UTF-8 with BOM) or XLSX."""
    _require(READERS, "download")
    report = _report(report_id, download=fmt)
    write = reports.to_csv if fmt == "csv" else reports.to_xlsx
    body = write(report, download_words)
    name = f"{report.kind}-{report.period_start.isoformat()}.{fmt}"
    return Response(body, mimetype="text/csv" if fmt == "csv" else XLSX, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff"})
