"""The IoT device registry: which device is installed at which building.

Imported from CSV or XLSX files with the directory's conventions (headers in Chinese or English,
spreadsheet row numbers, all or nothing; ``workflows.people.directory_files``): columns
``device_id`` (设备编号), ``kind`` (类型: a code or its Chinese name) and ``place_code``
(楼栋编码: a building). Devices are matched by ``device_id``: new ones are created, existing ones
moved or re-typed, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.input_rules import text_error
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError
from workflows.models import ALARM_KIND_LABELS, AlarmKind, Device, Place, PlaceLevel, path_ids
from workflows.people.admin import require_admin
from workflows.people.directory_files import (
    Column,
    ImportRejected,
    ImportRow,
    RowProblem,
    parse_table,
)
from workflows.runtime.unit_of_work import UnitOfWork

DEVICE_ID_MAX = 64
DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
COLUMNS = (
    Column("device_id", "设备编号", ("设备ID", "设备id", "device_id", "device"), True),
    Column("kind", "类型", ("设备类型", "告警类型", "kind"), True),
    Column("place_code", "楼栋编码", ("地点编码", "标准地址编码", "place_code", "place"), True),
)
KIND_WORDS = {**{str(k): str(k) for k in AlarmKind},
              **{word: str(k) for k, word in ALARM_KIND_LABELS.items()},
              "烟感": AlarmKind.SMOKE, "燃气": AlarmKind.GAS, "门禁": AlarmKind.DOOR_FORCED,
              "水浸": AlarmKind.WATER_LEAK, "电梯": AlarmKind.ELEVATOR_TRAPPED}


@dataclass
class DeviceImport:
    """What an import did (or, with ``dry_run``, would do): device ids by outcome."""

    rows: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def column_title(key: str) -> str:
    """The Chinese header of a column key."""
    return next((c.title for c in COLUMNS if c.key == key), key)


def parse_devices(filename: str, data: bytes) -> list[ImportRow]:
    """The rows of a devices file; ``ImportRejected`` for the file as a whole."""
    return parse_table(COLUMNS, filename, data)


def import_devices(uow: UnitOfWork, actor: Actor, rows: list[ImportRow], *,
                   dry_run: bool = False) -> DeviceImport:
    """Check every row, then create or update the devices (all or nothing).

    Raises ``ImportRejected`` with each bad row's number, column and reason; only the system and
    administrators may import."""
    require_admin(actor, uow.services)
    with uow:
        places = _buildings(uow, rows)
        known = {d.device_id: d for d in uow.session.scalars(select(Device).where(
            Device.device_id.in_([r.get("device_id") for r in rows])))}
        problems = _problems(rows, places)
        if problems:
            raise ImportRejected(problems)
        out = DeviceImport(rows=len(rows))
        now = uow.clock.now()
        for row in rows:
            device_id, kind = row.get("device_id"), KIND_WORDS[row.get("kind").lower()]
            place = places[row.get("place_code")]
            device = known.get(device_id)
            if device is None:
                uow.session.add(Device(device_id=device_id, kind=kind, place_id=place.id,
                                       active=True, created_at=now, updated_at=now))
                out.created.append(device_id)
            elif (device.kind, device.place_id, device.active) != (kind, place.id, True):
                device.kind, device.place_id, device.active = kind, place.id, True
                device.updated_at = now
                out.updated.append(device_id)
            else:
                out.unchanged.append(device_id)
        if dry_run:
            return out          # leaving the unit of work without a commit rolls it back
        uow.session.flush()
        uow.audit.record(AuditAction.DEVICES_IMPORTED, actor, object_type="iot_device",
                         rows=out.rows, created=len(out.created), updated=len(out.updated),
                         unchanged=len(out.unchanged))
        uow.commit()
        return out


def _buildings(uow: UnitOfWork, rows: list[ImportRow]) -> dict[str, Place]:
    codes = {row.get("place_code") for row in rows if row.get("place_code")}
    if not codes:
        return {}
    return {p.code: p for p in uow.session.scalars(select(Place).where(Place.code.in_(codes)))}


def _problems(rows: list[ImportRow], places: dict[str, Place]) -> list[RowProblem]:
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for row in rows:
        def bad(column: str, error: str, **params: object) -> None:
            problems.append(RowProblem(row.number, column, FieldError(error, params)))  # noqa: B023

        device_id, kind, code = row.get("device_id"), row.get("kind"), row.get("place_code")
        if not device_id:
            bad("device_id", FieldCode.REQUIRED)
        elif (error := text_error(device_id, max_length=DEVICE_ID_MAX)) is not None:
            problems.append(RowProblem(row.number, "device_id", error))
        elif not DEVICE_ID.fullmatch(device_id):
            bad("device_id", ErrorCode.BAD_CODE)
        elif device_id in seen:
            bad("device_id", ErrorCode.DUPLICATE_IN_FILE, value=device_id, row=seen[device_id])
        else:
            seen[device_id] = row.number
        if not kind:
            bad("kind", FieldCode.REQUIRED)
        elif kind.lower() not in KIND_WORDS:
            bad("kind", ErrorCode.UNKNOWN_ALARM_KIND, kind=kind)
        place = places.get(code)
        if not code:
            bad("place_code", FieldCode.REQUIRED)
        elif place is None:
            bad("place_code", ErrorCode.UNKNOWN_PLACE, code=code)
        elif place.level != PlaceLevel.BUILDING:
            bad("place_code", ErrorCode.PLACE_NOT_BUILDING, code=code)
    return problems


def list_devices(uow: UnitOfWork) -> list[dict]:
    """Every device with its building's code and names from the district down, by device id
    (two queries: the devices with their buildings, then every place named on their paths)."""
    with uow:
        rows = uow.session.execute(select(Device, Place).join(Place, Place.id == Device.place_id)
                                   .order_by(Device.device_id)).all()
        ids = {i for _, place in rows for i in path_ids(place.path)}
        found = uow.session.execute(select(Place.id, Place.name).where(
            Place.id.in_(ids), Place.level != PlaceLevel.CITY)).all() if ids else []
        names = {row.id: row.name for row in found}
        return [{"device_id": d.device_id, "kind": d.kind, "place_code": p.code,
                 "names": [names[i] for i in path_ids(p.path) if i in names],
                 "active": d.active} for d, p in rows]
