"""Blueprint ``mediation``: mediation rooms and their use, moving and cancelling a case's sessions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.admin_directory import unit_options
from web.context import actor, new_uow, services
from web.messages import field_errors
from workflows.access.policy import Denied, denials_audited
from workflows.casework import sessions as session_service
from workflows.casework import views as case_views
from workflows.core.errors import ErrorCode, InvalidInput, NotFound
from workflows.mediation import rooms as room_service
from workflows.mediation.upcoming import upcoming_sessions
from workflows.models import RoleCode

bp = Blueprint("mediation", __name__)
ROOM_FIELDS = ("code", "name", "unit_code", "capacity", "recording", "video", "accessible",
               "active")
SLOT_FIELDS = ("session_mode", "room_code", "session_date", "session_start", "session_end",
               "meeting_link")


def equipment(room: dict) -> str:
    """The room's equipment in words (the select of the booking form, the rooms page)."""
    words = [text for key, text in (("recording", _("录音录像")), ("video", _("视频")),
                                    ("accessible", _("无障碍"))) if room.get(key)]
    return _("、").join(words) or _("无")


def room_options(rooms: list[dict]) -> list[tuple[str, str]]:
    return [(r["code"], _("%(name)s（%(capacity)s 人；%(kit)s）", name=r["name"],
                          capacity=r["capacity"], kit=equipment(r))) for r in rooms]


@bp.get("/rooms")
def rooms() -> ResponseReturnValue:
    """The rooms and their booked / used hours per week against the 80 % target."""
    who = actor()
    with denials_audited(services(), who, object_type="page", object_id="rooms"):
        page = room_service.rooms_page(new_uow(), who)
    return render_template("mediation/rooms.html", page=page, target=room_service.TARGET,
                           open_hours=room_service.OPEN_HOURS_PER_WEEK, equipment=equipment)


def _require_admin() -> None:
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(RoleCode.ADMIN):
            raise Denied(ErrorCode.NOT_PERMITTED, "edit_rooms.admin", object_type="page",
                         object_id="rooms")


def _room_form(room: dict | None, form: dict, errors: dict | None = None, status: int = 200):
    return render_template("mediation/room.html", room=room, form=form,
                           units=unit_options(form.get("unit_code") or ""),
                           errors=field_errors(errors)), status


@bp.route("/rooms/new", methods=["GET", "POST"])
def room_new() -> ResponseReturnValue:
    """A new room (administrators)."""
    _require_admin()
    if request.method == "GET":
        return _room_form(None, {"capacity": "6", "active": "true"})
    form = {k: request.form.get(k, "").strip() for k in ROOM_FIELDS}
    try:
        room_service.save_room(new_uow(), actor(), form)
    except InvalidInput as exc:
        return _room_form(None, form, exc.field_errors, 422)
    flash(_("调解室已保存"), "success")
    return redirect(url_for("mediation.rooms"))


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
def room_edit(room_id: int) -> ResponseReturnValue:
    """Edit a room (administrators)."""
    _require_admin()
    room = next((r for r in room_service.list_rooms(new_uow()) if r["id"] == room_id), None)
    if room is None:
        raise NotFound(ErrorCode.NOT_FOUND)
    if request.method == "GET":
        form = {k: room.get(k) for k in ROOM_FIELDS}
        form.update({k: "true" if room[k] else "" for k in ("recording", "video", "accessible",
                                                            "active")})
        return _room_form(room, form)
    form = {k: request.form.get(k, "").strip() for k in ROOM_FIELDS}
    form["code"] = room["code"]
    try:
        room_service.save_room(new_uow(), actor(), form, room_id=room_id)
    except InvalidInput as exc:
        return _room_form(room, form, exc.field_errors, 422)
    flash(_("调解室已保存"), "success")
    return redirect(url_for("mediation.rooms"))


SLOT_SHOWN = ("session_date", "session_start", "session_end")   # the 改期 form's own fields


@bp.post("/cases/<case_no>/sessions/<int:session_id>/reschedule")
def reschedule(case_no: str, session_id: int) -> ResponseReturnValue:
    """Move a booked session (the case's mediator); the parties are told again."""
    form = {k: request.form.get(k, "").strip() for k in SLOT_FIELDS}
    try:
        session_service.reschedule_session(new_uow(), actor(), case_no=case_no,
                                           session_id=session_id, form=form)
    except InvalidInput as exc:
        return _case_again(case_no, exc, {"id": session_id, "kind": "reschedule", **form})
    flash(_("调解已改期，已通知当事人"), "success")
    return redirect(url_for("cases.detail", case_no=case_no) + "#sessions")


@bp.post("/cases/<case_no>/sessions/<int:session_id>/cancel")
def cancel(case_no: str, session_id: int) -> ResponseReturnValue:
    """Cancel a booked session: the room is free again, the parties told, scheduling reopens."""
    reason = request.form.get("reason", "").strip()
    try:
        session_service.cancel_session(new_uow(), actor(), case_no=case_no,
                                       session_id=session_id, reason=reason)
    except InvalidInput as exc:
        return _case_again(case_no, exc, {"id": session_id, "kind": "cancel", "reason": reason})
    flash(_("调解预约已取消，已通知当事人"), "success")
    return redirect(url_for("cases.detail", case_no=case_no) + "#sessions")


@bp.post("/cases/<case_no>/sessions/<int:session_id>/co-mediator")
def co_mediator(case_no: str, session_id: int) -> ResponseReturnValue:
    """Name (or take off) the session's co-mediator (the case's mediator)."""
    username = request.form.get("co_mediator", "").strip()
    try:
        session_service.name_co_mediator(new_uow(), actor(), case_no=case_no,
                                         session_id=session_id, username=username)
    except InvalidInput as exc:
        return _case_again(case_no, exc, {"id": session_id, "kind": "co_mediator"})
    flash(_("协助调解员已保存") if username else _("已不设协助调解员"), "success")
    return redirect(url_for("cases.detail", case_no=case_no) + "#sessions")


@bp.get("/sessions/upcoming")
def upcoming() -> ResponseReturnValue:
    """My upcoming sessions: as the case's mediator or as a co-mediator."""
    who = actor()
    with denials_audited(services(), who, object_type="page", object_id="upcoming_sessions"):
        if not who.has(RoleCode.MEDIATOR):
            raise Denied(ErrorCode.NOT_PERMITTED, "upcoming_sessions.mediator",
                         object_type="page", object_id="upcoming_sessions")
    return render_template("mediation/upcoming.html",
                           sessions=upcoming_sessions(new_uow(), who))


def _case_again(case_no: str, exc: InvalidInput, typed: dict) -> ResponseReturnValue:
    """The case page again with what was wrong about the move or cancellation (422), the form
    open with what was typed (``typed``: the session id, which form, its fields)."""
    page = case_views.case_page(new_uow(), actor(), case_no)
    errors = field_errors(exc.field_errors)
    # the moved slot's own fields show their errors under them; the rest above the sessions
    beside = SLOT_SHOWN if typed.get("kind") == "reschedule" else ()
    return render_template("cases/detail.html", page=page, case=page.summary, revealed={},
                           session_errors=[e for k, e in errors.items() if k not in beside],
                           slot_errors={k: e for k, e in errors.items() if k in beside},
                           session_form=typed), 422
