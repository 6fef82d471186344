"""Blueprint ``satisfaction``: record the citizen's rating and comment (phone return visit or the
reply to the SMS rating request); 'dissatisfied' follows the process back to re-handling."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask.typing import ResponseReturnValue

from web.context import actor, new_uow
from workflows import case_views
from workflows import contract as C
from workflows.errors import TaskNoLongerAvailable

bp = Blueprint("satisfaction", __name__)


@bp.get("/cases/<case_no>/satisfaction")
def record(case_no: str) -> ResponseReturnValue:
    """Open the rating step of the case (the guided step page records it)."""
    case = case_views.case_brief(new_uow(), actor(), case_no)
    for task in case["tasks"]:
        if task["bpmn_id"] in C.SATISFACTION_TASKS and task["can_act"]:
            return redirect(url_for("tasks.show", case_no=case_no, task_id=task["task_id"]))
    # nothing to rate now: either not at that stage yet, or someone recorded it meanwhile
    raise TaskNoLongerAvailable("satisfaction", "not open")
