"""API routes for process owners' scripts: list processes, deploy a bundle (multipart upload).

``POST /api/v1/processes``: fields ``files`` (one or more .bpmn/.dmn) and optional ``note``;
201 with the new (or identical existing) versions, or 422 with every problem (file, element id,
message) and nothing stored. Files from Camunda Modeler get the same rewrites as in the editor
(reported as ``notes``).
"""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from web.api.base import bp
from web.context import actor, new_uow, services
from web.process_files import problems_response, uploaded_files
from workflows.access.policy import require_owner
from workflows.core.errors import DeployRejected
from workflows.processes import catalogue as processes
from workflows.processes import workbench


@bp.get("/processes")
def list_processes() -> ResponseReturnValue:
    """Every process with its versions (hash, status, deployer, cases) and the decision tables."""
    entries = processes.catalogue(new_uow(), actor())
    decisions = processes.decision_catalogue(new_uow(), actor())
    return jsonify(processes=[e.as_dict() for e in entries],
                   decisions=[d.as_dict() for d in decisions])


@bp.post("/processes")
def deploy_processes() -> ResponseReturnValue:
    """Validate and deploy the uploaded bundle; 422 names each problem and stores nothing."""
    who = actor()
    require_owner(who, services())
    files, notes = workbench.import_files(services(), who, uploaded_files())
    try:
        versions = processes.deploy(new_uow(), who, files, note=request.form.get("note") or None,
                                    allow_unclaimable=request.form.get("allow_unclaimable") in
                                    ("1", "true", "on"))
    except DeployRejected as exc:
        return problems_response(workbench.located(exc, files))
    return jsonify(versions=[{"process_id": v.process_id, "version": v.version,
                              "status": v.status, "sha256": v.bundle_sha256,
                              "deployed_at": v.deployed_at.isoformat(),
                              "note": v.note} for v in versions],
                   notes=[n.as_dict() for n in notes]), 201
