"""Blueprint ``dispatch``: joint dispatch (lead and co-department orders with status and result),
the department's work orders, and the way into sign-off / return (退单) and re-dispatch steps.

Signing off, returning an order with its reason and re-dispatching are BPMN user tasks: these
pages show the orders and lead to the guided step of the right task, so the process decides.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from web.context import actor, new_uow
from web.params import page_arg
from workflows.cases import inbox as inbox_service
from workflows.casework import views as case_views

bp = Blueprint("dispatch", __name__)


@bp.get("/dispatch")
def orders() -> ResponseReturnValue:
    """Open work-order tasks of my department (sign-off, handling) and re-dispatch tasks."""
    query = inbox_service.InboxQuery(scope="all", sort="due", page=page_arg())
    page = inbox_service.inbox(new_uow(), actor(), query)
    return render_template("dispatch/orders.html", page=page, query=query)


@bp.get("/cases/<case_no>/dispatch")
def joint(case_no: str) -> ResponseReturnValue:
    """All work orders of a case by round: the lead sees every co-department's status and result."""
    case = case_views.case_brief(new_uow(), actor(), case_no)
    return render_template("dispatch/joint.html", case=case)
