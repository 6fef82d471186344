"""Booking mediation sessions inside people's mediation: rooms, conflicts, moves, cancellation,
attendance and the no-show branch, the parties' notices and room utilisation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from tests.bpmn.test_services_mediation import assign, c01, c01_parties, local, to_mediation  # noqa: F401
from tests.factories import Walk
from workflows.casework.sessions import cancel_session, name_co_mediator, reschedule_session
from workflows.core.errors import (
    ConcurrentUpdate,
    ErrorCode,
    FieldCode,
    InvalidInput,
    NotPermitted,
)
from workflows.mediation import booking
from workflows.mediation.rooms import utilisation
from workflows.models import Case, MediationSession, Room, RoomSlot, SessionStatus


def add_room(services, walk: Walk, code: str, unit: str = "JDTJ") -> Room:
    actor = walk.user("mediator", unit)
    with services.session_factory() as session:
        room = Room(code=code, name=f"调解室{code}", unit_id=actor.department_id, capacity=8,
                    recording=True, video=False, accessible=True, active=True)
        session.add(room)
        session.commit()
        session.refresh(room)
        session.expunge(room)
        return room


@pytest.fixture
def ready(services, c01) -> Walk:  # noqa: F811
    """C01 at the first scheduling step (Mon 2025-03-03), rooms A and B in the street committee."""
    to_mediation(c01)
    assign(c01)
    add_room(services, c01, "A")
    add_room(services, c01, "B")
    assert c01.ids() == ["schedule_session"]
    return c01


NEIGHBOURS = iter(range(10, 99))


def second_case(services, clock) -> Walk:
    """Another neighbour dispute of the same street, at the same scheduling step."""
    from workflows.cases.parties import PartyInput

    n = next(NEIGHBOURS)
    other = Walk(services, clock)
    other.intake(channel="grid_app", category="neighbour", summary="噪声扰民",
                 description="楼上夜间噪声……",
                 parties=[PartyInput(name="王建国", phone=f"137000000{n}"),
                          PartyInput(name="李明", role="respondent", phone=f"136000000{n}")])
    other.do("register", category="neighbour", urgency="general", people_count="2",
             summary="噪声扰民")
    to_mediation(other)
    assign(other)
    return other


def sessions(services, walk: Walk) -> list[MediationSession]:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == walk.case_no)).one()
        return list(session.scalars(select(MediationSession).where(
            MediationSession.case_id == case.id).order_by(MediationSession.id)))


def notices(services, walk: Walk, template: str) -> list[OutboxMessage]:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == walk.case_no)).one()
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.template == template)))


# -- booking in the process ----------------------------------------------------------------------
def test_booking_a_room_holds_its_quarter_hours_and_tells_both_parties(services, ready):
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    assert ready.ids() == ["record_attendance"]
    [row] = sessions(services, ready)
    assert (row.status, row.mode, row.meeting_link) == ("booked", "in_person", None)
    with services.session_factory() as session:
        assert session.scalar(select(RoomSlot.session_id).where(
            RoomSlot.session_id == row.id).limit(1)) == row.id
        assert len(list(session.scalars(select(RoomSlot).where(RoomSlot.session_id == row.id)))) == 6
    told = notices(services, ready, "session_scheduled")
    assert len(told) == 2, "applicant and respondent"
    assert {m.params["when"] for m in told} == {"2025-03-04 09:00—10:30"}
    assert all("调解室A" in m.params["place"] for m in told)
    assert all(m.channel == "phone" for m in told), "C01's parties prefer the phone: call tasks"


@pytest.mark.parametrize(("start", "end", "clash"), [
    ("09:00", "10:30", True),    # the same slot
    ("10:15", "11:00", True),    # overlaps the last quarter hour
    ("08:00", "09:15", True),    # overlaps the first quarter hour
    ("10:30", "11:30", False),   # starts when the other ends
    ("08:00", "09:00", False),   # ends when the other starts
])
def test_a_second_booking_of_the_room_is_refused_at_the_edges_only_when_it_overlaps(
        services, clock, ready, start, end, clash):
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    other = second_case(services, clock)
    if not clash:
        other.schedule("in_person", room="A", start=start, end=end)
        assert other.ids() == ["record_attendance"]
        return
    with pytest.raises(InvalidInput) as refused:
        other.schedule("in_person", room="A", start=start, end=end)
    error = refused.value.field_errors["room_code"]
    assert error.code == ErrorCode.ROOM_TAKEN
    assert error.params["case_no"] == ready.case_no, "the booking in the way is named"
    assert error.params["start"] == "2025-03-04 09:00" and error.params["end"] == "10:30"
    assert other.ids() == ["schedule_session"] and sessions(services, other) == []


@pytest.mark.parametrize("attended", ["in_person", "absent"])
def test_a_session_already_held_or_missed_still_names_itself_to_a_second_booking(
        services, clock, ready, attended):
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    ready.attend(applicant_attendance="in_person", respondent_attendance=attended)
    other = second_case(services, clock)

    with pytest.raises(InvalidInput) as refused:      # a field error naming it, not a 409
        other.schedule("in_person", room="A", days=0, start="09:30", end="10:00")

    error = refused.value.field_errors["room_code"]
    assert error.code == ErrorCode.ROOM_TAKEN and error.params["case_no"] == ready.case_no
    assert other.ids() == ["schedule_session"]


def test_the_same_time_in_another_room_or_online_is_no_conflict(services, clock, ready):
    ready.schedule("in_person", room="A")
    other = second_case(services, clock)
    other.schedule("in_person", room="B")
    third = second_case(services, clock)
    third.schedule("online")            # online sessions hold no room
    assert sessions(services, third)[0].room_id is None
    assert other.ids() == third.ids() == ["record_attendance"]


def test_the_slot_table_refuses_a_booking_that_slipped_past_the_check(services, ready,
                                                                     monkeypatch):
    """A concurrent booking that passed the overlap check still meets the primary key: 409."""
    ready.schedule("in_person", room="A")
    monkeypatch.setattr(booking, "_clash", lambda *args: None)  # what a race loses
    uow = services.new_uow()
    with uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == ready.case_no)).one()
        room = uow.session.scalars(select(Room).where(Room.code == "A")).one()
        slot = booking.Slot("in_person", room, local(2025, 3, 4, 10, 0), local(2025, 3, 4, 11, 0),
                            None)
        with pytest.raises(ConcurrentUpdate) as lost:
            booking._place(uow, MediationSession(case_id=case.id, mode="in_person",
                                                 status="booked", attendance={}),
                           slot, ignore=None)
    # the 409 page names the room and the time in words, not the room's code
    assert isinstance(lost.value, booking.RoomTakenMeanwhile)
    assert (lost.value.room, lost.value.when) == ("调解室A", "2025年3月4日（周二）10:00至11:00")
    assert [r.starts_at for r in sessions(services, ready)] == [local(2025, 3, 4, 9, 0)]


@pytest.mark.parametrize(("form", "field", "code"), [
    ({"mode": "in_person"}, "room_code", ErrorCode.ROOM_REQUIRED),
    ({"mode": "online", "link": ""}, "meeting_link", ErrorCode.MEETING_LINK_REQUIRED),
    ({"mode": "online", "link": "javascript:alert(1)"}, "meeting_link", ErrorCode.MEETING_LINK_FORMAT),
    ({"mode": "online", "start": "09:10"}, "session_start", FieldCode.BAD_FORMAT),  # form pattern
    ({"mode": "online", "start": "11:00", "end": "10:00"}, "session_end", ErrorCode.END_BEFORE_START),
    ({"mode": "online", "days": -1}, "session_start", ErrorCode.SESSION_IN_PAST),
])
def test_bad_booking_requests_are_field_errors_and_nothing_is_booked(services, ready, form, field,
                                                                     code):
    with pytest.raises(InvalidInput) as refused:
        ready.schedule(form["mode"], room=form.get("room", ""), days=form.get("days", 1),
                       start=form.get("start", "09:00"), end=form.get("end", "10:30"),
                       link=form.get("link", "https://meet.example.cn/j/1"))
    assert refused.value.field_errors[field].code == code
    assert sessions(services, ready) == [] and ready.ids() == ["schedule_session"]


def test_a_room_of_another_unit_cannot_be_booked(services, ready):
    add_room(services, ready, "OTHER", unit="JDLT")
    with pytest.raises(InvalidInput) as refused:
        ready.schedule("in_person", room="OTHER")
    assert refused.value.field_errors["room_code"].code == ErrorCode.ROOM_NOT_OF_UNIT


# -- moving and cancelling -----------------------------------------------------------------------
def test_rescheduling_releases_the_old_slot_and_tells_the_parties_again(services, clock, ready):
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    [row] = sessions(services, ready)
    reschedule_session(services.new_uow(), ready.user("mediator", "JDTJ"), case_no=ready.case_no,
                       session_id=row.id, form={"session_mode": "in_person", "room_code": "A",
                                                "session_date": "2025-03-05",
                                                "session_start": "14:00", "session_end": "15:00"})
    with pytest.raises(InvalidInput) as refused:
        reschedule_session(services.new_uow(), ready.user("mediator", "JDTJ"),
                           case_no=ready.case_no, session_id=row.id,
                           form={"session_mode": "in_person", "room_code": "A",
                                 "session_date": "2025-03-05", "session_start": "14:10",
                                 "session_end": "15:00"})
    assert refused.value.field_errors["session_start"].code == ErrorCode.QUARTER_HOURS
    [moved] = sessions(services, ready)
    assert moved.starts_at == local(2025, 3, 5, 14, 0) and moved.status == "booked"
    assert len(notices(services, ready, "session_rescheduled")) == 2
    other = second_case(services, clock)
    other.schedule("in_person", room="A", start="09:00", end="10:30")   # the old slot is free
    assert other.ids() == ["record_attendance"]
    assert ready.ids() == ["record_attendance"], "moving a booking needs no process step"


def test_the_co_mediator_is_told_when_named_and_when_the_session_moves(services, ready):
    """Named to assist, the second mediator gets a notice with the time and place (no personal
    data); moved, he is told again like the parties; naming him again tells nothing new."""
    from tests.factories import make_user

    make_user(services, "mediator", "SQTJ", username="sqtj_med")
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    [row] = sessions(services, ready)
    mediator = ready.user("mediator", "JDTJ")
    for _ in range(2):
        name_co_mediator(services.new_uow(), mediator, case_no=ready.case_no, session_id=row.id,
                         username="sqtj_med")
    [named] = notices(services, ready, "co_mediator_named")
    assert (named.recipient_type, named.params["when"]) == ("user", "2025-03-04 09:00—10:30")
    assert set(named.params) == {"case_no", "when", "place"} and named.params["place"]
    reschedule_session(services.new_uow(), mediator, case_no=ready.case_no, session_id=row.id,
                       form={"session_mode": "in_person", "room_code": "A",
                             "session_date": "2025-03-05", "session_start": "14:00",
                             "session_end": "15:00"})
    moved = notices(services, ready, "session_rescheduled")
    assert named.recipient_id in {m.recipient_id for m in moved if m.recipient_type == "user"}


def test_cancelling_frees_the_room_and_the_process_goes_back_to_scheduling(services, clock, ready):
    ready.schedule("in_person", room="A")
    [row] = sessions(services, ready)
    cancel_session(services.new_uow(), ready.user("mediator", "JDTJ"), case_no=ready.case_no,
                   session_id=row.id, reason="申请人临时住院")
    assert ready.ids() == ["schedule_session"]
    [cancelled] = sessions(services, ready)
    assert cancelled.status == SessionStatus.CANCELLED
    assert len(notices(services, ready, "session_cancelled")) == 2
    other = second_case(services, clock)
    other.schedule("in_person", room="A")
    assert other.ids() == ["record_attendance"]
    with pytest.raises(InvalidInput):                            # not booked any more
        cancel_session(services.new_uow(), ready.user("mediator", "JDTJ"),
                       case_no=ready.case_no, session_id=row.id, reason="再次取消")


def test_only_the_cases_mediator_moves_or_cancels_its_sessions(services, ready):
    from tests.factories import make_user

    ready.schedule("online")
    [row] = sessions(services, ready)
    stranger = make_user(services, "mediator", "JDTJ")
    with pytest.raises(NotPermitted):
        cancel_session(services.new_uow(), stranger, case_no=ready.case_no, session_id=row.id,
                       reason="x")
    assert sessions(services, ready)[0].status == "booked"


# -- attendance and the no-show branch -----------------------------------------------------------
def test_attendance_is_kept_on_the_session_and_a_held_session_leads_to_the_record(services, ready):
    ready.schedule("in_person", room="A")
    ready.attend(applicant_attendance="in_person", respondent_attendance="phone")
    [row] = sessions(services, ready)
    assert row.status == "held"
    assert row.attendance == {"applicant": "in_person", "respondent": "phone"}
    assert ready.ids() == ["mediation_session"]


def test_attendance_before_the_session_starts_is_refused_and_nothing_is_written(
        services, clock, ready):
    ready.schedule("in_person", room="A", start="09:00", end="10:30")     # Tue 03-04 09:00
    clock.set(local(2025, 3, 4, 8, 59))
    with pytest.raises(InvalidInput) as refused:
        ready.do("record_attendance", applicant_attendance="in_person",
                 respondent_attendance="phone")
    error = refused.value.field_errors["applicant_attendance"]
    assert error.code == ErrorCode.SESSION_NOT_STARTED
    assert error.params == {"start": "2025年3月4日（周二）09:00"}
    [row] = sessions(services, ready)
    assert (row.status, row.attendance) == ("booked", {}), "nothing written"
    assert ready.ids() == ["record_attendance"]

    clock.set(local(2025, 3, 4, 9, 0))                                    # it has begun
    ready.do("record_attendance", applicant_attendance="in_person", respondent_attendance="phone")
    assert sessions(services, ready)[0].status == "held"


def test_a_no_show_is_recorded_and_the_process_branches_to_no_show_handling(services, ready):
    ready.schedule("in_person", room="A")
    ready.attend(applicant_attendance="in_person", respondent_attendance="absent")
    [row] = sessions(services, ready)
    assert row.status == "no_show" and row.attendance["respondent"] == "absent"
    assert ready.ids() == ["handle_no_show"]
    ready.do("handle_no_show", session_next="continue", no_show_note="被申请人称未收到通知")
    assert ready.ids() == ["schedule_session"]


def test_replay_verifies_a_case_with_bookings_cancellation_and_a_no_show(services, ready):
    from workflows.replay.case_replay import replay_case

    ready.schedule("online")
    [row] = sessions(services, ready)
    cancel_session(services.new_uow(), ready.user("mediator", "JDTJ"), case_no=ready.case_no,
                   session_id=row.id, reason="改为现场")
    ready.schedule("in_person", room="A")
    ready.attend(applicant_attendance="absent", respondent_attendance="in_person")
    ready.do("handle_no_show", session_next="terminate_requested", no_show_note="两次未到")
    assert ready.ids() == ["terminate_mediation"]
    report = replay_case(services, ready.case_no)
    assert report.ok, report


# -- utilisation ---------------------------------------------------------------------------------
def test_utilisation_counts_booked_and_used_hours_per_room_and_week(services, clock, ready):
    ready.schedule("in_person", room="A", start="09:00", end="11:00")       # Tue 03-04
    ready.attend(applicant_attendance="in_person", respondent_attendance="online")
    other = second_case(services, clock)
    other.schedule("in_person", room="A", start="14:00", end="15:00")      # booked, not held
    uow = services.new_uow()
    with uow:
        weeks = utilisation(uow.session, date(2025, 3, 3), date(2025, 3, 17))
    a = {w.week: w for w in weeks if w.code == "A"}
    assert (a[date(2025, 3, 3)].booked_hours, a[date(2025, 3, 3)].used_hours) == (3.0, 2.0)
    assert a[date(2025, 3, 3)].used_share == 2 / 40 and not a[date(2025, 3, 3)].meets_target
    assert (a[date(2025, 3, 10)].booked_hours, a[date(2025, 3, 10)].used_hours) == (0, 0)


def test_the_monthly_report_carries_each_rooms_weekly_use_against_the_target(services, ready):
    from workflows.reports import periodic

    ready.schedule("in_person", room="A", start="09:00", end="11:00")
    ready.attend(applicant_attendance="in_person", respondent_attendance="online")
    report = periodic.generate(services, "monthly", at=local(2025, 4, 2, 8, 0))
    use = report.summary["room_use"]
    assert use["target"] == 0.8 and use["open_hours"] == 40
    first_week = [r for r in use["rows"] if r["room"] == "调解室A" and r["week"] == "2025-03-03"]
    assert first_week == [{"room": "调解室A", "unit": first_week[0]["unit"], "week": "2025-03-03",
                           "booked_hours": 2.0, "used_hours": 2.0, "used_share": 0.05,
                           "met": False}]
    assert {r["week"] for r in use["rows"]} == {"2025-02-24", "2025-03-03", "2025-03-10",
                                                "2025-03-17", "2025-03-24", "2025-03-31"}
