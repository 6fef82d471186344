"""Blueprint ``processes`` (/processes, role process_owner): catalogue, versions, diff, migration.

The editor and its JSON endpoints are in web/process_editor.py.
Every view goes through workflows services that refuse anyone but process owners (a ``Denied``
becomes an audited 403 in web/errors.py).
"""

from __future__ import annotations

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
from flask_babel import gettext as _

from engine.input_rules import INT32_MAX
from web.context import actor, new_uow, services
from web.params import whole_number
from web.process_files import owners_only, uploaded_files
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.processes import case_migration as migration_service
from workflows.processes import catalogue as processes
from workflows.processes import drafts
from workflows.processes.workbench import import_files

bp = Blueprint("processes", __name__, url_prefix="/processes")


bp.before_request(owners_only)


@bp.get("/")
def catalogue() -> ResponseReturnValue:
    """Every process with its versions, case counts, live version and drafts; decision tables."""
    entries = processes.catalogue(new_uow(), actor())
    decisions = processes.decision_catalogue(new_uow(), actor())
    stale = drafts.stale_drafts(new_uow(), actor())
    return render_template("processes/catalogue.html", entries=entries, decisions=decisions,
                           approval=services().settings.require_deploy_approval,
                           me=actor().username, stale=stale,
                           stale_days=services().settings.draft_stale_days)


@bp.get("/<process_id>/v<int:number>/files/<name>")
def version_file(process_id: str, number: int, name: str) -> ResponseReturnValue:
    """One source file of a version (``?download=1`` as an attachment, for other modelers)."""
    files = processes.version_files(new_uow(), actor(), process_id, number)
    if name not in files:
        abort(404)
    response = Response(files[name], mimetype="application/xml")
    if request.args.get("download"):
        stem, _dot, ext = name.rpartition(".")
        response.headers["Content-Disposition"] = \
            f'attachment; filename="{stem}-v{number}.{ext}"'
    return response


@bp.get("/<process_id>/diff")
def diff(process_id: str) -> ResponseReturnValue:
    """Two versions side by side: removed/changed on the old, added/changed on the new diagram."""
    old, new = _int_arg("from"), _int_arg("to")
    result = processes.diff_versions(new_uow(), actor(), process_id, old, new)
    old_files = processes.version_files(new_uow(), actor(), process_id, old)
    new_files = processes.version_files(new_uow(), actor(), process_id, new)
    touched = {c.file for c in result.added + result.removed + result.changed}
    touched |= set(result.files_added) | set(result.files_removed)
    every = sorted(set(old_files) | set(new_files))
    return render_template("processes/diff.html", process_id=process_id, old=old, new=new,
                           diff=result, old_files=sorted(old_files), new_files=sorted(new_files),
                           shown=[f for f in every if f in touched],
                           unchanged=[f for f in every if f not in touched])


def _int_arg(name: str) -> int:
    """A version number from the query string: 422 when it is none, 404 when it cannot exist."""
    text = request.args.get(name, "").strip()
    number = whole_number(text, maximum=INT32_MAX)
    if number is not None:
        return number
    if text.isascii() and text.isdigit():
        raise NotFound(ErrorCode.VERSION_NOT_FOUND, process_id=request.view_args.get(
            "process_id"), version=text[:12])
    raise InvalidInput({name: FieldError(ErrorCode.CHOOSE_VERSION)})


@bp.post("/versions/<int:version_id>/approve")
def approve(version_id: int) -> ResponseReturnValue:
    """A second process owner lets a pending version go live."""
    info = processes.approve_version(new_uow(), actor(), version_id)
    flash(_("%(pid)s 版本 %(n)s 已审批生效", pid=info.process_id, n=info.version))
    return redirect(url_for(".catalogue"))


@bp.post("/versions/<int:version_id>/retire")
def retire(version_id: int) -> ResponseReturnValue:
    """Stop new cases on a version (running cases stay on it)."""
    info = processes.retire_version(new_uow(), actor(), version_id,
                                    request.form.get("reason", ""))
    flash(_("%(pid)s 版本 %(n)s 已停用", pid=info.process_id, n=info.version))
    return redirect(url_for(".catalogue"))


@bp.post("/drafts/<int:draft_id>/delete")
def delete_draft(draft_id: int) -> ResponseReturnValue:
    drafts.delete_draft(new_uow(), actor(), draft_id)
    flash(_("草稿已删除"))
    return redirect(url_for(".catalogue"))


@bp.post("/drafts/stale/delete")
def delete_stale_drafts() -> ResponseReturnValue:
    """Delete the chosen drafts among those untouched for ``draft_stale_days``."""
    chosen = [n for n in (whole_number(v, minimum=1) for v in request.form.getlist("draft_id"))
              if n is not None]
    gone = drafts.delete_stale(new_uow(), actor(), chosen)
    flash(_("已清理 %(n)s 份过期草稿", n=gone))
    return redirect(url_for(".catalogue"))


@bp.post("/upload")
def upload() -> ResponseReturnValue:
    """.bpmn/.dmn files from any modeler become a draft (Camunda rewrites noted), then the editor."""
    files = uploaded_files()
    imported, notes = import_files(services(), actor(), files)
    info = drafts.save_draft(new_uow(), actor(), imported, title=request.form.get("title") or None)
    for note in notes:
        flash(f"{note.file}#{note.element_id}: {note.message}")
    return redirect(url_for("process_editor.editor", draft=info.id))


@bp.get("/<process_id>/migrate")
def migrate_preview(process_id: str) -> ResponseReturnValue:
    """Every running case of the process on another version: safe or not, and what changes."""
    to = _int_arg("to")
    preview = migration_service.preview_migration(new_uow(), actor(), process_id, to)
    return render_template("processes/migrate.html", preview=preview, results=None)


@bp.post("/<process_id>/migrate")
def migrate_run(process_id: str) -> ResponseReturnValue:
    """Move the selected cases, one transaction each; the page shows each outcome."""
    to = _int_arg("to")
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise InvalidInput({"reason": FieldError(ErrorCode.MIGRATION_REASON_REQUIRED)})
    chosen = request.form.getlist("case_no")
    if not chosen:
        raise InvalidInput({"case_no": FieldError(ErrorCode.CHOOSE_CASES)})
    results = migration_service.migrate_cases(
        services(), actor(), process_id, to, reason, case_nos=chosen,
        force=bool(request.form.get("force")),
        force_reason=request.form.get("force_reason") or None)
    preview = migration_service.preview_migration(new_uow(), actor(), process_id, to)
    return render_template("processes/migrate.html", preview=preview, results=results)
