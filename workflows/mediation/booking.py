"""Booking mediation sessions: a room of the unit (or an online meeting) for a time slot.

A booking holds one ``mediation_room_slot`` row per quarter hour of its room; the primary key
(room, quarter hour) is the database's guard against two bookings of one room at one time, so
a booking that lost a race is refused at the flush (409) even if its overlap check passed.
The overlap check before it names the booking in the way. Every change tells the parties the
time and place through the outbox (a call task for those who prefer the phone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from workflows.audit.log import AuditAction
from workflows.cases.parties import case_parties
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, ErrorCode, FieldCode, FieldError, InvalidInput
from workflows.models import (
    Attendance,
    Case,
    Department,
    MediationSession,
    PartyRole,
    Room,
    RoomSlot,
    SessionMode,
    SessionStatus,
)
from workflows.notify.delivery import notify_party
from workflows.runtime.unit_of_work import UnitOfWork

QUARTER = timedelta(minutes=15)
LONGEST = timedelta(hours=8)
TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
LINK = re.compile(r"^https://[^\s<>\"']{4,290}$")
LOCAL = ZoneInfo("Asia/Shanghai")
NOTIFIED_ROLES = (PartyRole.APPLICANT, PartyRole.RESPONDENT)


class RoomTakenMeanwhile(ConcurrentUpdate):
    """Another booking of the room committed first (the slot table refused this one): the 409
    page names the room and the time in words, never the room's code."""

    def __init__(self, room: str, when: str) -> None:
        super().__init__(f"room taken meanwhile: {when}")
        self.room, self.when = room, when


@dataclass(frozen=True)
class Slot:
    """A checked booking request: where and when."""

    mode: str
    room: Room | None
    starts_at: datetime
    ends_at: datetime
    meeting_link: str | None


# -- reading the request -----------------------------------------------------------------------
def read_slot(uow: UnitOfWork, actor: Actor, form: Mapping[str, Any]) -> Slot:
    """The slot a form asks for (fields ``session_mode``, ``room_code``, ``session_date``,
    ``session_start``, ``session_end``, ``meeting_link``); every mistake at once as field errors."""
    errors: dict[str, FieldError] = {}
    mode = str(form.get("session_mode") or "")
    if mode not in set(SessionMode):
        errors["session_mode"] = FieldError(FieldCode.NOT_AN_OPTION)
    day = _day(form.get("session_date"), errors)
    start = _time(form.get("session_start"), "session_start", errors)
    end = _time(form.get("session_end"), "session_end", errors)
    room, link = None, None
    if mode == SessionMode.IN_PERSON:
        room = _room(uow, actor, str(form.get("room_code") or "").strip(), errors)
    elif mode == SessionMode.ONLINE:
        link = str(form.get("meeting_link") or "").strip()
        if not link:
            errors["meeting_link"] = FieldError(ErrorCode.MEETING_LINK_REQUIRED)
        elif not LINK.match(link):
            errors["meeting_link"] = FieldError(ErrorCode.MEETING_LINK_FORMAT)
    starts_at = ends_at = None
    if day and start and end:
        starts_at = datetime.combine(day, start, LOCAL).astimezone(ZoneInfo("UTC"))
        ends_at = datetime.combine(day, end, LOCAL).astimezone(ZoneInfo("UTC"))
        if ends_at <= starts_at:
            errors["session_end"] = FieldError(ErrorCode.END_BEFORE_START)
        elif ends_at - starts_at > LONGEST:
            errors["session_end"] = FieldError(ErrorCode.SESSION_TOO_LONG,
                                               {"hours": LONGEST.seconds // 3600})
        elif starts_at < uow.clock.now():
            errors["session_start"] = FieldError(ErrorCode.SESSION_IN_PAST)
    if errors:
        raise InvalidInput(errors)
    assert starts_at is not None and ends_at is not None
    return Slot(mode, room, starts_at, ends_at, link)


def _day(value: Any, errors: dict[str, FieldError]) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        errors["session_date"] = FieldError(FieldCode.REQUIRED if not value else
                                            FieldCode.BAD_FORMAT)
        return None


def _time(value: Any, key: str, errors: dict[str, FieldError]) -> time | None:
    match = TIME.match(str(value or "").strip())
    if match is None:
        errors[key] = FieldError(ErrorCode.TIME_FORMAT)
        return None
    if int(match.group(2)) % 15:
        errors[key] = FieldError(ErrorCode.QUARTER_HOURS)
        return None
    return time(int(match.group(1)), int(match.group(2)))


def bookable_rooms(uow: UnitOfWork, actor: Actor) -> list[Room]:
    """The active rooms the actor may book: their own unit's (the system: every room)."""
    query = select(Room).where(Room.active.is_(True)).order_by(Room.code)
    if actor.type == "user":
        query = query.where(Room.unit_id == actor.department_id)
    return list(uow.session.scalars(query))


def _room(uow: UnitOfWork, actor: Actor, code: str, errors: dict[str, FieldError]) -> Room | None:
    if not code:
        errors["room_code"] = FieldError(ErrorCode.ROOM_REQUIRED)
        return None
    room = uow.session.scalars(select(Room).where(Room.code == code[:40],
                                                  Room.active.is_(True))).first()
    if room is None:
        errors["room_code"] = FieldError(ErrorCode.ROOM_NOT_FOUND, {"code": code[:40]})
    elif actor.type == "user" and room.unit_id != actor.department_id:
        errors["room_code"] = FieldError(ErrorCode.ROOM_NOT_OF_UNIT, {"room": room.name})
        return None
    return room


# -- booking, rescheduling, cancelling (inside the caller's unit of work) -----------------------
def book(uow: UnitOfWork, actor: Actor, case: Case, slot: Slot, *,
         task_id: str | None = None) -> MediationSession:
    """Book the slot for the case; the parties are told when and where."""
    row = MediationSession(case_id=case.id, mode=slot.mode, status=SessionStatus.BOOKED,
                           task_id=task_id, booked_by=_uid(actor), attendance={})
    _place(uow, row, slot, ignore=None)
    uow.audit.record(AuditAction.SESSION_BOOKED, actor, case=case, object_type="mediation_session",
                     object_id=row.id, **_facts(row))
    _tell_parties(uow, case, row, "session_scheduled")
    return row


def reschedule(uow: UnitOfWork, actor: Actor, case: Case, row: MediationSession,
               slot: Slot) -> MediationSession:
    """Move a booked session: its old slots are released, the new ones held, parties told."""
    require_booked(row)
    before = _facts(row)
    _release(uow, row)
    row.mode = slot.mode
    _place(uow, row, slot, ignore=row.id)
    uow.audit.record(AuditAction.SESSION_RESCHEDULED, actor, case=case,
                     object_type="mediation_session", object_id=row.id, before=before,
                     after=_facts(row))
    _tell_parties(uow, case, row, "session_rescheduled")
    return row


def cancel(uow: UnitOfWork, actor: Actor, case: Case, row: MediationSession, reason: str) -> None:
    """Cancel a booked session: its slots are free again and the parties are told."""
    require_booked(row)
    if not reason.strip():
        raise InvalidInput({"reason": FieldError(ErrorCode.CANCEL_REASON_REQUIRED)})
    _release(uow, row)
    row.status = SessionStatus.CANCELLED
    row.cancel_reason = reason.strip()[:200]
    uow.audit.record(AuditAction.SESSION_CANCELLED, actor, case=case,
                     object_type="mediation_session", object_id=row.id, **_facts(row))
    _tell_parties(uow, case, row, "session_cancelled")


def record_attendance(uow: UnitOfWork, actor: Actor, case: Case, row: MediationSession,
                      attendance: dict[str, str]) -> None:
    """Who took part and how; a side absent makes the session a no-show. The room's hours
    count as used either way (it was kept free). Not before the session has begun."""
    require_booked(row)
    require_started(uow, row, field="session")
    row.attendance = {side: str(Attendance(mode)) for side, mode in attendance.items()}
    absent = Attendance.ABSENT in row.attendance.values()
    row.status = SessionStatus.NO_SHOW if absent else SessionStatus.HELD
    uow.audit.record(AuditAction.SESSION_ATTENDED, actor, case=case,
                     object_type="mediation_session", object_id=row.id,
                     status=row.status, attendance=row.attendance)


def require_started(uow: UnitOfWork, row: MediationSession, *, field: str) -> None:
    """Attendance records what happened: refused (a field error) before the session's start."""
    if not has_started(uow, row):
        raise InvalidInput({field: FieldError(ErrorCode.SESSION_NOT_STARTED,
                                              {"start": when_text(row.starts_at)})})


def has_started(uow: UnitOfWork, row: MediationSession) -> bool:
    return uow.clock.now() >= row.starts_at


def booked_session(uow: UnitOfWork, case: Case, session_id: Any = None) -> MediationSession:
    """A session of this case (by id; else its latest booked one)."""
    query = select(MediationSession).where(MediationSession.case_id == case.id)
    if session_id not in (None, ""):
        text = str(session_id)
        query = query.where(MediationSession.id == (int(text) if text.isdigit() else -1))
    else:
        query = query.where(MediationSession.status == SessionStatus.BOOKED)
    row = uow.session.scalars(query.order_by(MediationSession.id.desc())).first()
    if row is None:
        raise InvalidInput({"session": FieldError(ErrorCode.SESSION_NOT_FOUND)})
    return row


def _place(uow: UnitOfWork, row: MediationSession, slot: Slot, *, ignore: int | None) -> None:
    """Check the room is free, then hold its quarter hours (the database refuses a race)."""
    row.room_id = slot.room.id if slot.room is not None else None
    row.starts_at, row.ends_at, row.meeting_link = slot.starts_at, slot.ends_at, slot.meeting_link
    if slot.room is not None:
        clash = _clash(uow, slot, ignore)
        if clash is not None:
            other, code = clash
            raise InvalidInput({"room_code": FieldError(ErrorCode.ROOM_TAKEN, {
                "room": slot.room.name, "start": _local(other.starts_at),
                "end": _local(other.ends_at, "%H:%M"), "case_no": code})})
    try:
        with uow.session.begin_nested():
            if row.id is None:
                uow.session.add(row)
            uow.session.flush()
            if slot.room is not None:
                uow.session.add_all(RoomSlot(room_id=slot.room.id, slot_start=start,
                                             session_id=row.id)
                                    for start in quarters(slot.starts_at, slot.ends_at))
                uow.session.flush()
    except IntegrityError:
        raise RoomTakenMeanwhile(slot.room.name if slot.room else "",
                                 when_text(slot.starts_at, slot.ends_at)) from None


def _clash(uow: UnitOfWork, slot: Slot, ignore: int | None) -> tuple[MediationSession, str] | None:
    """The first session of the room overlapping the slot; touching ends do not. Every session
    not cancelled holds its quarter hours (held and missed ones too), so each is named here
    rather than met by the slot table's refusal."""
    assert slot.room is not None
    query = (select(MediationSession, Case.case_no).join(Case, Case.id == MediationSession.case_id)
             .where(MediationSession.room_id == slot.room.id,
                    MediationSession.status != SessionStatus.CANCELLED,
                    MediationSession.starts_at < slot.ends_at,
                    MediationSession.ends_at > slot.starts_at)
             .order_by(MediationSession.starts_at))
    if ignore is not None:
        query = query.where(MediationSession.id != ignore)
    found = uow.session.execute(query).first()
    return (found[0], found[1]) if found else None


def quarters(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The quarter hours a booking holds."""
    out, at = [], starts_at
    while at < ends_at:
        out.append(at)
        at += QUARTER
    return out


def _release(uow: UnitOfWork, row: MediationSession) -> None:
    uow.session.execute(delete(RoomSlot).where(RoomSlot.session_id == row.id))


def require_booked(row: MediationSession) -> None:
    if row.status != SessionStatus.BOOKED:
        raise InvalidInput({"session": FieldError(ErrorCode.SESSION_NOT_BOOKED,
                                                  {"status": row.status})})


def _uid(actor: Actor) -> int | None:
    text = str(actor.id or "")
    return int(text) if actor.type == "user" and text.isdigit() else None


def _facts(row: MediationSession) -> dict:
    """What the audit records of a booking: codes, ids and instants only."""
    return {"mode": row.mode, "room_id": row.room_id, "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(), "online": row.meeting_link is not None,
            "status": row.status}


def _local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(LOCAL).strftime(fmt)


WEEKDAYS = "一二三四五六日"


def when_text(starts_at: datetime, ends_at: datetime | None = None) -> str:
    """A session's time in words, Beijing time: 2025年3月4日（周二）09:00至10:30."""
    at = starts_at.astimezone(LOCAL)
    text = f"{at.year}年{at.month}月{at.day}日（周{WEEKDAYS[at.weekday()]}）{at:%H:%M}"
    return text if ends_at is None else f"{text}至{ends_at.astimezone(LOCAL):%H:%M}"


def place_text(uow: UnitOfWork, row: MediationSession) -> str:
    """Where a session is, in the words the parties get: the room and its unit, or the link."""
    if row.room_id is None:
        return f"线上调解，会议链接 {row.meeting_link}"
    room = uow.session.get(Room, row.room_id)
    unit = uow.session.get(Department, room.unit_id) if room is not None else None
    return f"{unit.name if unit else ''}{room.name if room else ''}"


def _tell_parties(uow: UnitOfWork, case: Case, row: MediationSession, template: str) -> None:
    params = {"case_no": case.case_no, "when": f"{_local(row.starts_at)}—{_local(row.ends_at, '%H:%M')}",
              "place": place_text(uow, row)}
    key = f"session:{row.id}:{row.starts_at.isoformat()}:{row.status}"
    for link, party in case_parties(uow.session, case):
        if link.role in NOTIFIED_ROLES:
            notify_party(uow, case, party, template=template, params=params, key=key)
