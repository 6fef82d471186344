"""Alarms from devices and their gateways (``POST /api/v1/alarms``, channel ``iot``).

* a device must be registered (``workflows.alarms.devices``); a message from an unknown or
  retired device is quarantined (``alarm_quarantine``) for the intake clerks, nothing is lost;
* an alarm opens an urgent case at the device's building (channel ``iot``, one counted report
  there, so hotspot warnings see it like any case), or joins the episode of the same device and
  kind when it comes within ``Settings.alarm_window_minutes`` of that episode's last alarm and
  its case is not closed: a sensor flapping fifty times in an hour is one case with a count;
* ``cleared`` marks the episode cleared (recorded on the case); a later alarm within the window
  re-opens the same episode;
* the same message delivered twice (device, kind, state, time) is stored and counted once.

The device row is locked while a message is handled, so two messages of one device are
counted one after the other and never open two cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.input_rules import text_error
from workflows.access.policy import Denied, Permission, denials_audited, require
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.channels.health import record_failure, record_interface_event
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput
from workflows.early_warning.hotspots import record_report
from workflows.intake.location import Located
from workflows.intake.register import IntakeRequest, open_case
from workflows.models import (
    ALARM_KIND_LABELS,
    SEVERITY_RANK,
    AlarmKind,
    AlarmMessage,
    AlarmSeverity,
    AlarmState,
    Case,
    CaseStatus,
    Category,
    Channel,
    Device,
    DeviceAlarm,
    Place,
    QuarantinedAlarm,
    QuarantineReason,
    Submission,
    SubmissionLink,
    Urgency,
)
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

INTERFACE = "iot"        # the interface catalogue's code of this channel
BODY_KEYS = ("device_id", "kind", "severity", "occurred_at", "state")
DEVICE_ID_MAX = 64
# the dispute category an alarm's case is routed as (routing.dmn speaks categories)
CATEGORY_OF_KIND = {
    AlarmKind.SMOKE: Category.PROPERTY_COLLECTIVE, AlarmKind.GAS: Category.PROPERTY_COLLECTIVE,
    AlarmKind.ELEVATOR_TRAPPED: Category.PROPERTY_COLLECTIVE,
    AlarmKind.WATER_LEAK: Category.NEIGHBOUR, AlarmKind.DOOR_FORCED: Category.PUBLIC_ORDER,
}
SEVERITY_WORDS = {AlarmSeverity.LOW: "低", AlarmSeverity.MEDIUM: "中", AlarmSeverity.HIGH: "高",
                  AlarmSeverity.CRITICAL: "危急"}


@dataclass(frozen=True)
class AlarmInput:
    """One checked alarm message."""

    device_id: str
    kind: str
    severity: str
    occurred_at: datetime
    state: str


@dataclass(frozen=True)
class AlarmAnswer:
    """What the endpoint answers: 201 a new case, 200 joined or cleared, 202 quarantined."""

    status: int
    body: dict[str, Any]


def parse_alarm(body: Any, now: datetime, services: Services) -> AlarmInput:
    """An ``AlarmInput`` from the JSON body; every problem is a field error (422)."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": FieldError(ErrorCode.BODY_NOT_OBJECT)})
    errors = {key: FieldError(FieldCode.UNKNOWN_FIELD) for key in body if key not in BODY_KEYS}
    for key in BODY_KEYS:
        value = body.get(key)
        if value is None or value == "":
            errors[key] = FieldError(FieldCode.REQUIRED)
        elif not isinstance(value, str):
            errors[key] = FieldError(FieldCode.NOT_TEXT)
        elif (error := text_error(value, max_length=DEVICE_ID_MAX)) is not None:
            errors[key] = error
    options = {"kind": AlarmKind, "severity": AlarmSeverity, "state": AlarmState}
    for key, allowed in options.items():
        if key not in errors and body[key] not in set(allowed):
            errors[key] = FieldError(FieldCode.NOT_AN_OPTION)
    occurred = None
    if "occurred_at" not in errors:
        occurred = _moment(body["occurred_at"], now, services, errors)
    if errors:
        raise InvalidInput(errors)
    assert occurred is not None
    return AlarmInput(body["device_id"].strip(), body["kind"], body["severity"], occurred,
                      body["state"])


def _moment(text: str, now: datetime, services: Services,
            errors: dict[str, FieldError]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors["occurred_at"] = FieldError(ErrorCode.NOT_ISO_TIME)
        return None
    if moment.tzinfo is None:
        errors["occurred_at"] = FieldError(ErrorCode.TIME_WITHOUT_ZONE)
        return None
    settings = services.settings
    if moment > now + timedelta(minutes=settings.received_skew_minutes):
        errors["occurred_at"] = FieldError(ErrorCode.RECEIVED_IN_FUTURE,
                                           {"minutes": settings.received_skew_minutes})
    elif moment < now - timedelta(days=settings.received_max_days):
        errors["occurred_at"] = FieldError(ErrorCode.OCCURRED_TOO_OLD,
                                           {"days": settings.received_max_days})
    return moment


def receive_alarm(services: Services, actor: Actor, *, token_id: int | None,
                  body: Any) -> AlarmAnswer:
    """Handle one alarm message from an ``iot`` token (403 for any other channel, before the
    body is read)."""
    with denials_audited(services, actor, object_type="alarm"):
        if actor.channel != Channel.IOT:
            raise Denied(ErrorCode.IOT_CHANNEL_ONLY, "alarms.channel", object_type="alarm")
        require(actor, Permission.REGISTER_CASE)
    uow = services.new_uow()
    try:
        with uow:
            alarm = parse_alarm(body, uow.clock.now(), services)
            device = uow.session.scalars(select(Device).where(
                Device.device_id == alarm.device_id).with_for_update()).first()
            if device is None or not device.active:
                answer = _quarantine(uow, actor, alarm, token_id, device)
            else:
                answer = _record(uow, actor, device, alarm)
            # the interface page shows the channel alive; a quarantined message is a failure
            quarantined = answer.status == 202
            record_interface_event(uow, INTERFACE, not quarantined,
                                   answer.body.get("reason") if quarantined else None)
            uow.commit()
            return answer
    except InvalidInput:
        record_failure(services, INTERFACE, "invalid_input")
        raise


def _quarantine(uow: UnitOfWork, actor: Actor, alarm: AlarmInput, token_id: int | None,
                device: Device | None) -> AlarmAnswer:
    reason = QuarantineReason.UNKNOWN_DEVICE if device is None else QuarantineReason.INACTIVE_DEVICE
    row = QuarantinedAlarm(device_id=alarm.device_id, kind=alarm.kind, state=alarm.state,
                           severity=alarm.severity, occurred_at=alarm.occurred_at,
                           received_at=uow.clock.now(), reason=reason, api_token_id=token_id)
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(AuditAction.ALARM_QUARANTINED, actor, object_type="alarm_quarantine",
                     object_id=row.id, device_id=alarm.device_id, kind=alarm.kind,
                     state=alarm.state, reason=str(reason))
    return AlarmAnswer(202, {"quarantined": True, "reason": str(reason)})


def _record(uow: UnitOfWork, actor: Actor, device: Device, alarm: AlarmInput) -> AlarmAnswer:
    session = uow.session
    repeat = session.scalars(select(AlarmMessage).where(
        AlarmMessage.device_pk == device.id, AlarmMessage.kind == alarm.kind,
        AlarmMessage.state == alarm.state, AlarmMessage.occurred_at == alarm.occurred_at)).first()
    if repeat is not None:
        episode = session.get(DeviceAlarm, repeat.alarm_id) if repeat.alarm_id else None
        return AlarmAnswer(200, _body(session, episode))
    episode = _open_episode(uow, device, alarm)
    status = 200
    if alarm.state == AlarmState.CLEARED:
        if episode is not None and episode.state == AlarmState.ALARM:
            episode.state, episode.cleared_at = AlarmState.CLEARED, alarm.occurred_at
            uow.audit.record(AuditAction.ALARM_CLEARED, actor, case=episode.case_id,
                             object_type="device_alarm", object_id=episode.id,
                             device_id=device.device_id, kind=alarm.kind,
                             occurred_at=alarm.occurred_at.isoformat(), count=episode.count)
    elif episode is None:
        episode = _new_case(uow, actor, device, alarm)
        status = 201
    else:
        episode.count += 1
        episode.state, episode.cleared_at = AlarmState.ALARM, None
        episode.first_at = min(episode.first_at, alarm.occurred_at)
        episode.last_at = max(episode.last_at, alarm.occurred_at)
        if SEVERITY_RANK[AlarmSeverity(alarm.severity)] > SEVERITY_RANK[AlarmSeverity(episode.severity)]:
            episode.severity = alarm.severity
        uow.audit.record(AuditAction.ALARM_RECEIVED, actor, case=episode.case_id,
                         object_type="device_alarm", object_id=episode.id,
                         device_id=device.device_id, kind=alarm.kind, severity=alarm.severity,
                         occurred_at=alarm.occurred_at.isoformat(), count=episode.count)
    session.add(AlarmMessage(device_pk=device.id, alarm_id=episode.id if episode else None,
                             kind=alarm.kind, state=alarm.state, severity=alarm.severity,
                             occurred_at=alarm.occurred_at, received_at=uow.clock.now()))
    session.flush()
    return AlarmAnswer(status, _body(session, episode))


def _open_episode(uow: UnitOfWork, device: Device, alarm: AlarmInput) -> DeviceAlarm | None:
    """The latest episode of this device and kind if the message falls within the window around
    it and its case is still open (for a clear: the latest episode whatever the window)."""
    window = timedelta(minutes=uow.services.settings.alarm_window_minutes)
    row = uow.session.execute(
        select(DeviceAlarm, Case.status).join(Case, Case.id == DeviceAlarm.case_id)
        .where(DeviceAlarm.device_pk == device.id, DeviceAlarm.kind == alarm.kind)
        .order_by(DeviceAlarm.last_at.desc(), DeviceAlarm.id.desc()).limit(1)).first()
    if row is None:
        return None
    episode, status = row
    if alarm.state == AlarmState.CLEARED:
        return episode
    if status == CaseStatus.CLOSED:
        return None
    if episode.first_at - window <= alarm.occurred_at <= episode.last_at + window:
        return episode
    return None


def _new_case(uow: UnitOfWork, actor: Actor, device: Device, alarm: AlarmInput) -> DeviceAlarm:
    """An urgent case at the device's building, counted there as one report."""
    place = uow.session.get(Place, device.place_id)
    assert place is not None
    what = ALARM_KIND_LABELS[alarm.kind]
    local = alarm.occurred_at.isoformat(timespec="minutes")
    request = IntakeRequest(
        channel=Channel.IOT, category=CATEGORY_OF_KIND[AlarmKind(alarm.kind)],
        description=f"设备 {device.device_id} 于 {local} 报告{what}（严重程度："
                    f"{SEVERITY_WORDS[AlarmSeverity(alarm.severity)]}），请核实现场情况。",
        parties=[], summary=f"{what}（设备 {device.device_id}）", urgency=Urgency.URGENT,
        channel_ref=device.device_id, received_at=alarm.occurred_at, place_id=place.id)
    case = open_case(uow, actor, request, place=Located(place.id, place.path, None, "code"))
    submission = Submission(case_id=case.id, channel=Channel.IOT, channel_ref=device.device_id,
                            received_at=alarm.occurred_at, party_id=None,
                            summary=request.summary[:200], linked_as=SubmissionLink.NEW)
    uow.session.add(submission)
    uow.session.flush()
    record_report(uow, actor, case, submission)
    episode = DeviceAlarm(device_pk=device.id, kind=alarm.kind, case_id=case.id,
                          state=AlarmState.ALARM, severity=alarm.severity, count=1,
                          first_at=alarm.occurred_at, last_at=alarm.occurred_at)
    uow.session.add(episode)
    uow.session.flush()
    uow.audit.record(AuditAction.ALARM_RECEIVED, actor, case=case, object_type="device_alarm",
                     object_id=episode.id, device_id=device.device_id, kind=alarm.kind,
                     severity=alarm.severity, occurred_at=alarm.occurred_at.isoformat(), count=1)
    return episode


def _body(session: Any, episode: DeviceAlarm | None) -> dict[str, Any]:
    if episode is None:
        return {"case_no": None, "alarm_count": 0, "state": None}
    case_no = session.scalar(select(Case.case_no).where(Case.id == episode.case_id))
    return {"case_no": case_no, "alarm_count": episode.count, "state": episode.state}


@dataclass(frozen=True)
class EpisodeRow:
    """An alarm episode as the case page shows it."""

    device_id: str
    kind: str
    severity: str
    count: int
    state: str
    first_at: datetime
    last_at: datetime
    cleared_at: datetime | None


def case_alarms(uow: UnitOfWork, actor: Actor, case_no: str) -> list[EpisodeRow]:
    """The device alarm episodes of a case the actor may see (one query after the policy)."""
    with denials_audited(uow.services, actor, object_type="device_alarm"), uow:
        case = load_case(uow, actor, case_no)
        rows = uow.session.execute(
            select(DeviceAlarm, Device.device_id).join(Device, Device.id == DeviceAlarm.device_pk)
            .where(DeviceAlarm.case_id == case.id).order_by(DeviceAlarm.first_at))
        return [EpisodeRow(device_id, e.kind, e.severity, e.count, e.state, e.first_at,
                           e.last_at, e.cleared_at) for e, device_id in rows]
