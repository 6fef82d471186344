"""Mediation rooms: listing and editing them, and how much they are used.

Utilisation is counted per room and week (Monday to Sunday, Asia/Shanghai) against the plan's
goal that a room is in use 80 % of its open hours (40 a week: five working days of eight):
*booked* hours are every session not cancelled, *used* hours the sessions that took place with
both sides (a no-show kept the room but did not use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.input_rules import name_error
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import (
    ErrorCode,
    FieldCode,
    FieldError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from workflows.models import Department, MediationSession, RoleCode, Room, SessionStatus
from workflows.runtime.unit_of_work import UnitOfWork

LOCAL = ZoneInfo("Asia/Shanghai")
OPEN_HOURS_PER_WEEK = 40
TARGET = 0.8
CAPACITY = (1, 200)
FLAGS = ("recording", "video", "accessible")
EDITORS = (RoleCode.ADMIN,)


def list_rooms(uow: UnitOfWork, unit_id: int | None = None) -> list[dict]:
    """Every room (or one unit's) with its unit: code, name, capacity and equipment."""
    with uow:
        query = (select(Room, Department.code, Department.name)
                 .join(Department, Department.id == Room.unit_id).order_by(Department.code, Room.code))
        if unit_id is not None:
            query = query.where(Room.unit_id == unit_id)
        return [_room(room, code, name) for room, code, name in uow.session.execute(query)]


def _room(room: Room, unit_code: str, unit_name: str) -> dict:
    return {"id": room.id, "code": room.code, "name": room.name, "unit_id": room.unit_id,
            "unit_code": unit_code, "unit_name": unit_name, "capacity": room.capacity,
            "recording": room.recording, "video": room.video, "accessible": room.accessible,
            "active": room.active}


def save_room(uow: UnitOfWork, actor: Actor, form: Mapping[str, Any],
              room_id: int | None = None) -> int:
    """Create (``room_id`` None) or edit a room from the admin's form; returns its id."""
    if actor.type == "user" and not actor.has(*EDITORS):
        raise NotPermitted(ErrorCode.NOT_PERMITTED, "edit_rooms.admin")
    errors, code, name, capacity = _checked(form, new=room_id is None)
    with uow:
        unit_text = str(form.get("unit_code") or "").strip()[:32]
        unit = uow.session.scalars(select(Department).where(Department.code == unit_text)).first()
        if unit is None:
            errors["unit_code"] = FieldError(ErrorCode.UNKNOWN_UNIT, {"code": unit_text})
        room = uow.session.get(Room, room_id) if room_id is not None else None
        if room_id is not None and room is None:
            raise NotFound(ErrorCode.NOT_FOUND)
        if room is None and code and uow.session.scalars(
                select(Room.id).where(Room.code == code)).first() is not None:
            errors["code"] = FieldError(ErrorCode.DUPLICATE_IN_FILE, {"value": code, "row": "-"})
        if errors:
            raise InvalidInput(errors)
        assert unit is not None
        if room is None:
            room = Room(code=code)
            uow.session.add(room)
        room.name, room.unit_id, room.capacity = name, unit.id, capacity
        for flag in FLAGS:
            setattr(room, flag, str(form.get(flag) or "") in ("true", "on", "1"))
        room.active = str(form.get("active") or "") in ("true", "on", "1")
        uow.session.flush()
        uow.audit.record(AuditAction.ROOM_SAVED, actor, object_type="mediation_room",
                         object_id=room.id, code=room.code, unit_id=room.unit_id,
                         capacity=room.capacity, recording=room.recording, video=room.video,
                         accessible=room.accessible, active=room.active,
                         source="edit" if room_id else "create")
        uow.commit()
        return room.id


def _checked(form: Mapping[str, Any], *, new: bool) -> tuple[dict[str, FieldError], str, str, int]:
    """The form's code, name and capacity, with the field errors found."""
    errors: dict[str, FieldError] = {}
    code = str(form.get("code") or "").strip()
    name = str(form.get("name") or "").strip()
    if new and not code:
        errors["code"] = FieldError(FieldCode.REQUIRED)
    elif len(code) > 40:
        errors["code"] = FieldError(FieldCode.TOO_LONG, {"limit": 40})
    if not name:
        errors["name"] = FieldError(FieldCode.REQUIRED)
    elif (problem := name_error(name, max_length=100)) is not None:
        errors["name"] = problem
    text = str(form.get("capacity") or "").strip()
    capacity = int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else 0
    if not CAPACITY[0] <= capacity <= CAPACITY[1]:
        errors["capacity"] = FieldError(ErrorCode.CAPACITY_RANGE,
                                        {"min": CAPACITY[0], "max": CAPACITY[1]})
    return errors, code, name, capacity


# -- utilisation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoomWeek:
    """One room in one week: hours booked and used against the open hours."""

    room_id: int
    code: str
    name: str
    unit_name: str
    week: date              # the Monday
    booked_hours: float
    used_hours: float

    @property
    def booked_share(self) -> float:
        return self.booked_hours / OPEN_HOURS_PER_WEEK

    @property
    def used_share(self) -> float:
        return self.used_hours / OPEN_HOURS_PER_WEEK

    @property
    def meets_target(self) -> bool:
        return self.used_share >= TARGET


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def utilisation(session: Session, start: date, end: date,
                unit_ids: list[int] | None = None) -> list[RoomWeek]:
    """Every active room (of ``unit_ids``, else all) for every week from ``start``'s Monday up to
    ``end`` (exclusive), with its booked and used hours; one query for the sessions."""
    first = week_start(start)
    since = datetime.combine(first, time(), LOCAL)
    until = datetime.combine(end, time(), LOCAL)
    rooms_query = (select(Room, Department.name).join(Department, Department.id == Room.unit_id)
                   .where(Room.active.is_(True)).order_by(Department.code, Room.code))
    if unit_ids is not None:
        rooms_query = rooms_query.where(Room.unit_id.in_(unit_ids))
    rooms = list(session.execute(rooms_query))
    hours: dict[tuple[int, date], list[float]] = {}
    if rooms:
        sessions = session.execute(
            select(MediationSession.room_id, MediationSession.starts_at, MediationSession.ends_at,
                   MediationSession.status)
            .where(MediationSession.room_id.in_([room.id for room, _ in rooms]),
                   MediationSession.status != SessionStatus.CANCELLED,
                   MediationSession.starts_at >= since, MediationSession.starts_at < until))
        for room_id, starts_at, ends_at, status in sessions:
            assert room_id is not None, "filtered on the rooms"
            week = week_start(starts_at.astimezone(LOCAL).date())
            length = (ends_at - starts_at).total_seconds() / 3600
            entry = hours.setdefault((room_id, week), [0.0, 0.0])
            entry[0] += length
            if status == SessionStatus.HELD:
                entry[1] += length
    out = []
    week = first
    while week < end:
        for room, unit_name in rooms:
            booked, used = hours.get((room.id, week), [0.0, 0.0])
            out.append(RoomWeek(room.id, room.code, room.name, unit_name, week,
                                round(booked, 2), round(used, 2)))
        week += timedelta(days=7)
    return out


VIEWERS = (RoleCode.ADMIN, RoleCode.SUPERVISOR, RoleCode.LEADER, RoleCode.MEDIATOR)


@dataclass
class RoomsPage:
    """The rooms page: the rooms and, per week, their booked and used hours."""

    rooms: list[dict]
    weeks: list[date]
    usage: dict[tuple[int, date], RoomWeek]
    editable: bool


def rooms_page(uow: UnitOfWork, actor: Actor, *, weeks: int = 4) -> RoomsPage:
    """Rooms and utilisation of the last ``weeks`` weeks up to this one; a mediator sees their
    own unit's rooms, supervisors, leaders and administrators every room."""
    if actor.type == "user" and not actor.has(*VIEWERS):
        raise NotPermitted(ErrorCode.NOT_PERMITTED, "view_rooms.role")
    own = actor.type == "user" and not actor.has(RoleCode.ADMIN, RoleCode.SUPERVISOR,
                                                  RoleCode.LEADER)
    unit = actor.department_id if own else None
    rooms = list_rooms(uow, unit)
    today = uow.clock.now().astimezone(LOCAL).date()
    first = week_start(today) - timedelta(days=7 * (weeks - 1))
    with uow:
        found = utilisation(uow.session, first, week_start(today) + timedelta(days=7),
                            [unit] if own and unit is not None else ([] if own else None))
    return RoomsPage(rooms, [first + timedelta(days=7 * i) for i in range(weeks)],
                     {(u.room_id, u.week): u for u in found},
                     editable=actor.type != "user" or actor.has(*EDITORS))


def room_choices(uow: UnitOfWork, actor: Actor) -> list[dict]:
    """The rooms the actor may book (their unit's), for the select of the booking form."""
    with uow:
        query = (select(Room, Department.code, Department.name)
                 .join(Department, Department.id == Room.unit_id)
                 .where(Room.active.is_(True)).order_by(Room.code))
        if actor.type == "user":
            query = query.where(Room.unit_id == actor.department_id)
        return [_room(room, code, name) for room, code, name in uow.session.execute(query)]


def month_room_use(session: Session, first: date, last: date) -> dict:
    """The monthly report's room figures: every room and week touching the month (weeks
    starting in it), booked and used hours against the target."""
    weeks = [w for w in utilisation(session, first, last + timedelta(days=1))
             if first <= w.week + timedelta(days=6) and w.week <= last]
    return {"target": TARGET, "open_hours": OPEN_HOURS_PER_WEEK,
            "rows": [{"room": w.name, "unit": w.unit_name, "week": w.week.isoformat(),
                      "booked_hours": w.booked_hours, "used_hours": w.used_hours,
                      "used_share": round(w.used_share, 3), "met": w.meets_target}
                     for w in weeks]}
