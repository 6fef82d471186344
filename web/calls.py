"""Blueprint ``calls``: the call list (待回电) beside the inbox: open phone-call tasks of the
actor's unit, the audited reveal of the number to call, and the outcome of a call."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow
from web.messages import field_errors
from workflows.casework import call_tasks
from workflows.core.errors import InvalidInput

bp = Blueprint("calls", __name__, url_prefix="/inbox/calls")


def _page(status: int = 200, *, revealed: dict | None = None, errors: dict | None = None,
          failed: int | None = None, values: dict | None = None) -> ResponseReturnValue:
    rows = call_tasks.open_calls(new_uow(), actor())
    count = call_tasks.open_count(new_uow(), actor())
    return render_template("calls/list.html", rows=rows, call_count=count,
                           revealed=revealed or {}, errors=errors or {}, failed=failed,
                           values=values or {}, outcomes=call_tasks.OUTCOMES), status


@bp.get("")
def index() -> ResponseReturnValue:
    """Open calls of the actor's unit (or the centre's), earliest due first."""
    return _page()


@bp.post("/<int:call_id>/reveal")
def reveal(call_id: int) -> ResponseReturnValue:
    """Show the number to call (purpose "contact", audited; masked again on reload)."""
    phone = call_tasks.reveal_phone(new_uow(), actor(), call_id)
    return _page(revealed={call_id: phone})


@bp.post("/<int:call_id>/done")
def done(call_id: int) -> ResponseReturnValue:
    """Record the outcome; field errors keep what was typed (422), a call completed meanwhile
    by someone else is a 409."""
    outcome, note = request.form.get("outcome", ""), request.form.get("note", "")
    try:
        call_tasks.complete_call(new_uow(), actor(), call_id, outcome=outcome, note=note)
    except InvalidInput as exc:
        return _page(422, errors=field_errors(exc.field_errors), failed=call_id,
                     values={"outcome": outcome, "note": note})
    except call_tasks.CallTaskTaken:
        flash(_("此回电任务已由他人完成，您的记录没有保存"), "warning")
        return _page(409)
    flash(_("已记录回电结果"), "success")
    return redirect(url_for("calls.index"))
