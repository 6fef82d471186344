"""Blueprint ``directory``: the administrators' accounts, units and places pages (all audited by
workflows/people/admin.py; the views only read forms and pick templates)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.labels import label
from web.messages import field_errors
from web.params import page_arg
from workflows.core.errors import InvalidInput
from workflows.models import RoleCode
from workflows.people import admin
from workflows.people.departments import UNIT_KINDS

bp = Blueprint("directory", __name__, url_prefix="/admin")
USER_STATES = ("active", "disabled")


@bp.before_request
def admins_only() -> None:
    """Nothing a request carries is read for anyone but an administrator (denial audited)."""
    admin.require_admin(actor(), services())


def unit_options(current: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """Active units for a select, grouped by place name path ("全区" for district-level units);
    ``current`` is offered even when inactive, so saving a form never drops it unasked."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for unit in admin.list_units(new_uow(), actor()):
        if not unit.active and unit.code != current:
            continue
        where = " / ".join(unit.place_names) or _("全区")
        groups.setdefault(where, []).append((unit.code, unit.name))
    return list(groups.items())


# -- users ----------------------------------------------------------------------------------------
@bp.get("/users")
def users() -> ResponseReturnValue:
    """Accounts with search and filters by unit, role and state."""
    args = request.args
    filters = {"q": args.get("q", "")[:64], "unit": args.get("unit", "")[:32],
               "role": args.get("role", "") if args.get("role") in set(RoleCode) else "",
               "state": args.get("state", "") if args.get("state") in USER_STATES else ""}
    found = admin.search_users(new_uow(), actor(), text=filters["q"], unit_code=filters["unit"],
                               role=filters["role"], state=filters["state"], page=page_arg())
    return render_template("admin/users.html", found=found, filters=filters,
                           units=unit_options())


def _user_form() -> dict:
    form = request.form
    return {"username": form.get("username", "").strip()[:200],
            "display_name": form.get("display_name", "").strip()[:200],
            "unit": form.get("unit", "").strip()[:64],
            "mobile": form.get("mobile", "").strip()[:40],
            "clear_mobile": form.get("clear_mobile") == "true",
            "roles": form.getlist("roles")[:20]}


def _new_user_page(form: dict, errors: dict | None = None, status: int = 200):
    return render_template("admin/user_new.html", form=form, errors=field_errors(errors),
                           units=unit_options()), status


@bp.get("/users/new")
def new_user() -> ResponseReturnValue:
    """The form for a new account (a unit given in ?unit= is chosen already)."""
    return _new_user_page({"username": "", "display_name": "", "mobile": "",
                           "unit": request.args.get("unit", "")[:32], "roles": []})


@bp.post("/users")
def create_user() -> ResponseReturnValue:
    """Create the account and show its one-time password, once."""
    form = _user_form()
    try:
        _, password = admin.invite_user(new_uow(), actor(), username=form["username"],
                                        display_name=form["display_name"], roles=form["roles"],
                                        unit_code=form["unit"] or None, mobile=form["mobile"])
    except InvalidInput as exc:
        return _new_user_page(form, exc.field_errors, 422)
    return render_template("admin/password.html", username=form["username"],
                           display_name=form["display_name"], password=password, created=True)


def _user_page(username: str, form: dict | None = None, errors: dict | None = None,
               status: int = 200):
    detail = admin.user_detail(new_uow(), actor(), username)
    user = detail.summary
    form = form or {"display_name": user.display_name, "unit": user.department_code or "",
                    "roles": list(user.roles), "mobile": "", "clear_mobile": False}
    return render_template("admin/user.html", detail=detail, user=user, form=form,
                           errors=field_errors(errors),
                           units=unit_options(user.department_code or "")), status


@bp.get("/users/<username>")
def user(username: str) -> ResponseReturnValue:
    """One account: its unit and roles (editable), state, and the password and lock actions."""
    return _user_page(username)


@bp.post("/users/<username>")
def update_user(username: str) -> ResponseReturnValue:
    """Save the display name, unit and roles."""
    form = _user_form()
    try:
        changed = admin.update_user(new_uow(), actor(), username=username,
                                    display_name=form["display_name"], roles=form["roles"],
                                    unit_code=form["unit"] or None, mobile=form["mobile"],
                                    clear_mobile=form["clear_mobile"])
    except InvalidInput as exc:
        return _user_page(username, form, exc.field_errors, 422)
    flash(_("已保存") if changed else _("没有变化"))
    return redirect(url_for("directory.user", username=username))


@bp.post("/users/<username>/disable")
def disable_user(username: str) -> ResponseReturnValue:
    """Disable the account; its sessions end at once."""
    try:
        admin.disable_user(new_uow(), actor(), username=username)
    except InvalidInput as exc:
        return _user_page(username, errors=exc.field_errors, status=422)
    flash(_("账号已停用，登录状态已全部退出"))
    return redirect(url_for("directory.user", username=username))


@bp.post("/users/<username>/enable")
def enable_user(username: str) -> ResponseReturnValue:
    """Let the account sign in again."""
    admin.enable_user(new_uow(), actor(), username=username)
    flash(_("账号已启用"))
    return redirect(url_for("directory.user", username=username))


@bp.post("/users/<username>/password")
def reset_password(username: str) -> ResponseReturnValue:
    """A new one-time password, shown once; the old one and every session stop working."""
    password = admin.reset_password(new_uow(), actor(), username=username)
    detail = admin.user_detail(new_uow(), actor(), username)
    return render_template("admin/password.html", username=username,
                           display_name=detail.summary.display_name, password=password,
                           created=False)


@bp.post("/users/<username>/unlock")
def unlock_user(username: str) -> ResponseReturnValue:
    """Clear the sign-in lock after too many failed attempts."""
    unlocked = admin.unlock_user(new_uow(), actor(), username=username)
    flash(_("已解除登录锁定") if unlocked else _("该账号没有被锁定"))
    return redirect(url_for("directory.user", username=username))


@bp.post("/users/<username>/second-factor")
def reset_second_factor(username: str) -> ResponseReturnValue:
    """Remove a lost second factor: the account's sessions end and it enrols again."""
    admin.reset_second_factor(new_uow(), actor(), username=username)
    flash(_("已重置双因素登录，该账号下次登录时需重新启用。"))
    return redirect(url_for("directory.user", username=username))


# -- units ----------------------------------------------------------------------------------------
@bp.get("/units")
def units() -> ResponseReturnValue:
    """Units with kind, place, tier, responsibilities and number of accounts."""
    args = request.args
    filters = {"q": args.get("q", "")[:64], "kind": args.get("kind", "")[:32],
               "place": args.get("place", "")[:40]}
    rows = admin.list_units(new_uow(), actor(), text=filters["q"], kind=filters["kind"],
                            place_code=filters["place"])
    place = admin.find_place(new_uow(), actor(), filters["place"]) if filters["place"] else None
    return render_template("admin/units.html", rows=rows, filters=filters, place=place,
                           kinds=_kind_options())


def _kind_options() -> list[tuple[str, str]]:
    """Kinds in the routing table's order (district departments first), others after."""
    order = {kind: index for index, kind in enumerate(UNIT_KINDS)}
    kinds = sorted(admin.unit_kinds(new_uow()), key=lambda kind: (order.get(kind, len(order)),
                                                                  kind))
    return [(kind, label("unit_kind", kind)) for kind in kinds]


def _unit_form() -> dict:
    form = request.form
    return {"code": form.get("code", "").strip()[:64], "name": form.get("name", "").strip()[:200],
            "kind": form.get("kind", "").strip()[:32], "place": form.get("place", "").strip()[:64],
            "active": form.get("active") == "true"}


def _unit_page(template: str, form: dict, errors: dict | None = None, status: int = 200,
               unit=None):
    place = admin.find_place(new_uow(), actor(), form["place"]) if form.get("place") else None
    return render_template(template, form=form, errors=field_errors(errors), unit=unit,
                           kinds=_kind_options(), place=place), status


@bp.get("/units/new")
def new_unit() -> ResponseReturnValue:
    """The form for a new unit (a place given in ?place= is filled in)."""
    return _unit_page("admin/unit_new.html", {"code": "", "name": "", "kind": "",
                                              "place": request.args.get("place", "")[:40]})


@bp.post("/units")
def create_unit() -> ResponseReturnValue:
    """Create the unit; its tier follows its place."""
    form = _unit_form()
    try:
        admin.create_unit(new_uow(), actor(), code=form["code"], name=form["name"],
                          kind=form["kind"], place_code=form["place"] or None)
    except InvalidInput as exc:
        return _unit_page("admin/unit_new.html", form, exc.field_errors, 422)
    flash(_("单位 %(name)s 已创建", name=form["name"]))
    return redirect(url_for("directory.unit", unit_code=form["code"]))


@bp.get("/units/<unit_code>")
def unit(unit_code: str) -> ResponseReturnValue:
    """One unit with its edit form."""
    row = admin.unit_detail(new_uow(), actor(), unit_code)
    form = {"code": row.code, "name": row.name, "kind": row.kind, "place": row.place_code or "",
            "active": row.active}
    return _unit_page("admin/unit.html", form, unit=row)


@bp.post("/units/<unit_code>")
def update_unit(unit_code: str) -> ResponseReturnValue:
    """Save name, kind, place and state (the code stays)."""
    row = admin.unit_detail(new_uow(), actor(), unit_code)
    form = {**_unit_form(), "code": row.code}
    try:
        changed = admin.update_unit(new_uow(), actor(), code=row.code, name=form["name"],
                                    kind=form["kind"], place_code=form["place"] or None,
                                    active=form["active"])
    except InvalidInput as exc:
        return _unit_page("admin/unit.html", form, exc.field_errors, 422, unit=row)
    flash(_("已保存") if changed else _("没有变化"))
    return redirect(url_for("directory.unit", unit_code=row.code))


# -- places ---------------------------------------------------------------------------------------
@bp.get("/places/options")
def place_options() -> ResponseReturnValue:
    """The place pickers' suggestions (the unit form's ``place``, the KPI target form's
    ``scope``): places whose name, code or address holds the typed text."""
    typed = request.args.get("place") or request.args.get("scope") or ""
    hits, _more = admin.search_places(new_uow(), actor(), typed[:40])
    return render_template("cases/_place_options.html", places=hits)


@bp.get("/places")
def places() -> ResponseReturnValue:
    """The place tree one level at a time (?code=), or the places matching ?q=."""
    text = request.args.get("q", "").strip()[:64]
    if text:
        hits, more = admin.search_places(new_uow(), actor(), text)
        return render_template("admin/places.html", view=None, hits=hits, more=more, q=text)
    view = admin.place_view(new_uow(), actor(), request.args.get("code", "")[:40] or None)
    return render_template("admin/places.html", view=view, hits=None, more=view.more, q="")
