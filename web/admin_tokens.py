"""Blueprint ``api_tokens``: the administrators' API token pages — the list, issuing a token for
an account (its secret shown once) and revoking one (workflows/people/api_tokens.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.labels import label
from web.messages import field_errors
from web.params import page_arg, whole_number
from workflows.access.tokens import API_CHANNELS, DEFAULT_DAYS, MAX_DAYS, MIN_DAYS
from workflows.core.errors import InvalidInput
from workflows.people import admin, api_tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/tokens")


@bp.before_request
def admins_only() -> None:
    """Nothing a request carries is read for anyone but an administrator (denial audited)."""
    admin.require_admin(actor(), services())


@bp.get("")
def index() -> ResponseReturnValue:
    """Tokens newest first, by state and account."""
    state = request.args.get("state", "")
    filters = {"state": state if state in api_tokens.STATES else "",
               "username": request.args.get("username", "").strip()[:64]}
    found = api_tokens.list_tokens(new_uow(), actor(), state=filters["state"],
                                   username=filters["username"], page=page_arg())
    return render_template("admin/tokens.html", found=found, filters=filters)


def _channels() -> list[tuple[str, str]]:
    return [(str(c), label("channel", c)) for c in API_CHANNELS]


def _form_page(form: dict, errors: dict | None = None, status: int = 200):
    return render_template("admin/token_new.html", form=form, errors=field_errors(errors),
                           channels=_channels(), min_days=MIN_DAYS, max_days=MAX_DAYS), status


@bp.get("/new")
def new() -> ResponseReturnValue:
    """The form, for the account given in ?username= (the account page links here)."""
    return _form_page({"username": request.args.get("username", "").strip()[:64],
                       "channel": "", "name": "", "days": str(DEFAULT_DAYS)})


@bp.post("")
def create() -> ResponseReturnValue:
    """Issue the token and show it once."""
    form = {key: request.form.get(key, "").strip()[:limit]
            for key, limit in (("username", 64), ("channel", 32), ("name", 200), ("days", 10))}
    try:
        issued = api_tokens.issue(new_uow(), actor(), username=form["username"],
                                  channel=form["channel"], name=form["name"],
                                  days=whole_number(form["days"]) or 0)
    except InvalidInput as exc:
        return _form_page(form, exc.field_errors, 422)
    return render_template("admin/token_issued.html", issued=issued, days=form["days"])


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one token: the channel system using it is refused from its next request on."""
    done = api_tokens.revoke(new_uow(), actor(), token_id)
    flash(_("令牌已吊销，使用它的系统从下一次请求起被拒绝。") if done else _("该令牌已吊销"))
    return redirect(url_for("api_tokens.index", **{k: v for k, v in request.args.items()
                                                   if k in ("state", "username", "page")}))
