"""IoT alarms over ``POST /api/v1/alarms``: a registered device's alarm opens an urgent case at its
building, a flapping sensor stays one case with a count, the window expires, ``cleared`` is
recorded on the case, unknown devices are quarantined, only ``iot`` tokens are heard; and the
device registry import (row numbers for bad rows, nothing half-imported)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.cli_support import jiefen
from tests.web.test_api import _token, conforms
from tests.workflows.test_district_intake import build_district
from workflows.alarms.devices import import_devices, parse_devices
from workflows.core.actors import SYSTEM
from workflows.models import (
    AlarmMessage,
    Case,
    Device,
    DeviceAlarm,
    EarlyWarning,
    QuarantinedAlarm,
)
from workflows.people.directory_files import ImportRejected

API = "/api/v1/alarms"
DEVICES = "device_id,kind,place_code\nSD-0001,smoke,B_SM12\nGS-0001,燃气,B_SM12\n"


@pytest.fixture
def district(services, reference):
    return build_district(services)


@pytest.fixture
def devices(services, district):
    rows = parse_devices("devices.csv", DEVICES.encode())
    return import_devices(services.new_uow(), SYSTEM, rows)


@pytest.fixture
def iot(services, users, process, devices) -> dict:
    return _token(services, "intake_clerk", channel="iot")


def alarm(clock, **changes) -> dict:
    return {"device_id": "SD-0001", "kind": "smoke", "severity": "high",
            "occurred_at": clock.now().isoformat(), "state": "alarm", **changes}


def send(client, headers, payload, status: int) -> dict:
    response = client.post(API, json=payload, headers=headers)
    assert response.status_code == status, response.get_json()
    return conforms(response, API, "post")


def count(services, model, *where) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_alarm_opens_an_urgent_case_at_the_devices_building(client, services, clock, iot):
    out = send(client, iot, alarm(clock), 201)
    assert out["alarm_count"] == 1 and out["state"] == "alarm"
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == out["case_no"])).one()
        assert (case.channel, case.urgency, case.category) == ("iot", "urgent",
                                                               "property_collective")
        assert case.place_id == district_place(uow, "B_SM12")
        assert "SD-0001" in case.summary and case.channel_ref == "SD-0001"


def district_place(uow, code: str) -> int:
    from workflows.models import Place

    return uow.session.scalar(select(Place.id).where(Place.code == code))


def test_a_flapping_sensor_is_one_case_with_a_count(client, services, clock, iot):
    first = send(client, iot, alarm(clock), 201)
    for n in range(2, 51):     # fifty alarms (and clears between them) within the hour
        clock.advance(seconds=30)
        send(client, iot, alarm(clock, state="cleared"), 200)
        clock.advance(seconds=30)
        out = send(client, iot, alarm(clock), 200)
        assert out == {"case_no": first["case_no"], "alarm_count": n, "state": "alarm"}
    assert count(services, Case) == 1
    assert count(services, DeviceAlarm) == 1
    # the building counts one report, not fifty: no hotspot warning from one sensor
    assert count(services, EarlyWarning) == 0


def test_after_the_window_a_new_alarm_opens_a_new_case(client, services, clock, iot,
                                                        settings):
    first = send(client, iot, alarm(clock), 201)
    window = timedelta(minutes=settings.alarm_window_minutes)
    clock.advance(window)
    inside = send(client, iot, alarm(clock), 200)          # exactly at the window's end
    assert inside["case_no"] == first["case_no"] and inside["alarm_count"] == 2
    clock.advance(window + timedelta(seconds=1))
    later = send(client, iot, alarm(clock), 201)
    assert later["case_no"] != first["case_no"] and later["alarm_count"] == 1
    # another kind of the same device is another case
    other = send(client, iot, alarm(clock, device_id="GS-0001", kind="gas"), 201)
    assert other["case_no"] not in (first["case_no"], later["case_no"])


def test_cleared_is_recorded_on_the_case(client, services, clock, iot, as_role):
    first = send(client, iot, alarm(clock), 201)
    clock.advance(minutes=5)
    cleared = send(client, iot, alarm(clock, state="cleared"), 200)
    assert cleared == {"case_no": first["case_no"], "alarm_count": 1, "state": "cleared"}
    history = client.get(f"/api/v1/cases/{first['case_no']}/history", headers=iot).get_json()
    actions = [e["action"] for e in history["events"]]
    assert actions.count("alarm_received") == 1 and actions[-1] == "alarm_cleared"
    as_role("intake_clerk")
    page = client.get(f"/cases/{first['case_no']}").get_data(as_text=True)
    assert "设备告警已解除" in page


def test_the_same_message_twice_counts_once(client, services, clock, iot):
    payload = alarm(clock)
    first = send(client, iot, payload, 201)
    again = send(client, iot, payload, 200)
    assert again == first
    assert count(services, AlarmMessage) == 1


def test_an_unknown_device_is_quarantined_and_shown_to_clerks(client, services, clock, iot,
                                                              as_role):
    out = send(client, iot, alarm(clock, device_id="XX-404"), 202)
    assert out == {"quarantined": True, "reason": "unknown_device"}
    assert count(services, Case) == 0 and count(services, QuarantinedAlarm) == 1
    as_role("intake_clerk")
    page = client.get("/alarms/quarantine")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "XX-404" in text and "设备未登记" in text and "烟感报警" in text


def test_others_may_not_see_the_quarantine(client, services, clock, iot, as_role):
    send(client, iot, alarm(clock, device_id="XX-404"), 202)
    as_role("mediator")
    assert client.get("/alarms/quarantine").status_code == 403


def test_a_token_of_another_channel_is_refused_before_the_body_is_read(client, services,
                                                                       clock, iot):
    hotline = _token(services, "intake_clerk", channel="hotline_12345")
    response = client.post(API, json=alarm(clock), headers=hotline)
    assert response.status_code == 403
    assert response.get_json()["rule"] == "alarms.channel"
    assert client.post(API, data="not json", headers=hotline).status_code == 403
    assert count(services, Case) == 0 and count(services, AlarmMessage) == 0


def test_an_iot_token_of_a_user_who_may_not_register_is_refused(client, services, clock,
                                                                 iot):
    mediator = _token(services, "mediator", channel="iot")
    assert client.post(API, json=alarm(clock), headers=mediator).status_code == 403
    assert count(services, Case) == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "fire"}, "kind"), ({"state": "maybe"}, "state"), ({"severity": "huge"}, "severity"),
    ({"occurred_at": "2025-03-03 09:00"}, "occurred_at"), ({"device_id": ""}, "device_id"),
    ({"extra": 1}, "extra"), ({"device_id": 7}, "device_id"),
])
def test_bad_alarms_are_field_errors(client, services, clock, iot, changes, field):
    out = send(client, iot, alarm(clock, **changes), 422)
    assert field in out["errors"]
    assert count(services, Case) == 0


def test_an_alarm_from_the_future_is_refused(client, clock, iot):
    out = send(client, iot, alarm(clock, occurred_at=(clock.now() + timedelta(hours=1))
                                  .isoformat()), 422)
    assert "occurred_at" in out["errors"]


# -- the device registry --------------------------------------------------------------------------
def test_a_file_with_bad_rows_is_refused_with_row_numbers(services, district):
    data = ("设备编号,类型,楼栋编码\n"
            "SD-1,smoke,B_SM12\n"
            "SD-1,smoke,B_SM12\n"          # row 3: repeated
            "SD-2,fire,B_SM12\n"           # row 4: unknown kind
            "\n"
            "SD-3,gas,NOPE\n"              # row 6: unknown place
            "SD-4,gas,G_SM1\n"             # row 7: a grid, not a building
            "SD 5,gas,B_SM12\n")           # row 8: a space in the id
    rows = parse_devices("devices.csv", data.encode())
    with pytest.raises(ImportRejected) as refused:
        import_devices(services.new_uow(), SYSTEM, rows)
    found = {(p.row, p.column, p.error.code) for p in refused.value.problems}
    assert found == {(3, "device_id", "duplicate_in_file"), (4, "kind", "unknown_alarm_kind"),
                     (6, "place_code", "unknown_place"), (7, "place_code", "place_not_building"),
                     (8, "device_id", "bad_code")}
    assert count(services, Device) == 0


def test_import_is_by_device_id_and_a_second_run_changes_nothing(services, district):
    rows = parse_devices("devices.csv", DEVICES.encode())
    assert import_devices(services.new_uow(), SYSTEM, rows).created == ["SD-0001", "GS-0001"]
    again = import_devices(services.new_uow(), SYSTEM, rows)
    assert again.created == [] and again.unchanged == ["SD-0001", "GS-0001"]
    moved = parse_devices("d.csv", b"device_id,kind,place_code\nSD-0001,smoke,B_SM12X\n")
    with pytest.raises(ImportRejected):
        import_devices(services.new_uow(), SYSTEM, moved)


def test_only_administrators_import_devices(services, users, district):
    rows = parse_devices("devices.csv", DEVICES.encode())
    with pytest.raises(Exception) as refused:
        import_devices(services.new_uow(), users.actor("intake_clerk"), rows)
    assert refused.value.code == "admin_only"
    assert count(services, Device) == 0


def test_devices_import_command_reads_xlsx_and_refuses_bad_rows(committed_services, tmp_path):
    build_district(committed_services)
    env = {"DATABASE_URL": committed_services.settings.database,
           "JIEFEN_INSTANCE_PATH": str(committed_services.settings.instance_path),
           "JIEFEN_KEYS_FILE": str(committed_services.settings.keys_path),
           "JIEFEN_SECRET_KEY": "cli-test"}
    book = Workbook()
    book.active.append(["device_id", "kind", "place_code"])
    book.active.append(["SD-0009", "烟感报警", "B_SM12"])
    book.active.append(["EL-0001", "elevator_trapped", "B_SM12"])
    book.save(tmp_path / "devices.xlsx")
    done = jiefen(env, "devices", "import", str(tmp_path / "devices.xlsx"))
    assert done.exit_code == 0, done.output
    assert "新增 created 2" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("device_id,kind,place_code\nSD-0010,smoke,NOPE\n", encoding="utf-8")
    done = jiefen(env, "devices", "import", str(bad))
    assert done.exit_code == 1
    assert "第 2 行 楼栋编码：没有编码为 NOPE 的地点" in done.stderr
    listed = jiefen(env, "devices", "list", "--json")
    assert [d["device_id"] for d in json.loads(listed.stdout)] == ["EL-0001",
                                                                               "SD-0009"]


def test_alarms_keep_the_iot_interface_alive_and_quarantine_counts_as_a_failure(
        client, services, clock, iot):
    from workflows.channels.catalogue import save_interface
    from workflows.models import Interface

    save_interface(services.new_uow(), SYSTEM, code="iot", name="物联网感知设备", kind="device",
                   direction="in", owner_unit_id=None, datasets=[], status="planned",
                   expected_interval_minutes=60)
    send(client, iot, alarm(clock), 201)
    clock.advance(minutes=1)
    send(client, iot, alarm(clock, device_id="XX-404"), 202)
    with services.new_uow() as uow:
        row = uow.session.scalars(select(Interface).where(Interface.code == "iot")).one()
        assert row.status == "connected"
        assert row.last_success_at < row.last_failure_at == clock.now()
        assert row.last_failure_reason == "unknown_device"


def test_the_case_page_shows_the_alarm_with_its_count(client, services, clock, iot, as_role):
    first = send(client, iot, alarm(clock), 201)
    clock.advance(minutes=2)
    send(client, iot, alarm(clock), 200)
    as_role("intake_clerk")
    page = client.get(f"/cases/{first['case_no']}").get_data(as_text=True)
    assert "SD-0001" in page and "2 次" in page and "告警中" in page
