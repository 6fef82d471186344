"""Blueprint ``auth``: sign-in, sign-out and password change on server-side login sessions.

Flask-Login keeps only the random login-session id in the signed cookie (``get_id`` returns it);
every request resumes it from ``login_session``, so revoked sessions end at once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from web.access import public
from web.context import actor, client_ip, new_uow
from web.extensions import login_manager
from web.messages import field_errors
from workflows.access import sign_in as auth_service
from workflows.access.sign_in import SessionUser
from workflows.core.errors import InvalidInput

bp = Blueprint("auth", __name__, url_prefix="/auth")


class WebUser:
    """Flask-Login's user: a resumed login session."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, session_user: SessionUser, session_id: str):
        self.session_user = session_user
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id

    def __getattr__(self, name: str):
        return getattr(self.session_user, name)


@login_manager.user_loader
def load_user(session_id: str) -> WebUser | None:
    """Resume the login session named in the cookie; None if revoked, idle or expired."""
    found = auth_service.resume(new_uow(), session_id)
    return WebUser(found, session_id) if found else None


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path of this application only (never an open redirect); else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Show the sign-in form; on POST check the password and open a new session."""
    if request.method != "POST":  # GET and HEAD
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    try:
        result = auth_service.login(new_uow(), username=username,
                                    password=request.form.get("password", ""), ip=client_ip())
    except auth_service.LoginThrottled:
        return _login_error(_("登录失败次数过多，请 15 分钟后再试或联系管理员。"), username, 429)
    except auth_service.LoginFailed:
        return _login_error(_("用户名或密码不正确。"), username, 401)
    session.clear()  # nothing from before the sign-in survives (session fixation)
    login_user(WebUser(result.user, result.session_id))
    return redirect(safe_next(request.form.get("next"), url_for("cases.inbox")))


def _login_error(message: str, username: str, status: int) -> ResponseReturnValue:
    return render_template("auth/login.html", error=message, username=username,
                           next=request.form.get("next", "")), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this login session on the server, then forget the cookie."""
    if current_user.is_authenticated:
        auth_service.logout(new_uow(), current_user.session_id, actor())
    logout_user()
    session.clear()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    """Change the own password; every other session of the account ends."""
    if request.method != "POST":
        return render_template("auth/password.html", errors={})
    form = request.form
    if form.get("new_password") != form.get("confirm_password"):
        errors = {"confirm_password": _("两次输入的新密码不一致")}
        return render_template("auth/password.html", errors=errors), 422
    try:
        result = auth_service.change_password(new_uow(), actor(), old=form.get("old_password", ""),
                                              new=form.get("new_password", ""), ip=client_ip())
    except InvalidInput as exc:
        errors = {("new_password" if k == "password" else k): v
                  for k, v in field_errors(exc.field_errors).items()}
        return render_template("auth/password.html", errors=errors), 422
    session.clear()
    login_user(WebUser(result.user, result.session_id))
    flash(_("密码已修改，其他设备上的登录已失效。"), "success")
    return redirect(url_for("cases.inbox"))
