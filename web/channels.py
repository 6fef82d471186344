"""Blueprint ``channels``: the quarantine of pushed work orders (intake clerks), the 诉求类型
mapping (admins), and the interface catalogue with its health (supervisors and admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.admin_directory import unit_options
from web.context import actor, new_uow
from web.labels import choices, label
from web.messages import field_errors
from web.params import whole_number
from workflows.channels import catalogue, feeds, health, mapping, quarantine
from workflows.channels.hotline import CHANNEL
from workflows.core.errors import FieldCode, FieldError, InvalidInput
from workflows.models import InterfaceKind

bp = Blueprint("channels", __name__, url_prefix="/channels")


@bp.get("/quarantine")
def quarantine_list() -> ResponseReturnValue:
    """Pushed work orders waiting to be completed by hand, oldest first (no personal data)."""
    page = quarantine.quarantined(new_uow(), actor())
    return render_template("channels/quarantine.html", page=page)


@bp.route("/mappings", methods=["GET", "POST"])
def mappings() -> ResponseReturnValue:
    """The 12345 诉求类型 -> category table (admins): add or change a row, or delete one."""
    errors: dict = {}
    form = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        try:
            delete = whole_number(form.get("delete"), None)
            if delete is not None:
                mapping.delete_mapping(new_uow(), actor(), delete)
            else:
                mapping.save_mapping(new_uow(), actor(), CHANNEL, form.get("source_text", ""),
                                     form.get("category", ""))
        except InvalidInput as exc:
            errors = field_errors(exc.field_errors)
        else:
            flash(_("已保存"), "success")
            return redirect(url_for("channels.mappings"))
    rows = mapping.list_mappings(new_uow(), actor(), CHANNEL)
    return render_template("channels/mappings.html", rows=rows, errors=errors, form=form,
                           categories=choices("category")), 422 if errors else 200


@bp.route("/interfaces", methods=["GET", "POST"])
def interfaces() -> ResponseReturnValue:
    """Interface catalogue and health (supervisors, admins); admins also edit the catalogue,
    subscribe a unit's feed (its secret shown once) and every reader may resend a dead letter."""
    form = request.form.to_dict() if request.method == "POST" else {}
    errors: dict = {}
    secret = None
    if request.method == "POST":
        try:
            secret = _interface_action(form)
        except InvalidInput as exc:
            errors = field_errors(exc.field_errors)
        else:
            if secret is None:
                flash(_("已保存"), "success")
                return redirect(url_for("channels.interfaces"))
    page = health.health_page(new_uow(), actor())
    units = unit_options() if "admin" in actor().roles else []   # the forms are the admins'
    if request.method == "GET" and units:
        form = _entry_form(page["interfaces"], request.args.get("edit", ""))
    return render_template("channels/interfaces.html", page=page, errors=errors, form=form,
                           units=units,
                           secret=secret, kinds=choices("interface_kind"),
                           directions=choices("direction"), statuses=choices("interface_status"),
                           feed_kinds=[(str(k), label("case_event", k)) for k in feeds.FEED_KINDS],
                           ), 422 if errors else 200


def _entry_form(rows: list[dict], code: str) -> dict:
    """The catalogue entry (or a unit's subscription) ``修改`` opens, as its form holds it."""
    row = next((r for r in rows if r["code"] == code), None)
    if row is None:
        return {}
    if row["kind"] == InterfaceKind.FEED:
        return {"unit_code": row["owner_unit_code"] or "", "endpoint_url": row["endpoint_url"] or "",
                **{f"kind-{k}": "1" for k in row["event_kinds"]}}
    interval = row["expected_interval_minutes"]
    return {"code": row["code"], "name": row["name"], "owner_unit": row["owner_unit_code"] or "",
            "datasets": "，".join(row["datasets"]), "kind": row["kind"],
            "direction": row["direction"], "status": row["status"],
            "expected_interval_minutes": "" if interval is None else str(interval)}


def _interface_action(form: dict) -> str | None:
    """Run the posted action; a new feed's secret is returned (shown once)."""
    action = form.get("action")
    if action == "retry":
        message = whole_number(form.get("message"), None)
        if message is None:
            raise InvalidInput({"message": FieldError(FieldCode.REQUIRED)})
        health.retry_dead_letter(new_uow(), actor(), message)
        return None
    if action == "subscribe":
        _code, secret = feeds.subscribe(
            new_uow(), actor(), unit_code=(form.get("unit_code") or "").strip(),
            endpoint_url=(form.get("endpoint_url") or "").strip(),
            kinds=[k for k in (str(f) for f in feeds.FEED_KINDS) if form.get(f"kind-{k}")])
        return secret
    unit = (form.get("owner_unit") or "").strip()
    interval = (form.get("expected_interval_minutes") or "").strip()
    if interval and whole_number(interval) is None:  # 一小时 is not saved as "no check"
        raise InvalidInput({"expected_interval_minutes": FieldError(FieldCode.NOT_INTEGER)})
    catalogue.save_interface(
        new_uow(), actor(), code=form.get("code", ""), name=form.get("name", ""),
        kind=form.get("kind", ""), direction=form.get("direction", ""),
        owner_unit_id=catalogue.unit_id(new_uow(), unit) if unit else None,
        datasets=(form.get("datasets") or "").replace("，", ",").split(","),
        status=form.get("status", ""),
        expected_interval_minutes=whole_number(interval))
    return None
