"""The rooms page (utilisation against the 80 % target) and the administrator's room form."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import post
from workflows.models import Room


def test_the_admin_adds_a_room_with_field_errors_in_chinese_first(services, users, as_role):
    client = as_role("admin")
    form = client.get("/rooms/new").get_data(as_text=True)
    assert "新增调解室" in form
    assert '<option value="T_CENTRE">测试区综治中心</option>' in form    # chosen by name
    bad = post(client, "/rooms/new", {"code": "R1", "name": "", "unit_code": "NOPE",
                                      "capacity": "0"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "没有编码为 NOPE 的单位" in text or "NOPE" in text
    assert "容纳人数应在 1 到 200 之间" in text
    done = post(client, "/rooms/new", {"code": "R1", "name": "第一调解室", "unit_code": "ZZ",
                                       "capacity": "10", "recording": "true",
                                       "accessible": "true", "active": "true"})
    assert done.status_code == 302
    with services.session_factory() as session:
        room = session.scalars(select(Room).where(Room.code == "R1")).one()
        assert (room.capacity, room.recording, room.video, room.accessible) == (10, True, False,
                                                                                  True)
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "room_saved")) == "room_saved"
    page = client.get("/rooms").get_data(as_text=True)
    room_id = session_room_id(services, "R1")
    opened = client.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert '<option value="ZZ" selected>' in opened
    assert "第一调解室" in page and "录音录像、无障碍" in page
    assert "recording" not in page and "in_person" not in page   # no codes on the page


def session_room_id(services, code: str) -> int:
    with services.session_factory() as session:
        return session.scalars(select(Room.id).where(Room.code == code)).one()


def test_a_mediator_sees_the_rooms_of_the_unit_and_cannot_edit(services, users, as_role):
    with services.new_uow() as uow:
        from workflows.models import Department

        unit = uow.session.scalars(select(Department).where(Department.code == "ZZ")).one()
        uow.session.add(Room(code="R9", name="区中心调解室", unit_id=unit.id, capacity=6,
                             recording=False, video=True, accessible=False, active=True))
        uow.commit()
    client = as_role("mediator")
    page = client.get("/rooms")
    assert page.status_code == 200
    assert "新增调解室" not in page.get_data(as_text=True)
    assert client.get("/rooms/new").status_code == 403
    assert as_role("intake_clerk").get("/rooms").status_code == 403
