"""Blueprint ``warnings``: the warnings list with filters, a supervisor's decision (已核实 / 误报),
and the administrators' rule set page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.messages import field_errors
from web.params import page_arg
from workflows.core.dates import filter_bounds, filter_day_error
from workflows.core.errors import FieldCode, FieldError, InvalidInput
from workflows.early_warning import decide, rules
from workflows.early_warning.listing import WarningFilter, warnings_page
from workflows.early_warning.precision import warning_precision
from workflows.models import Category, RoleCode, WarningKind, WarningState
from workflows.people.admin import require_admin

bp = Blueprint("warnings", __name__)
PER_PAGE = 50


def _day(name: str, errors: dict[str, FieldError]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = FieldError(FieldCode.NOT_DATE)
        return None
    wrong = filter_day_error(day, filter_bounds(services().clock.now(), services().settings))
    if wrong is not None:
        errors[name] = wrong
        return None
    return day


def _filters() -> tuple[dict, dict[str, FieldError]]:
    args = request.args
    errors: dict[str, FieldError] = {}
    wanted = {"state": args.get("state") if args.get("state") in set(WarningState) else "",
              "rule": args.get("rule") if args.get("rule") in set(WarningKind) else "",
              "from": _day("from", errors), "to": _day("to", errors)}
    return wanted, errors


def _page(errors: dict[str, FieldError] | None = None, status: int = 200,
          kept: dict | None = None, message: str | None = None) -> ResponseReturnValue:
    who = actor()
    wanted, bad = _filters()
    zone = ZoneInfo(services().settings.timezone)
    lower = datetime.combine(wanted["from"], time(0), zone) if wanted["from"] else None
    upper = datetime.combine(wanted["to"] + timedelta(days=1), time(0), zone) \
        if wanted["to"] else None
    page = page_arg()
    rows, total = warnings_page(new_uow(), who, WarningFilter(
        state=wanted["state"] or None, rule=wanted["rule"] or None, raised_from=lower,
        raised_before=upper), page=page, per_page=PER_PAGE)
    today = services().clock.now().astimezone(zone).date()
    first, last = wanted["from"] or today - timedelta(days=89), wanted["to"] or today
    with services().session_factory() as session:
        precision = warning_precision(session, first, last, who.unit_path, tz=zone)
    return render_template(
        "warnings/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
        filters=wanted, filter_errors=field_errors(bad), errors=field_errors(errors),
        kept=kept or {}, message=message, precision=precision, period=(first, last),
        states=list(WarningState), kinds=list(WarningKind),
        link_cases=who.has(RoleCode.SUPERVISOR, RoleCode.LEADER)), status


@bp.get("/warnings")
def index() -> ResponseReturnValue:
    """Warnings in the reader's scope, newest first (supervisors, leaders, administrators)."""
    return _page()


@bp.post("/warnings/<int:warning_id>/decide")
def decide_one(warning_id: int) -> ResponseReturnValue:
    """已核实 or 误报 with a note; back to the list with the same filters."""
    form = request.form
    decision, note = form.get("decision", ""), form.get("note", "")
    try:
        decide.decide_warning(new_uow(), actor(), warning_id, decision=decision, note=note)
    except InvalidInput as exc:
        return _page({f"{warning_id}-{k}": v for k, v in exc.field_errors.items()}, 422,
                     kept={warning_id: note})
    except decide.AlreadyDecided:
        return _page(status=409, message=_("该预警已由他人处理，未作更改"))
    flash(_("已标记为已核实") if decision == WarningState.CONFIRMED else _("已标记为误报"))
    return redirect(url_for("warnings.index", **request.args.to_dict()))


# -- the rule set (administrators) ---------------------------------------------------------------
def _rules_page(errors: dict | None = None, failed: str | None = None, form: dict | None = None,
                status: int = 200) -> ResponseReturnValue:
    with services().session_factory() as session:
        current = rules.load_rules(session, services().settings)
    return render_template("warnings/rules.html", rules=current, specs=rules.SPECS,
                           categories=list(Category), errors=field_errors(errors),
                           failed=failed, form=form or {}), status


@bp.get("/admin/warning-rules")
def rule_set() -> ResponseReturnValue:
    """Every rule with its switch, thresholds and categories."""
    require_admin(actor(), services())
    return _rules_page()


@bp.post("/admin/warning-rules/<rule_code>")
def save_rule(rule_code: str) -> ResponseReturnValue:
    """Save one rule (audited)."""
    require_admin(actor(), services())
    code = rule_code
    spec = rules.SPECS.get(code)
    if spec is None:
        return _rules_page(status=404)
    form = request.form
    params = {param.name: form.get(param.name, "")[:20] for param in spec.params}
    chosen = form.getlist("categories")[:50]
    try:
        rules.update_rule(new_uow(), actor(), code, enabled=form.get("enabled") == "true",
                          params=params, categories=chosen)
    except InvalidInput as exc:
        return _rules_page(exc.field_errors, code, {"params": params, "categories": chosen,
                                                    "enabled": form.get("enabled") == "true"},
                           422)
    flash(_("预警规则已保存"))
    return redirect(url_for("warnings.rule_set") + f"#rule-{code}")
