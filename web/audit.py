"""Blueprint ``audit``: the auditor's workbench (read-only; docs/audit.md).

Case history with filters, step-by-step replay driving the bpmn-js diagram, verified
re-execution, chain status per case and for the whole database, the personal-data access log and
the case-file export. Pages are GETs that change nothing; verify and export are POSTs (CSRF)
because they write to the audit trail (case_replayed, case_exported). Raw payload values (task
data, free text) are for auditors; supervisors see which fields changed, not their values, and
only auditors export, with a stated purpose.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from web.context import actor, services
from web.data_display import data_rows
from web.messages import message
from workflows.access.policy import Denied, Permission, denials_audited, require
from workflows.cases.lookup import find_case
from workflows.core.dates import filter_bounds, filter_day_error
from workflows.core.errors import ErrorCode, NotFound
from workflows.models import RoleCode
from workflows.replay import (
    access_log as audit_access,
)
from workflows.replay import (
    history as audit_views,
)
from workflows.replay import (
    steps as audit_steps,
)
from workflows.replay.case_replay import replay_case
from workflows.replay.export import EXPORT_PURPOSES, export_case

bp = Blueprint("audit", __name__, url_prefix="/audit")



# -- access -------------------------------------------------------------------------------------
# A Denied is audited here (denials_audited) and becomes a 403 page in web/errors.py.
def _audited():
    return denials_audited(services(), actor(), path=request.path, method=request.method)


def _case(case_no: str):
    """The case if the actor may audit it (auditors: every case; supervisors: their scope)."""
    with _audited(), services().session_factory() as session:
        case = find_case(session, case_no)
        require(actor(), Permission.VIEW_AUDIT, case, session=session)
        return case


def _raw() -> bool:
    """Raw payload values (task data, free text) are shown to auditors only."""
    return actor().has(RoleCode.AUDITOR)


def _masked(data: dict) -> dict:
    return data if _raw() else dict.fromkeys(data, audit_views.HIDDEN_VALUE)


def _auditor_only(what: str) -> None:
    """Database-wide pages (every chain, every user's reveals) are for auditors alone."""
    with _audited():
        if not actor().has(RoleCode.AUDITOR):
            raise Denied(ErrorCode.AUDITOR_ONLY, f"audit.{what}.role", object_type="audit",
                         object_id=what)


# -- query-string helpers -----------------------------------------------------------------------
def _day(name: str, end: bool = False) -> datetime | None:
    value = request.args.get(name, "")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    wrong = filter_day_error(day, filter_bounds(services().clock.now(), services().settings))
    if wrong is not None:  # year 1 or 9999: said once, then the filter is left out
        flash(message(wrong) or "", "warning")
        return None
    zone = ZoneInfo(services().settings.timezone)
    return datetime.combine(day, time.max if end else time.min, zone)


def _filters() -> audit_views.HistoryFilter:
    args = request.args
    kinds = frozenset(k for k in args.getlist("kind") if k in audit_views.KINDS)
    return audit_views.HistoryFilter(kinds=kinds, actor=args.get("actor") or None,
                                     department=args.get("department") or None,
                                     since=_day("since"), until=_day("until", end=True),
                                     engine_steps=args.get("engine") == "1")


# -- pages --------------------------------------------------------------------------------------
@bp.get("/")
def index() -> ResponseReturnValue:
    """Entry: find a case, whole-database chain status, access log."""
    who = actor()
    with _audited():
        require(who, Permission.VIEW_AUDIT)
    case_no = request.args.get("case_no", "").strip()
    return render_template("audit/index.html", case_no=case_no,
                           auditor=who.has(RoleCode.AUDITOR))


@bp.get("/chains")
def chains() -> ResponseReturnValue:
    """Verify what was appended since the last saved verification (``?full=1``: every chain)
    and name the first broken link."""
    _auditor_only("chains")
    full = request.args.get("full") == "1"
    return render_template("audit/chains.html", full=full,
                           status=audit_access.chain_status(services(), incremental=not full))


@bp.get("/cases/<case_no>")
def case_page(case_no: str) -> ResponseReturnValue:
    """The case's history with filters, its chain status and the verify/export actions."""
    case = _case(case_no)
    filters = _filters()
    history = audit_views.case_history(services(), case_no, filters, raw=_raw())
    status = audit_access.chain_status(services(), [f"case:{case.id}"])
    return render_template("audit/case.html", history=history, filters=filters, status=status,
                           kinds=audit_views.KINDS, args=request.args,
                           export_purposes=EXPORT_PURPOSES if _raw() else {})


@bp.get("/cases/<case_no>/replay")
def replay_page(case_no: str) -> ResponseReturnValue:
    """Step through the case chain one event at a time with the diagram, data and deadlines."""
    case = _case(case_no)
    history = audit_views.case_history(
        services(), case_no, audit_views.HistoryFilter(engine_steps=request.args.get("engine") == "1"),
        raw=_raw())
    steps = audit_steps.stepping_entries(services(), history)
    if not steps:
        abort(404)
    start = request.args.get("seq", type=int) or steps[0].seq
    first = audit_steps.state_at(services(), case_no, start)
    first.data = _masked(first.data)
    return render_template("audit/replay.html", case=case, steps=steps, start=start, first=first,
                           data_rows=data_rows(first.data, first.labels, first.units, first.options))


@bp.get("/cases/<case_no>/steps/<int:seq>.json")
def step_state(case_no: str, seq: int) -> ResponseReturnValue:
    """State at one event: diagram highlights (per process), data, deadlines, ready tasks."""
    _case(case_no)
    try:
        state = audit_steps.state_at(services(), case_no, seq,
                                     request.args.get("t", type=int))
    except NotFound:
        abort(404)
    process = request.args.get("process") or None
    return jsonify(seq=state.seq, action=state.action, version_id=state.version_id,
                   processes=state.processes(), **state.for_process(process),
                   data=data_rows(_masked(state.data), state.labels, state.units, state.options),
                   deadlines=state.deadlines, ready=state.ready,
                   replay_error=state.replay_error, account=state.account)


@bp.get("/cases/<case_no>/diagram.bpmn")
def diagram(case_no: str) -> ResponseReturnValue:
    """The BPMN source of a version the case ran on (bpmn-js reads it); other versions: 404."""
    _case(case_no)
    version = request.args.get("version", type=int)
    if version is None or version not in audit_views.case_versions(services(), case_no):
        abort(404)
    xml = audit_steps.diagram_source(services(), version, request.args.get("process") or None)
    response = Response(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{case_no}-v{version}.bpmn"'
    return response


@bp.post("/cases/<case_no>/verify")
def verify(case_no: str) -> ResponseReturnValue:
    """Verified re-execution; the result is recorded in the case chain (case_replayed), so it is
    a POST with the CSRF token (never reachable by following a link)."""
    _case(case_no)
    report = replay_case(services(), case_no, verify=True, actor=actor())
    if request.accept_mimetypes.best == "application/json":
        return jsonify(report.as_dict())
    template = "audit/_verify.html" if request.headers.get("HX-Request") else "audit/verify.html"
    return render_template(template, report=report, case_no=case_no, raw=_raw())


@bp.post("/cases/<case_no>/export.<fmt>")
def export(case_no: str, fmt: str) -> ResponseReturnValue:
    """Download the case file (auditors, with a purpose): JSON (chain hashes, verifiable
    offline) or the HTML report. The file holds raw payloads; the export is audited."""
    if fmt not in ("json", "html"):
        abort(404)
    with _audited(), services().session_factory() as session:
        require(actor(), Permission.EXPORT_AUDIT, find_case(session, case_no), session=session)
    content, html = export_case(services(), case_no, actor(),
                                purpose=request.form.get("purpose", ""),
                                reason=request.form.get("reason", "")[:200])
    body, mime = (content, "application/json") if fmt == "json" else (html, "text/html")
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{case_no}.{fmt}"'
    return response


@bp.get("/access")
def access() -> ResponseReturnValue:
    """Personal-data access log by user and by citizen, with unusual volumes flagged."""
    _auditor_only("access")
    log = audit_access.access_log(services(), since=_day("since"), until=_day("until", end=True),
                                  user=request.args.get("user") or None,
                                  party=request.args.get("party") or None)
    return render_template("audit/access.html", log=log, args=request.args)
