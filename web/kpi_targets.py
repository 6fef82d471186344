"""Blueprint ``kpi_targets``: the KPI targets (dated records) for admins: list, add, edit,
remove, XLSX import and download. Every change is audited by the service."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.messages import field_errors
from web.params import whole_number
from workflows.access.policy import Denied, denials_audited
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.models import RoleCode
from workflows.people import admin
from workflows.reports import targets
from workflows.reports.kpi_cases import KPIS

bp = Blueprint("kpi_targets", __name__, url_prefix="/admin/kpi-targets")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS = ("kpi", "scope", "valid_from", "valid_to", "comparator", "value", "source")
MAX_FILE = 2 * 1024 * 1024


def _require_admin() -> None:
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(RoleCode.ADMIN):
            raise Denied(ErrorCode.ADMIN_ONLY, "kpi_targets.role", object_type="page",
                         object_id="kpi_targets")


def _page(errors: dict | None = None, form: dict | None = None, editing: int | None = None,
          status: int = 200) -> ResponseReturnValue:
    with services().session_factory() as session:
        rows = targets.all_targets(session)
        places = targets.scope_names(session, rows)
    form = form or {"scope": targets.ALL_SCOPES}
    if form.get("scope") == targets.ALL_SCOPES:
        form = {**form, "scope": "全区"}     # the form says what the import takes too
    scope = form.get("scope") or ""
    chosen = (admin.find_place(new_uow(), actor(), scope)
              if scope and scope != "全区" else None)
    return render_template("admin/kpi_targets.html", rows=rows, kpis=KPIS, places=places,
                           units={k.id: k.unit for k in KPIS},
                           errors=field_errors(errors), form=form, chosen=chosen,
                           editing=editing), status


@bp.get("/")
def index() -> ResponseReturnValue:
    """Every target; ``?edit=<id>`` fills the form with one."""
    _require_admin()
    editing = whole_number(request.args.get("edit"), None, minimum=1)
    form = None
    if editing is not None:
        with services().session_factory() as session:
            found = next((t for t in targets.all_targets(session) if t.id == editing), None)
        if found is not None:
            form = {"kpi": found.kpi, "scope": found.scope, "valid_from": found.valid_from,
                    "valid_to": found.valid_to or "", "comparator": found.comparator,
                    "value": found.value, "source": found.source}
        else:
            editing = None
    return _page(form=form, editing=editing)


@bp.post("/")
def save() -> ResponseReturnValue:
    """Add a target, or change the one named by ``target_id``."""
    _require_admin()
    form = {k: request.form.get(k, "").strip()[:200] for k in FIELDS}
    target_id = whole_number(request.form.get("target_id"), None, minimum=1)
    try:
        targets.save_target(new_uow(), actor(), form, target_id)
    except InvalidInput as exc:
        return _page(exc.field_errors, form, target_id, 422)
    except NotFound as exc:
        return _page({"kpi": FieldError(exc.code or ErrorCode.NOT_FOUND, exc.params)}, form,
                     None, 404)
    flash(_("指标目标已保存"), "success")
    return redirect(url_for("kpi_targets.index"))


@bp.post("/<int:target_id>/delete")
def delete(target_id: int) -> ResponseReturnValue:
    _require_admin()
    try:
        targets.delete_target(new_uow(), actor(), target_id)
    except NotFound as exc:
        return _page({"kpi": FieldError(exc.code or ErrorCode.NOT_FOUND, exc.params)}, None,
                     None, 404)
    flash(_("指标目标已删除"), "success")
    return redirect(url_for("kpi_targets.index"))


@bp.post("/import")
def import_file() -> ResponseReturnValue:
    """Add the rows of an XLSX file (all or nothing)."""
    _require_admin()
    upload = request.files.get("file")
    data = upload.read(MAX_FILE + 1) if upload else b""
    if not data:
        return _page({"file": FieldError(ErrorCode.CHOOSE_IMPORT_FILE)}, status=422)
    if len(data) > MAX_FILE:
        return _page({"file": FieldError(ErrorCode.FILE_TOO_LARGE, {"limit": MAX_FILE})},
                     status=422)
    try:
        count = targets.import_xlsx(new_uow(), actor(), data)
    except InvalidInput as exc:
        return _page(exc.field_errors, status=422)
    flash(_("已导入 %(n)s 条指标目标", n=count), "success")
    return redirect(url_for("kpi_targets.index"))


@bp.get("/targets.xlsx")
def download() -> ResponseReturnValue:
    """Every target in the import's layout."""
    _require_admin()
    with services().session_factory() as session:
        body = targets.template_xlsx(targets.all_targets(session))
    return Response(body, mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=kpi-targets.xlsx"})
