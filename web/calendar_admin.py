"""Blueprint ``calendar_admin``: the working calendar and its overrides (admins; audited)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine.deadlines import covers_year
from web.context import actor, new_uow, services
from web.messages import field_errors
from web.params import whole_number
from workflows.access.policy import Denied, denials_audited
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput
from workflows.deadlines import calendar_admin
from workflows.models import RoleCode

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")
# stored in the audit log in the source language, whatever the page's language
WITHDRAW_REASON = "撤销调整"



def _require_admin() -> None:
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(RoleCode.ADMIN):
            raise Denied(ErrorCode.CALENDAR_ADMIN_ONLY, "calendar.edit.role",
                         object_type="page", object_id="calendar")


def _year() -> int:
    value = request.values.get("year", "")
    this_year = services().clock.now().astimezone(services().calendar.tz).year
    return whole_number(value, this_year, minimum=2000, maximum=2100)


def _page(year: int, errors: dict | None = None, form: dict | None = None, status: int = 200):
    with services().session_factory() as session:
        history = calendar_admin.override_history(session, year)
    days = calendar_admin.year_days(services().calendar.calendar, year)
    return render_template("calendar_admin/index.html", year=year, days=days, history=history,
                           covered=covers_year(year), errors=field_errors(errors),
                           form=form or {}), status


@bp.get("/")
def index() -> ResponseReturnValue:
    """Holidays and make-up days of a year, overrides in force and superseded."""
    _require_admin()
    return _page(_year())


@bp.post("/")
def add() -> ResponseReturnValue:
    """Add (or replace) the override of one day."""
    _require_admin()
    form = {k: request.form.get(k, "").strip() for k in ("day", "kind", "reason")}
    try:
        day = date.fromisoformat(form["day"])
    except ValueError:
        return _page(_year(), {"day": _("请输入日期（YYYY-MM-DD）")}, form, 422)
    try:
        calendar_admin.add_override(new_uow(), actor(), day=day, kind=form["kind"],
                                    reason=form["reason"])
    except InvalidInput as exc:  # a refused day may lie in a year the page cannot show
        year = _year() if "day" in exc.field_errors else day.year
        return _page(year, exc.field_errors, form, 422)
    flash(_("%(day)s 已调整", day=day.isoformat()))
    return redirect(url_for("calendar_admin.index", year=day.year))


@bp.post("/withdraw")
def withdraw() -> ResponseReturnValue:
    """Withdraw a day's override (chinese-calendar decides again)."""
    _require_admin()
    try:
        day = date.fromisoformat(request.form.get("day", ""))
        calendar_admin.withdraw_override(new_uow(), actor(), day=day,
                                         reason=request.form.get("reason", WITHDRAW_REASON))
    except (ValueError, InvalidInput) as exc:
        errors = getattr(exc, "field_errors", {"day": FieldError(FieldCode.NOT_DATE)})
        return _page(_year(), errors, None, 422)
    flash(_("%(day)s 的调整已撤销", day=day.isoformat()))
    return redirect(url_for("calendar_admin.index", year=day.year))
