"""The mediator's pages of the mediation room: attendance only once the session has begun (the
page says when, the server refuses earlier), and a room lost to a simultaneous booking named on
the 409 page by its name and time, never by its code."""

from __future__ import annotations

from sqlalchemy import update

from tests.bpmn.test_services_mediation import c01, local  # noqa: F401 (fixture)
from tests.factories import Walk
from tests.web.conftest import PASSWORD, login, post
from tests.workflows.test_mediation_sessions import ready, second_case, sessions  # noqa: F401
from tests.workflows.test_step_statements import counted
from workflows.access.hashing import hasher
from workflows.core.actors import SYSTEM
from workflows.mediation import booking
from workflows.models import User
from workflows.people import admin

# the upcoming sessions page: who asks (one joined read) and the one query of the sessions,
# however many there are
UPCOMING_STATEMENTS = 3


def signed_in(app, walk: Walk):
    """A client signed in as the walk's mediator."""
    mediator = walk.user("mediator", "JDTJ")
    with walk.services.new_uow() as uow:
        uow.session.execute(update(User).where(User.username == mediator.username).values(
            password_hash=hasher(walk.services.settings).hash(PASSWORD)))
        uow.commit()
    client = app.test_client()
    assert login(client, mediator.username).status_code == 302
    return client


def test_attendance_waits_for_the_session_to_begin(app, services, clock, ready):  # noqa: F811
    ready.schedule("in_person", room="A", start="09:00", end="10:30")      # Tue 03-04 09:00
    client = signed_in(app, ready)
    step = f"/cases/{ready.case_no}/tasks/{ready.task('record_attendance')['task_id']}"

    page = client.get(step).get_data(as_text=True)
    assert "这场调解 2025年3月4日（周二）09:00 才开始，开始后才能登记到场情况" in page
    assert 'data-testid="submit" disabled' in page

    refused = post(client, step, {"applicant_attendance": "in_person",
                                  "respondent_attendance": "phone"})
    assert refused.status_code == 422
    assert "才开始，开始后才能登记到场情况" in refused.get_data(as_text=True)
    assert sessions(services, ready)[0].status == "booked"
    assert ready.ids() == ["record_attendance"]

    clock.set(local(2025, 3, 4, 9, 0))
    client = signed_in(app, ready)           # the next morning: a new sign-in
    page = client.get(step).get_data(as_text=True)
    assert "才开始" not in page and 'data-testid="submit" disabled' not in page
    done = post(client, step, {"applicant_attendance": "in_person",
                               "respondent_attendance": "phone"})
    assert done.status_code == 302
    assert sessions(services, ready)[0].status == "held"


def test_a_room_lost_to_a_simultaneous_booking_is_named_on_the_409_page(
        app, services, clock, ready, monkeypatch):  # noqa: F811
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    other = second_case(services, clock)
    client = signed_in(app, other)
    step = f"/cases/{other.case_no}/tasks/{other.task('schedule_session')['task_id']}"
    monkeypatch.setattr(booking, "_clash", lambda *args: None)   # both passed the check

    answer = post(client, step, {"session_mode": "in_person", "room_code": "A",
                                 "session_date": "2025-03-04", "session_start": "10:00",
                                 "session_end": "11:00", "meeting_link": ""})

    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "调解室刚被其他预约占用" in text
    assert "调解室A 在 2025年3月4日（周二）10:00至11:00 刚被另一场调解预约" in text
    kept = text.split('data-testid="kept-values"')[1].split("</table>")[0]
    assert "调解室A" in kept and "<td>A</td>" not in kept, "the room by name, not its code"
    assert other.ids() == ["schedule_session"]


def test_a_co_mediator_sees_the_booking_among_his_upcoming_sessions(
        app, services, clock, ready, db_engine):  # noqa: F811
    for username, name, unit in (("sqtj_med", "孙协调", "SQTJ"), ("fy_med", "周法院", "FY"),
                                 ("jdtj_other", "郑同事", "JDTJ")):
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=["mediator"], department_code=unit, display_name=name)
    ready.schedule("in_person", room="A", start="09:00", end="10:30")      # Tue 03-04 09:00
    lead = signed_in(app, ready)
    [row] = sessions(services, ready)
    case_page = lead.get(f"/cases/{ready.case_no}").get_data(as_text=True)
    form = case_page.split('data-testid="co-mediator-form"')[1].split("</form>")[0]
    assert '<optgroup label="社区（村）人民调解委员会">' in form and "孙协调" in form
    assert "周法院" not in form, "a court's mediator is not offered"

    refused = post(lead, f"/cases/{ready.case_no}/sessions/{row.id}/co-mediator",
                   {"co_mediator": "fy_med"})
    assert refused.status_code == 422
    assert "周法院（区人民法院）不在本案可指派的范围内" in refused.get_data(as_text=True)
    assert sessions(services, ready)[0].co_mediator_id is None, "nothing written"

    named = post(lead, f"/cases/{ready.case_no}/sessions/{row.id}/co-mediator",
                 {"co_mediator": "sqtj_med"})
    assert named.status_code == 302

    helper = app.test_client()
    assert login(helper, "sqtj_med").status_code == 302
    with counted(db_engine) as statements:
        mine = helper.get("/sessions/upcoming")
    assert mine.status_code == 200
    listed = mine.get_data(as_text=True).split('data-testid="upcoming-sessions"')[1]
    assert ready.case_no in listed and "2025年3月4日（周二）09:00至10:30" in listed
    assert "协助调解员" in listed and "调解室A" in listed
    assert len(statements) <= UPCOMING_STATEMENTS, statements
    assert helper.get(f"/cases/{ready.case_no}").status_code == 200, "he reads the case"

    own = lead.get("/sessions/upcoming").get_data(as_text=True)
    assert ready.case_no in own and "孙协调" in own, "the lead sees it with his co-mediator"
    other = app.test_client()
    assert login(other, "jdtj_other").status_code == 302
    assert ready.case_no not in other.get("/sessions/upcoming").get_data(as_text=True)

    clock.set(local(2025, 3, 4, 10, 30))                        # over: no longer upcoming
    assert login(helper := app.test_client(), "sqtj_med").status_code == 302
    assert ready.case_no not in helper.get("/sessions/upcoming").get_data(as_text=True)
