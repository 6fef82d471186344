"""API routes: intake with Idempotency-Key, the case list, case status, open tasks, completion,
history."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from flask.typing import ResponseReturnValue

from web.api.base import bp
from web.case_query import case_query
from web.context import actor, directory_stamp, new_uow, services
from workflows.cases import listing, timeline
from workflows.casework import tasks as task_service
from workflows.casework import views as case_views
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.intake import api as intake_api


def _json_body() -> object:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput({"body": FieldError(ErrorCode.BODY_NOT_JSON)})
    return body


@bp.post("/cases")
def create_case() -> ResponseReturnValue:
    """Register a submission once per Idempotency-Key; a replay answers with the stored body."""
    result = intake_api.submit(services(), actor(), token_id=g.api_token_id,
                               key=request.headers.get("Idempotency-Key"), body=_json_body(),
                               directory_stamp=directory_stamp())
    response = Response(result.body, status=result.status, mimetype="application/json")
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/cases")
def list_cases() -> ResponseReturnValue:
    """Cases in the caller's scope, filtered and paginated (no personal data)."""
    page = listing.list_page(new_uow(), actor(),
                             case_query(request.args, per_page=listing.PER_PAGE))
    return jsonify(total=page.total, total_exact=page.exact, page=page.page,
                   per_page=page.per_page, cases=page.rows)


@bp.get("/cases/<case_no>")
def get_case(case_no: str) -> ResponseReturnValue:
    """Status of one case (no personal data)."""
    brief = case_views.case_brief(new_uow(), actor(), case_no)
    return jsonify(_case_json(brief))


def _case_json(brief: dict) -> dict:
    keys = ("case_no", "status", "stage", "channel", "category", "urgency", "tier", "risk_level",
            "people_count", "summary", "second_complaint", "reopened_count", "outcome",
            "satisfaction", "lead_department", "co_departments", "opened_at", "closed_at",
            "deadline", "location", "location_detail", "lead_unit", "co_units", "received_at",
            "registered_at", "amount")
    out = {k: brief.get(k) for k in keys}
    out["work_orders"] = [{"department": o["department_code"], "role": o["role"],
                           "round": o["round"], "status": o["status"],
                           "due_at": _iso(o["due_at"])} for o in brief["work_orders"]]
    return out


@bp.get("/cases/<case_no>/tasks")
def case_tasks(case_no: str) -> ResponseReturnValue:
    """Open tasks of the case; the form of each task the caller may complete is included."""
    brief = case_views.case_brief(new_uow(), actor(), case_no)
    tasks = []
    for task in brief["tasks"]:
        item = {"task_id": task["task_id"], "bpmn_id": task["bpmn_id"], "name": task["name"],
                "role": task["role"], "due_at": _iso(task["due_at"]),
                "can_complete": task["can_act"], "form": None}
        if task["can_act"]:
            page = case_views.task_page(new_uow(), actor(), case_no, task["task_id"])
            item["form"] = [_field_json(f) for f in page.task.form]
        tasks.append(item)
    return jsonify(case_no=case_no, tasks=tasks)


def _field_json(field) -> dict:
    return {"id": field.id, "type": field.type, "label": field.label,
            "required": field.required, "default": field.default,
            "options": [{"value": v, "label": n} for v, n in field.options],
            "validation": {k: v for k, v in field.validation.items() if k != "required"}}


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> ResponseReturnValue:
    """Complete a task with JSON form data: 422 field errors, 409 stale, 403 not permitted."""
    body = _json_body()
    if not isinstance(body, dict):
        raise InvalidInput({"body": FieldError(ErrorCode.BODY_NOT_OBJECT)})
    # the step finds the open task's case in its own read of the case
    result = task_service.complete_open_task(new_uow(), actor(), task_id=task_id, raw=body)
    return jsonify(case_no=result.case_no, task_id=result.task_id, bpmn_id=result.bpmn_id,
                   status=result.status, next_tasks=result.next_tasks)


@bp.get("/cases/<case_no>/history")
def history(case_no: str) -> ResponseReturnValue:
    """The case's audit events in chain order (access metadata left out)."""
    events = timeline.case_history(new_uow(), actor(), case_no)
    return jsonify(case_no=case_no, events=events)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value
