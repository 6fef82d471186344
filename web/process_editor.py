"""Blueprint ``process_editor`` (/processes/editor): the bpmn-js/dmn-js editor and its JSON calls.

The page (web/static/js/process-editor.js) keeps the files in the browser and posts them as JSON
``{"files": {name: xml}}`` to validate, dry-run, save as a draft or deploy. Nothing runs or is
stored except a saved draft and a deployed version.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.labels import label
from web.params import whole_number
from web.problem_words import check_words, dry_run_error, in_words
from web.process_files import owners_only, problems_response, uploaded_files
from workflows.core.errors import DeployRejected, ErrorCode, FieldError, InvalidInput, NotFound
from workflows.processes import catalogue as processes
from workflows.processes import drafts, examples, workbench

bp = Blueprint("process_editor", __name__, url_prefix="/processes/editor")
bp.before_request(owners_only)

NEW_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" \
xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_new_process" \
targetNamespace="http://jiefen.example/bpmn">
  <bpmn:process id="new_process" name="新流程" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram_new_process">
    <bpmndi:BPMNPlane id="plane_new_process" bpmnElement="new_process">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="160" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@bp.get("")
def editor() -> ResponseReturnValue:
    """The editor page; what it opens is named by ?process=&version= or ?draft= (else new)."""
    return render_template("processes/editor.html", source=_source_args(),
                           operations=sorted(services().operations.names()))


def _source_args() -> dict[str, Any]:
    args = request.args
    return {k: args.get(k) for k in ("process", "version", "draft") if args.get(k)}


@bp.get("/files.json")
def files_json() -> ResponseReturnValue:
    """The files to open: a deployed version, a draft, or the blank new-process template."""
    args = request.args
    if args.get("draft"):
        info, files = drafts.open_draft(new_uow(), actor(), _number(args, "draft"))
        return jsonify(files=files, draft_id=info.id, title=info.title,
                       base_version_id=info.base_version_id, process_id=info.process_id,
                       source=_("草稿 #%(id)s", id=info.id))
    if args.get("process") and args.get("version"):
        process_id, number = args["process"], _number(args, "version")
        with new_uow() as uow:
            row = processes.get_version(uow, actor(), process_id, number)
            files, version_id = dict(row.source_files), row.id
        return jsonify(files=files, draft_id=None, title=f"{process_id} v{number}",
                       base_version_id=version_id, process_id=process_id,
                       source=_("%(pid)s 版本 %(n)s", pid=process_id, n=number))
    return jsonify(files={"new_process.bpmn": NEW_PROCESS}, draft_id=None, title=_("新流程"),
                   base_version_id=None, process_id=None, source=_("新流程"))


def _files() -> dict[str, str]:
    body = request.get_json(silent=True)
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not files or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise InvalidInput({"files": FieldError(ErrorCode.FILES_BODY)})
    return files


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/draft")
def save_draft() -> ResponseReturnValue:
    """Save the editor's files as a draft (new or overwriting ``draft_id``)."""
    body = _body()
    info = drafts.save_draft(new_uow(), actor(), _files(), draft_id=body.get("draft_id"),
                             title=body.get("title"), base_version_id=body.get("base_version_id"))
    return jsonify(draft=info.as_dict())


@bp.post("/validate")
def validate() -> ResponseReturnValue:
    """Every deploy check, nothing stored; problems carry the element id to mark. A model over
    a limit (multi-instance ceiling, step or time budget) answers 422, like the dry run."""
    report = workbench.validate_files(services(), actor(), _files()).as_dict()
    refused = any(str(e.get("code") or "").startswith(("limit_", "cardinality"))
                  for e in report["errors"])
    report["errors"], report["warnings"] = in_words(report["errors"]), in_words(report["warnings"])
    return jsonify(report), 422 if refused else 200


@bp.post("/sample-data")
def sample_data() -> ResponseReturnValue:
    """Start data to try a dry run with, from what the process declares (editable in the page)."""
    body = _body()
    process_id = body.get("process_id") or None
    if process_id is not None and not isinstance(process_id, str):
        raise InvalidInput({"process_id": FieldError(ErrorCode.DRY_RUN_BODY)})
    return jsonify(data=workbench.sample_data(services(), actor(), _files(), process_id))


@bp.post("/dry-run")
def dry_run() -> ResponseReturnValue:
    """Run the files in memory with example data and the chosen actions."""
    body = _body()
    data = body.get("data") or {}
    actions = body.get("actions") or []
    if not isinstance(data, dict) or not isinstance(actions, list):
        raise InvalidInput({"data": FieldError(ErrorCode.DRY_RUN_BODY)})
    try:
        result = workbench.dry_run(services(), actor(), _files(),
                                   process_id=body.get("process_id") or None, data=data,
                                   actions=actions)
    except DeployRejected as exc:
        return problems_response(exc, words=True)
    if result.error:  # codes -> words for the editor
        result.error = dry_run_error(result.error)
    return jsonify(result=result.as_dict(), states=result.element_states())


@bp.get("/examples.json")
def examples_json() -> ResponseReturnValue:
    """The regression examples kept for ``?process=`` (all when absent)."""
    found = examples.list_examples(services(), actor(), request.args.get("process") or None)
    return jsonify(examples=[e.as_dict() for e in found])


@bp.post("/examples")
def save_example() -> ResponseReturnValue:
    """Keep the current dry run (start data and actions) as a regression example."""
    body = _body()
    data, actions = body.get("data") or {}, body.get("actions") or []
    if not isinstance(data, dict) or not isinstance(actions, list):
        raise InvalidInput({"data": FieldError(ErrorCode.DRY_RUN_BODY)})
    try:
        info = examples.save_example(services(), actor(), _files(),
                                     process_id=body.get("process_id") or None,
                                     title=body.get("title") or "", data=data, actions=actions)
    except DeployRejected as exc:
        return problems_response(exc, words=True)
    return jsonify(example=info.as_dict()), 201


@bp.post("/examples/check")
def check_examples() -> ResponseReturnValue:
    """Re-run every example of the process on the editor's files: did the change alter it?"""
    body = _body()
    process_id = body.get("process_id")
    if not isinstance(process_id, str) or not process_id:
        raise InvalidInput({"process_id": FieldError(ErrorCode.DRY_RUN_BODY)})
    checks = examples.check_examples(services(), actor(), _files(), process_id)
    return jsonify(checks=[check_words(c.as_dict()) for c in checks])


@bp.post("/examples/<int:example_id>/delete")
def delete_example(example_id: int) -> ResponseReturnValue:
    examples.delete_example(services(), actor(), example_id)
    return jsonify(deleted=example_id)


@bp.post("/deploy")
def deploy() -> ResponseReturnValue:
    """Deploy the files as new versions (the draft, if any, is removed)."""
    body = _body()
    files = _files()
    try:
        versions = processes.deploy(new_uow(), actor(), files, note=body.get("note") or None)
    except DeployRejected as exc:
        return problems_response(workbench.located(exc, files), words=True)
    draft_id = whole_number(body.get("draft_id"))
    if draft_id:
        try:  # the draft became a version
            drafts.delete_draft(new_uow(), actor(), draft_id)
        except NotFound:
            pass
    return jsonify(versions=[{"process_id": v.process_id, "version": v.version,
                              "status": v.status, "status_label": label("process_status", v.status),
                              "sha256": v.bundle_sha256}
                             for v in versions]), 201


@bp.post("/import")
def import_files() -> ResponseReturnValue:
    """Files from another modeler, rewritten where jiefen needs it, back to the editor."""
    files, notes = workbench.import_files(services(), actor(), uploaded_files())
    texts = {}
    for name, data in files.items():
        try:
            texts[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput({name: FieldError(ErrorCode.NOT_UTF8)}) from None
    return jsonify(files=texts, notes=[n.as_dict() for n in notes])


def _number(args: Any, name: str) -> int:
    """A draft or version number from the query string; 404 when it is not one."""
    number = whole_number(args.get(name), minimum=1)
    if number is None:
        raise NotFound(ErrorCode.NOT_FOUND, **{name: args.get(name)})
    return number
