"""Locale choice: the user's preference, then the session's choice, then Accept-Language, then
Simplified Chinese (the source language). Blueprint ``i18n`` stores a choice (POST only)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from web.access import public
from web.auth import safe_next
from web.context import actor, new_uow
from workflows.people import admin

bp = Blueprint("i18n", __name__, url_prefix="/i18n")
DEFAULT = "zh_Hans_CN"
# stored or sent spellings -> the catalogue that serves them
ALIASES = {"zh": DEFAULT, "zh_cn": DEFAULT, "zh_hans": DEFAULT, "zh_hans_cn": DEFAULT,
           "zh-cn": DEFAULT, "zh-hans": DEFAULT, "zh-hans-cn": DEFAULT, "en": "en",
           "en_us": "en", "en-us": "en", "en_gb": "en", "en-gb": "en"}


def supported() -> tuple[str, ...]:
    return tuple(current_app.config.get("JIEFEN_LOCALES") or (DEFAULT, "en"))


def normalize(code: str | None) -> str | None:
    """A supported locale for a stored or requested code, or None."""
    if not code:
        return None
    found = ALIASES.get(code.strip().lower(), code.strip())
    return found if found in supported() else None


def select_locale() -> str:
    """Flask-Babel's locale selector (user preference -> session -> Accept-Language -> default)."""
    if current_user and current_user.is_authenticated:
        chosen = normalize(current_user.session_user.locale)
        if chosen:
            return chosen
    chosen = normalize(session.get("locale"))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return normalize(best) or current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT)


@bp.post("/locale/<code>")
@public
def set_locale(code: str) -> ResponseReturnValue:
    """Remember the interface language (session; and the account for signed-in users)."""
    chosen = normalize(code)
    if chosen is None:
        abort(404)
    session["locale"] = chosen
    if current_user.is_authenticated:
        admin.set_locale(new_uow(), actor(), chosen)
    return redirect(safe_next(request.form.get("next")), 303)
