"""Two mediators book the same room for the same hour at the same moment on PostgreSQL: both pass
the overlap check (neither sees the other's booking yet); the quarter-hour slot key lets exactly
one commit, the other gets ConcurrentUpdate (409) and its case stays at scheduling."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.bpmn.test_services_mediation import assign, local, to_mediation
from tests.conftest import PG
from tests.factories import Walk
from workflows.cases.parties import PartyInput
from workflows.core.errors import ConcurrentUpdate
from workflows.mediation import booking
from workflows.models import Department, MediationSession, Room, RoomSlot

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def neighbour_case(services, clock, n: int) -> Walk:
    walk = Walk(services, clock)
    walk.intake(channel="grid_app", category="neighbour", summary="渗漏",
                description="楼上卫生间渗漏……",
                parties=[PartyInput(name="王建国", phone=f"1370000000{n}"),
                         PartyInput(name="李明", role="respondent", phone=f"1360000000{n}")])
    walk.do("register", category="neighbour", urgency="general", people_count="2", summary="渗漏")
    to_mediation(walk)
    assign(walk)
    return walk


def test_two_simultaneous_bookings_of_one_room_exactly_one_wins(committed_services, clock,
                                                                monkeypatch):
    services = committed_services
    clock.set(local(2025, 3, 3, 10, 20))
    Walk.ready(services, clock)
    first, second = neighbour_case(services, clock, 1), neighbour_case(services, clock, 2)
    with services.new_uow() as uow:
        unit = uow.session.scalar(select(Department.id).where(Department.code == "JDTJ"))
        uow.session.add(Room(code="A", name="调解室A", unit_id=unit, capacity=8, recording=True,
                             video=False, accessible=True, active=True))
        uow.commit()
    checked = threading.Barrier(2, timeout=20)
    real_clash = booking._clash

    def clash_then_wait(*args):
        found = real_clash(*args)
        checked.wait()                      # both have looked: neither saw the other
        return found

    monkeypatch.setattr(booking, "_clash", clash_then_wait)
    outcomes: dict[str, str] = {}

    def book(walk: Walk) -> None:
        try:
            walk.schedule("in_person", room="A", start="09:00", end="10:30")
            outcomes[walk.case_no] = "booked"
        except ConcurrentUpdate:
            outcomes[walk.case_no] = "conflict"

    threads = [threading.Thread(target=book, args=(w,)) for w in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["booked", "conflict"]
    loser = first if outcomes[first.case_no] == "conflict" else second
    assert loser.ids() == ["schedule_session"], "nothing of the losing step was written"
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MediationSession)) == 1
        assert session.scalar(select(func.count()).select_from(RoomSlot)) == 6
