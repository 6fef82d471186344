"""Blueprint ``auth``: sign-in (password, then the second factor), sign-out, the own account,
second-factor enrolment and password change on server-side login sessions.

Flask-Login keeps only the random login-session id in the signed cookie (``get_id`` returns it);
every request resumes it from ``login_session``, so revoked sessions end at once. A session that
has passed the password only reaches the factor pages and sign-out (``web/access.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from web.access import public
from web.context import actor, client_ip, keep_directory_stamp, new_uow, services
from web.extensions import login_manager
from web.messages import field_errors
from workflows.access import second_factor
from workflows.access import sign_in as auth_service
from workflows.access.sign_in import LoginResult, SessionUser, Stage
from workflows.core.errors import InvalidInput
from workflows.people import preferences

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
    found = auth_service.resume(services(), session_id)
    if found is None:
        return None
    keep_directory_stamp(found.directory_stamp)
    return WebUser(found, session_id)


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
    _sign_in(result)
    return _onward(result.user.stage, request.form.get("next"))


def _sign_in(result: LoginResult) -> None:
    session.clear()  # nothing from before the sign-in survives (session fixation)
    login_user(WebUser(result.user, result.session_id))


def _onward(stage: str, target: str | None) -> ResponseReturnValue:
    """Where a sign-in goes next: the code, the enrolment, or the page asked for."""
    target = safe_next(target, "")
    if stage == Stage.FACTOR:
        return redirect(url_for("auth.factor", next=target or None))
    if stage == Stage.ENROL:
        return redirect(url_for("auth.enrol", next=target or None))
    return redirect(target or url_for("cases.inbox"))


@bp.route("/factor", methods=["GET", "POST"])
def factor() -> ResponseReturnValue:
    """Second step of a sign-in: a code from the authenticator app or a recovery code."""
    if current_user.stage != Stage.FACTOR:
        return _onward(current_user.stage, request.args.get("next"))
    target = request.values.get("next", "")
    if request.method != "POST":
        return render_template("auth/factor.html", next=target)
    try:
        result = second_factor.verify(new_uow(), actor(), raw_session=current_user.session_id,
                                      code=request.form.get("code", ""), ip=client_ip())
    except auth_service.LoginThrottled:
        error, status = _("失败次数过多，请 15 分钟后再试或联系管理员。"), 429
    except auth_service.LoginFailed:
        error, status = _("验证码不正确，请输入验证器当前显示的 6 位数字或一个恢复码。"), 401
    else:
        _sign_in(result)
        return redirect(safe_next(target, url_for("cases.inbox")))
    return render_template("auth/factor.html", next=target, error=error), status


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    """Set up the second factor: scan the QR code (or type the key), confirm with a code, and
    take the recovery codes, shown this once."""
    if current_user.stage == Stage.FACTOR:
        return redirect(url_for("auth.factor"))
    target = request.values.get("next", "")
    try:
        enrolment = second_factor.start_enrolment(new_uow(), actor())
    except second_factor.AlreadyEnrolled:
        flash(_("已启用双因素登录。"), "info")
        return redirect(url_for("auth.account"))
    if request.method != "POST":
        return _enrol_page(enrolment, target, {})
    stage = current_user.stage
    try:
        codes, result = second_factor.confirm_enrolment(
            new_uow(), actor(), code=request.form.get("code", ""), ip=client_ip(),
            raw_session=current_user.session_id if stage == Stage.ENROL else None)
    except auth_service.LoginThrottled:
        return _enrol_page(enrolment, target,
                           {"code": _("失败次数过多，请 15 分钟后再试或联系管理员。")}, 429)
    except InvalidInput as exc:
        return _enrol_page(enrolment, target, field_errors(exc.field_errors), 422)
    if result is not None:
        _sign_in(result)
    return render_template("auth/recovery_codes.html", codes=codes,
                           next=safe_next(target, url_for("cases.inbox")))


def _enrol_page(enrolment: second_factor.Enrolment, target: str, errors: dict,
                status: int = 200) -> ResponseReturnValue:
    # the QR code is drawn here as inline SVG: the secret never leaves the server for a QR service
    qr = Markup(segno.make(enrolment.uri, error="m").svg_inline(scale=5, border=2))  # noqa: S704
    key = " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
    return render_template("auth/enrol.html", qr=qr, key=key, next=target, errors=errors,
                           required=current_user.stage == Stage.ENROL), status


@bp.get("/account")
def account() -> ResponseReturnValue:
    """The own account: roles, unit, the second factor's state, links to change things."""
    return render_template("auth/account.html",
                           factor=second_factor.status(new_uow(), actor()), errors={})


@bp.post("/account/text-size")
def text_size() -> ResponseReturnValue:
    """The own text size for every page (standard, large, extra large); audited."""
    try:
        changed = preferences.set_text_size(new_uow(), actor(),
                                            request.form.get("text_size", "")[:16])
    except InvalidInput as exc:
        return render_template("auth/account.html", errors=field_errors(exc.field_errors),
                               factor=second_factor.status(new_uow(), actor())), 422
    if changed:
        flash(_("字号已保存，所有页面按此字号显示。"), "success")
    return redirect(url_for("auth.account"), 303)


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
    enrolled = second_factor.status(new_uow(), actor()).enrolled_at is not None
    if request.method != "POST":
        return render_template("auth/password.html", errors={}, enrolled=enrolled)
    form = request.form
    if form.get("new_password") != form.get("confirm_password"):
        errors = {"confirm_password": _("两次输入的新密码不一致")}
        return render_template("auth/password.html", errors=errors, enrolled=enrolled), 422
    try:
        result = auth_service.change_password(new_uow(), actor(), old=form.get("old_password", ""),
                                              new=form.get("new_password", ""), ip=client_ip(),
                                              code=form.get("code", ""))
    except InvalidInput as exc:
        errors = {("new_password" if k == "password" else k): v
                  for k, v in field_errors(exc.field_errors).items()}
        return render_template("auth/password.html", errors=errors, enrolled=enrolled), 422
    _sign_in(result)
    flash(_("密码已修改，其他设备上的登录已失效。"), "success")
    return _onward(result.user.stage, None)
