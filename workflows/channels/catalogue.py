"""The interface catalogue: every channel in and every feed out, with its owner unit, direction,
datasets and status, and the data-sharing rate (K-12) computed from it.

K-12 = connected catalogue datasets ÷ catalogue datasets: a dataset is counted once however many
interfaces carry it, and it is connected when at least one interface carrying it is connected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.input_rules import text_error
from workflows.audit.log import AuditAction
from workflows.channels.health import interface_by_code, sharing_rate
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import (
    Department,
    Direction,
    Interface,
    InterfaceKind,
    InterfaceStatus,
)
from workflows.people.admin import require_admin
from workflows.runtime.unit_of_work import UnitOfWork

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_DATASETS = 20


def data_sharing_rate(session: Session) -> float | None:
    """K-12 as a fraction (None when the catalogue names no dataset); the cockpit calls it."""
    return sharing_rate(session)


def catalogue(session: Session) -> list[dict]:
    """Every interface with its owner unit's name (one query)."""
    rows = session.execute(
        select(Interface, Department.name).outerjoin(
            Department, Department.id == Interface.owner_unit_id).order_by(Interface.code)).all()
    return [{"id": row.id, "code": row.code, "name": row.name, "kind": row.kind,
             "direction": row.direction, "owner_unit": unit, "owner_unit_id": row.owner_unit_id,
             "datasets": list(row.datasets or []), "status": row.status,
             "endpoint_url": row.endpoint_url, "event_kinds": list(row.event_kinds or []),
             "expected_interval_minutes": row.expected_interval_minutes,
             "has_secret": bool(row.secret_enc)} for row, unit in rows]


def unit_id(uow: UnitOfWork, code: str) -> int:
    """The id of the unit with this code (InvalidInput on the owner field otherwise)."""
    with uow:
        found = uow.session.scalar(select(Department.id).where(Department.code == code))
    if found is None:
        raise InvalidInput({"owner_unit": FieldError(ErrorCode.UNKNOWN_UNIT, {"code": code})})
    return found


def endpoint_error(url: str) -> FieldError | None:
    """https only (plain http to the machine itself is allowed for local gateways and tests)."""
    if (error := text_error(url, max_length=500)) is not None:
        return error
    try:
        parts = urlsplit(url)
    except ValueError:
        return FieldError(ErrorCode.BAD_ENDPOINT)
    if not parts.hostname or parts.username or parts.password:
        return FieldError(ErrorCode.BAD_ENDPOINT)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return None
    return FieldError(ErrorCode.BAD_ENDPOINT)


def set_endpoint(uow: UnitOfWork, actor: Actor, code: str, url: str) -> None:
    """Where an interface's outgoing messages go (admins, the CLI). Audited."""
    require_admin(actor, uow.services)
    if (error := endpoint_error(url)) is not None:
        raise InvalidInput({"endpoint_url": error})
    with uow:
        row = interface_by_code(uow.session, code)
        if row is None:
            raise NotFound(ErrorCode.UNKNOWN_CHANNEL, channel=code)
        before, row.endpoint_url = row.endpoint_url, url
        uow.audit.record(AuditAction.INTERFACE_SAVED, actor, object_type="interface",
                         object_id=row.code, change="endpoint", before=before, after=url)
        uow.commit()


def save_interface(uow: UnitOfWork, actor: Actor, *, code: str, name: str, kind: str,
                   direction: str, owner_unit_id: int | None, datasets: list[str], status: str,
                   expected_interval_minutes: int | None) -> int:
    """Create or edit a catalogue row (admins): a planned data link with a department, or the
    settings of a channel. Audited; returns the row id."""
    require_admin(actor, uow.services)
    code, name = (code or "").strip(), (name or "").strip()
    clean = list(dict.fromkeys(d.strip() for d in datasets if d.strip()))
    errors = _interface_errors(code, name, clean, expected_interval_minutes)
    errors |= {key: FieldError(FieldCode.NOT_AN_OPTION) for key, value, options in (
        ("kind", kind, InterfaceKind), ("direction", direction, Direction),
        ("status", status, InterfaceStatus)) if value not in {str(o) for o in options}}
    if errors:
        raise InvalidInput(errors)
    with uow:
        if owner_unit_id is not None and uow.session.get(Department, owner_unit_id) is None:
            raise InvalidInput({"owner_unit_id": FieldError(ErrorCode.UNIT_NOT_FOUND,
                                                            {"unit": owner_unit_id})})
        row = interface_by_code(uow.session, code)
        created = row is None
        if row is None:
            row = Interface(code=code, created_at=uow.clock.now(), event_kinds=[])
            uow.session.add(row)
        row.name, row.kind, row.direction, row.status = name, kind, direction, status
        row.owner_unit_id, row.datasets = owner_unit_id, clean
        row.expected_interval_minutes = expected_interval_minutes
        uow.session.flush()
        uow.audit.record(AuditAction.INTERFACE_SAVED, actor, object_type="interface",
                         object_id=row.code, change="created" if created else "edited",
                         kind=kind, direction=direction, status=status, datasets=clean,
                         owner_unit_id=owner_unit_id,
                         expected_interval_minutes=expected_interval_minutes)
        uow.commit()
        return row.id


def _interface_errors(code: str, name: str, datasets: list[str],
                      interval: int | None) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    if not code or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
        errors["code"] = FieldError(ErrorCode.BAD_CODE)
    elif len(code) > 64:
        errors["code"] = FieldError(FieldCode.TOO_LONG, {"limit": 64})
    if not name:
        errors["name"] = FieldError(FieldCode.REQUIRED)
    elif (error := text_error(name, max_length=100)) is not None:
        errors["name"] = error
    if len(datasets) > MAX_DATASETS:
        errors["datasets"] = FieldError(FieldCode.TOO_LONG, {"limit": MAX_DATASETS})
    elif any(text_error(d, max_length=50) is not None for d in datasets):
        errors["datasets"] = FieldError(FieldCode.TOO_LONG, {"limit": 50})
    if interval is not None and not 1 <= interval <= 100_000:
        errors["expected_interval_minutes"] = FieldError(FieldCode.TOO_LARGE, {"limit": 100_000})
    return errors
