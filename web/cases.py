"""Blueprint ``cases``: inbox, case list, intake with duplicate preview, receipt, case page,
party reveal (purpose-bound, audited) and the live process diagram."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.case_query import case_query
from web.cockpit import drill_of
from web.context import actor, new_uow, services
from web.forms import (
    address_candidates,
    intake_fields,
    intake_request,
    location_fields,
    party_rows,
    row_count,
    without_row,
)
from web.homes import workbench
from web.messages import field_errors, message
from web.params import MAX_PAGE, whole_number
from web.uploads import upload_limits, uploaded_files
from workflows.access.policy import Permission, denials_audited, require
from workflows.alarms.receive import case_alarms
from workflows.assistant import records as assistant_records
from workflows.attachments.store import FIELD as FILE_FIELD
from workflows.attachments.store import list_attachments
from workflows.cases import inbox as inbox_service
from workflows.cases import listing, parties
from workflows.cases.field_limits import MAX_PARTIES
from workflows.casework import call_tasks, pdf_documents
from workflows.casework import views as case_views
from workflows.channels import quarantine
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.intake import location as intake_location
from workflows.intake import register as intake_service

bp = Blueprint("cases", __name__)
LIST_PAGE = 25
LOCAL_INPUT = "%Y-%m-%dT%H:%M"   # <input type="datetime-local">


def _int_arg(name: str, default: int = 1) -> int:
    return whole_number(request.args.get(name), default, minimum=1, maximum=MAX_PAGE)


@bp.get("/")
def inbox_page() -> ResponseReturnValue:
    """The home page is the inbox."""
    return redirect(url_for("cases.inbox"))


@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    """My tasks and my group's tasks: deadline, light, risk, tier, type; server-side paging.
    A user without case work lands on his workbench instead (web/homes.py)."""
    home = workbench(actor().roles)   # no case work: grid reports, invitations, audit, ...
    if home is not None:
        return redirect(url_for(home))
    query = inbox_query()
    page = inbox_service.inbox(new_uow(), actor(), query)
    htmx = request.headers.get("HX-Request")
    calls = call_tasks.open_count(new_uow(), actor()) \
        if not htmx and call_tasks.may_call(actor()) else None   # the 待回电 tab's figure
    return render_template("cases/_inbox_rows.html" if htmx else "cases/inbox.html",
                           page=page, query=query, call_count=calls)


def inbox_query() -> inbox_service.InboxQuery:
    """The inbox filters from the query string (the service checks them against allow-lists)."""
    args = request.args
    return inbox_service.InboxQuery(scope=args.get("scope", "all"),
                                    category=args.get("category") or None,
                                    tier=args.get("tier") or None,
                                    risk_level=args.get("risk_level") or None,
                                    sort=args.get("sort", "due"), page=_int_arg("page"),
                                    after=args.get("after") or None,
                                    before=args.get("before") or None)


@bp.get("/cases")
def case_list() -> ResponseReturnValue:
    """Cases the user may see, newest first, filtered and searched on the server (no personal
    data); the same query as ``GET /api/v1/cases``. With ``kpi=`` the cases behind a cockpit
    figure (leaders and supervisors)."""
    args = {**request.args.to_dict(), "page": str(_int_arg("page"))}  # a page link never fails
    query = case_query(args, per_page=LIST_PAGE)
    page = listing.list_page(new_uow(), actor(), query)
    if query.scope is not None:      # the cases behind a cockpit figure
        return render_template("cases/drill.html", rows=page.rows, page=page,
                               drill=drill_of(args))
    filters = {**query.args(), "kpi": request.args.get("kpi") or None}
    return render_template("cases/list.html", rows=page.rows, page=page, filters=filters)


@bp.route("/cases/new", methods=["GET", "POST"])
def intake() -> ResponseReturnValue:
    """Register a matter: preview duplicates, the location and second complaints, then save.

    ``action``: preview | save | add_party | remove_party-<n> (the last two only re-render the
    form, for browsers without JavaScript)."""
    if request.method != "POST":
        order = whole_number(request.args.get("order"), None)
        if order is not None:   # a quarantined channel order, prefilled with what was mapped
            try:
                return _intake_page(quarantine.prefill(new_uow(), actor(), order), {}, None)
            except NotFound as exc:   # completed by someone else meanwhile: back to the list
                flash(message(FieldError(exc.code, exc.params)) or "", "warning")
                return redirect(url_for("channels.quarantine_list"))
        return _intake_page({}, {}, None)
    form = request.form.to_dict()
    action = form.get("action") or "preview"
    if action == "add_party":
        return _intake_page(form, {}, None, rows=row_count(form) + 1)
    if action.startswith("remove_party-"):
        index = whole_number(action.removeprefix("remove_party-"), None, maximum=MAX_PARTIES)
        rows = row_count(form)
        if index is not None and index < rows and rows > 1:
            form = without_row(form, index)
        return _intake_page(form, {}, None)
    try:
        request_data = intake_request(form, tz=services().settings.timezone,
                                      check=lambda data: intake_service.check(data, new_uow()))
        if action != "save":
            outcome = intake_service.preview_intake(new_uow(), actor(), request_data)
            return _intake_page(form, {}, outcome)
        request_data.files = uploaded_files()
        order = whole_number(form.get("channel_order"), None)
        if order is not None:
            outcome = quarantine.complete_order(services(), actor(), order, request_data)
        else:
            outcome = intake_service.submit_intake(new_uow(), actor(), request_data)
    except InvalidInput as exc:
        # address candidates alone are a question for the clerk, not a mistake
        asking = set(exc.field_errors) == {"location-address"} and address_candidates(
            exc.field_errors)
        return _intake_page(form, exc.field_errors, None), 200 if asking else 422
    if not outcome.in_scope:   # another unit's case: neither its code nor its page is ours
        flash(_("已登记，本次来件已关联到其他单位在办的案件，由承办单位告知来件人案件编号。"),
              "success")
        return redirect(url_for("channels.quarantine_list") if order is not None
                        else url_for("cases.intake"))
    flash(_("已登记，案件编号 %(code)s", code=outcome.case_no), "success")
    return redirect(url_for("cases.receipt", case_no=outcome.case_no,
                            submission=outcome.submission_id))


def _intake_page(form, errors: dict, outcome, *, rows: int | None = None) -> str:
    """The intake form; only roles that may register see it (the denial is audited)."""
    with denials_audited(services(), actor(), object_type="intake"):
        require(actor(), Permission.REGISTER_CASE)
    candidates = address_candidates(errors)
    words = field_errors(errors)
    now = services().clock.now().astimezone(ZoneInfo(services().settings.timezone))
    return render_template("cases/intake.html",
                           fields=intake_fields(form, words, now_local=now.strftime(LOCAL_INPUT)),
                           location=location_fields(form, words), candidates=candidates,
                           picked=form.get("location-pick"),
                           parties=party_rows(form, words, rows), errors=words, outcome=outcome, form=form,
                           max_parties=MAX_PARTIES, file_error=words.get(FILE_FIELD),
                           attachment_limits=upload_limits())


@bp.get("/cases/new/places")
def place_options() -> ResponseReturnValue:
    """The place picker's suggestions (grids and buildings matching the typed text)."""
    found = intake_location.search_places(new_uow(), actor(),
                                          request.args.get("location-place_code", "")[:40])
    return render_template("cases/_place_options.html", places=found)


@bp.get("/cases/<case_no>/receipt")
def receipt(case_no: str) -> ResponseReturnValue:
    """The receipt (回执) with the case code, printable. ``submission``: the receipt of that
    submission of the case (a duplicate's or second complaint's own channel and time); another
    case's or a malformed id is 404."""
    given = request.args.get("submission")
    submission = whole_number(given, 0, minimum=1) if given is not None else None
    if submission == 0:
        raise NotFound(ErrorCode.SUBMISSION_NOT_FOUND, case_no=case_no)
    summary = case_views.receipt_brief(new_uow(), actor(), case_no, submission)
    return render_template("cases/receipt.html", case=summary, kind=summary["kind"])


@bp.get("/cases/<case_no>")
def detail(case_no: str) -> ResponseReturnValue:
    """The case page: masked parties, work orders, tasks, documents, timeline, diagram."""
    page = case_views.case_page(new_uow(), actor(), case_no)
    return render_template("cases/detail.html", page=page, case=page.summary, revealed={},
                           red_flags=assistant_records.case_flags(new_uow(), actor(), case_no),
                           **_files_and_alarms(case_no))


def _files_and_alarms(case_no: str) -> dict:
    """The case's attachments (photos from the grid) and device alarm episodes."""
    return {"attachments": list_attachments(new_uow(), actor(), case_no),
            "alarms": case_alarms(new_uow(), actor(), case_no)}


@bp.post("/cases/<case_no>/parties/<party_id>/reveal")
def reveal(case_no: str, party_id: str) -> ResponseReturnValue:
    """Show one party's full data for a stated purpose (audited; masked again on reload)."""
    try:
        values = parties.unmask_party(new_uow(), actor(), party_id,
                                      request.form.get("purpose", ""), case_no=case_no,
                                      reason=request.form.get("reason", "")[:200])
    except InvalidInput as exc:
        if request.headers.get("HX-Request"):
            return render_template("cases/_reveal_error.html",
                                   errors=field_errors(exc.field_errors), party_id=party_id), 422
        raise
    if request.headers.get("HX-Request"):
        return render_template("cases/_revealed.html", values=values, party_id=party_id)
    page = case_views.case_page(new_uow(), actor(), case_no)
    return render_template("cases/detail.html", page=page, case=page.summary,
                           revealed={party_id: values}, **_files_and_alarms(case_no))


@bp.post("/cases/<case_no>/narrative/reveal")
def reveal_narrative(case_no: str) -> ResponseReturnValue:
    """Show the complaint narrative for a stated purpose (audited; masked again on reload)."""
    try:
        text = case_views.reveal_narrative(new_uow(), actor(), case_no,
                                           request.form.get("purpose", ""),
                                           reason=request.form.get("reason", "")[:200])
    except InvalidInput as exc:
        if request.headers.get("HX-Request"):
            return render_template("cases/_reveal_error.html",
                                   errors=field_errors(exc.field_errors),
                                   party_id="narrative"), 422
        raise
    if request.headers.get("HX-Request"):
        return render_template("cases/_narrative.html", narrative=text)
    page = case_views.case_page(new_uow(), actor(), case_no)
    page.narrative = text
    return render_template("cases/detail.html", page=page, case=page.summary, revealed={},
                           **_files_and_alarms(case_no))


@bp.route("/cases/<case_no>/documents/<int:document_id>.pdf", methods=["GET", "POST"])
def document_pdf(case_no: str, document_id: int) -> ResponseReturnValue:
    """A document as a PDF download: GET the masked copy; POST with a purpose the signing copy
    (names in clear). Rendered on demand and checked against the hash first issued."""
    full = request.method == "POST"
    try:
        found = pdf_documents.download_pdf(
            new_uow(), actor(), case_no, document_id, full=full,
            purpose=request.form.get("purpose", ""), reason=request.form.get("reason", ""))
    except InvalidInput as exc:
        flash(" ".join(filter(None, (message(e) for e in exc.field_errors.values()))), "danger")
        return redirect(url_for("cases.detail", case_no=case_no) + "#docs")
    except (pdf_documents.DocumentAltered, pdf_documents.FontMissing) as exc:
        flash(message(FieldError(str(exc.code), dict(exc.params))) or "", "danger")
        return redirect(url_for("cases.detail", case_no=case_no) + "#docs")
    return _pdf_response(found)


@bp.get("/cases/<case_no>/notices/<int:notice_id>.pdf")
def notice_pdf(case_no: str, notice_id: int) -> ResponseReturnValue:
    """A 督办单 as a PDF download (no personal data; checked against its first issue)."""
    try:
        found = pdf_documents.download_notice_pdf(new_uow(), actor(), case_no, notice_id)
    except (pdf_documents.DocumentAltered, pdf_documents.FontMissing) as exc:
        flash(message(FieldError(str(exc.code), dict(exc.params))) or "", "danger")
        return redirect(url_for("cases.detail", case_no=case_no))
    return _pdf_response(found)


def _pdf_response(found: pdf_documents.PdfFile) -> Response:
    """Always a download, never shown inline, never cached."""
    response = Response(found.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.download_name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/cases/<case_no>/diagram.bpmn")
def diagram_xml(case_no: str) -> ResponseReturnValue:
    """The BPMN of the case's process version (what bpmn-js draws)."""
    xml, _state = case_views.case_diagram(new_uow(), actor(), case_no,
                                          request.args.get("process") or None)
    response = Response(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{case_no}.bpmn"'
    return response


@bp.get("/cases/<case_no>/diagram-state.json")
def diagram_state(case_no: str) -> ResponseReturnValue:
    """Completed and current elements for the highlight ({completed, current, process_id})."""
    _xml, state = case_views.case_diagram(new_uow(), actor(), case_no,
                                          request.args.get("process") or None)
    return state

