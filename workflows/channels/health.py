"""Is an interface alive: each message through it is recorded (ok or not, with the reason), the
catalogue row keeps the last success and failure, and the health page counts the messages.

``record_interface_event`` is what every channel calls, inside the unit of work of the message it
handled (a failure whose work is rolled back is recorded in a unit of work of its own).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from engine.models import OutboxMessage
from workflows.access.policy import Denied, deny, visible_cases
from workflows.audit.log import AuditAction
from workflows.core.actors import SCHEDULER, Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.models import Department, Interface, InterfaceMessage, InterfaceStatus, RoleCode
from workflows.notify.delivery import backlog, notify_department, notify_role, retry_dead
from workflows.rollups.backlog import backlog as rollup_backlog
from workflows.runtime.unit_of_work import UnitOfWork

MAX_REASON = 200
SUCCESS_EVERY = timedelta(seconds=30)
# the failure reasons the channels here record (words on the pages: web/labels.py); a channel
# may record others (they are shown as they are)
FAILURE_REASONS = (
    "signature:missing_signature", "signature:bad_timestamp", "signature:stale_timestamp",
    "signature:bad_signature", "signature:no_secret", "quarantined:unknown_category",
    "quarantined:missing_field", "quarantined:bad_received_at", "quarantined:address_candidates",
    "quarantined:invalid_field", "unreachable", "invalid_input")


def interface_by_code(session: Session, code: str) -> Interface | None:
    return session.scalars(select(Interface).where(Interface.code == code)).first()


def record_interface_event(uow: UnitOfWork, interface_code: str, ok: bool,
                           reason: str | None = None) -> None:
    """Note one message through ``interface_code`` (ok or failed with ``reason``, a short code
    or sentence without personal data). An unknown code is ignored: the catalogue decides which
    interfaces are watched. A success also marks a planned interface as connected."""
    row = interface_by_code(uow.session, interface_code)
    if row is None:
        return
    now = uow.clock.now()
    text = (reason or "")[:MAX_REASON] or None
    uow.session.add(InterfaceMessage(interface_id=row.id, at=now, ok=ok, reason=text))
    if not ok:
        row.last_failure_at, row.last_failure_reason = now, text
        return
    if row.last_success_at is not None and row.status != InterfaceStatus.PLANNED \
            and now - row.last_success_at < SUCCESS_EVERY:
        return
    # a busy channel would make its catalogue row a lock every message queues on: the last
    # success is written at most every SUCCESS_EVERY, and only by a transaction that finds it
    # older (the others skip the row without waiting)
    uow.session.execute(
        update(Interface).where(Interface.id == row.id, or_(
            Interface.last_success_at.is_(None),
            Interface.last_success_at < now - SUCCESS_EVERY,
            Interface.status == InterfaceStatus.PLANNED))
        .values(last_success_at=now, status=case(
            (Interface.status == InterfaceStatus.PLANNED, InterfaceStatus.CONNECTED),
            else_=Interface.status)).execution_options(synchronize_session=False))


def record_failure(services, interface_code: str, reason: str) -> None:
    """A failure noted in a unit of work of its own (the message's own work was rolled back)."""
    with services.new_uow() as uow:
        record_interface_event(uow, interface_code, False, reason)
        uow.commit()


# -- silence ----------------------------------------------------------------------------------------
def check_silence(services, now=None) -> int:
    """Warn the owner unit and the centre's supervisors about each connected interface that has
    had no message (ok or failed) for longer than its expected interval; once per silence (a new
    message ends it). Returns the number of warnings raised. Runs as a scheduler job every
    JIEFEN_SILENCE_CHECK_MINUTES with the injectable clock."""
    now = now or services.clock.now()
    raised = 0
    with services.new_uow() as uow:
        rows = uow.session.scalars(select(Interface).where(
            Interface.status == InterfaceStatus.CONNECTED,
            Interface.expected_interval_minutes.is_not(None)).with_for_update()).all()
        for row in rows:
            last = max((t for t in (row.last_success_at, row.last_failure_at) if t),
                       default=None)
            if last is None or now - last <= timedelta(minutes=row.expected_interval_minutes or 0):
                continue
            if row.silence_warned_at is not None and row.silence_warned_at >= last:
                continue   # this silence was told already
            _warn(uow, row, last, now)
            raised += 1
        uow.commit()
    return raised


def _warn(uow: UnitOfWork, row: Interface, last: datetime, now: datetime) -> None:
    minutes = int((now - last).total_seconds() // 60)
    params = {"name": row.name, "code": row.code, "minutes": minutes,
              "last": last.astimezone(ZoneInfo(uow.services.settings.timezone))
              .strftime("%Y-%m-%d %H:%M")}
    key = f"interface:{row.id}:{last.isoformat()}"
    if row.owner_unit_id is not None:
        notify_department(uow, None, row.owner_unit_id, template="interface_silent",
                          params=params, key=key)
    notify_role(uow, None, role="supervisor", template="interface_silent", params=params, key=key)
    row.silence_warned_at = now
    uow.audit.record(AuditAction.INTERFACE_SILENT, SCHEDULER, object_type="interface",
                     object_id=row.code, last_message_at=last.isoformat(), minutes=minutes,
                     expected_minutes=row.expected_interval_minutes)


# -- the health page ----------------------------------------------------------------------------
PAGE_ROLES = (RoleCode.SUPERVISOR, RoleCode.ADMIN)
OUTBOX_CHANNELS = ("feed", "hotline_12345")
DEAD_SHOWN = 50


def require_page(actor: Actor, services) -> None:
    """Supervisors and administrators (audited denial for anyone else)."""
    if actor.type == "system" or actor.has(*PAGE_ROLES):
        return
    error = Denied(ErrorCode.NOT_PERMITTED, "interfaces.role", object_type="interface")
    deny(services, actor, error)
    raise error


def health_page(uow: UnitOfWork, actor: Actor) -> dict:
    """Per interface: last success, last failure and its reason, messages in the last hour and
    day (ok and failed), queue depth and oldest undelivered message, silence; the dead letters;
    K-12; the cockpit's rollup queue and its parked cases (those in the reader's scope named). A
    handful of grouped queries whatever the traffic. A plain read session, not the unit of work's
    transaction: on SQLite that one takes the write lock, which a cockpit rebuild holds for its
    whole run."""
    require_page(actor, uow.services)
    with uow.services.session_factory() as session:
        now = uow.clock.now()
        rows = catalogue_rows(session)
        counts = _counts(session, now)
        queues = _queues(session, rows)
        for row in rows:
            row.update(counts.get(row["id"], {"hour_ok": 0, "hour_failed": 0, "day_ok": 0,
                                              "day_failed": 0}))
            row.update(queues.get(row["id"], {"queued": 0, "oldest": None}))
            last = max((t for t in (row["last_success_at"], row["last_failure_at"]) if t),
                       default=None)
            interval = row["expected_interval_minutes"]
            row["silent"] = bool(row["status"] == InterfaceStatus.CONNECTED and interval
                                 and last is not None
                                 and now - last > timedelta(minutes=interval))
        dead = session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "dead", OutboxMessage.channel.in_(OUTBOX_CHANNELS))
            .order_by(OutboxMessage.id.desc()).limit(DEAD_SHOWN)).all()
        names: dict[tuple[str, str | None], str] = {
            ("feed", str(r["id"])): r["name"] for r in rows if r["kind"] == "feed"}
        names |= {(r["code"], None): r["name"] for r in rows if r["code"] in OUTBOX_CHANNELS}
        return {"interfaces": rows, "now": now,
                "dead": [{"id": m.id, "template": m.template,
                          "interface": names.get((m.channel, m.recipient_id if m.channel == "feed"
                                                  else None), m.channel),
                          "attempts": m.attempts, "created_at": m.created_at,
                          "last_error": (m.last_error or "")[:200]} for m in dead],
                "sharing_rate": sharing_rate(session),
                "backlog": backlog(session, now),
                # the counts are the whole queue's; case numbers only of cases the reader sees
                "rollups": rollup_backlog(session, visible_cases(actor))}


def catalogue_rows(session: Session) -> list[dict]:
    rows = session.execute(select(Interface, Department.name, Department.code).outerjoin(
        Department, Department.id == Interface.owner_unit_id).order_by(Interface.code)).all()
    return [{"id": r.id, "code": r.code, "name": r.name, "kind": r.kind,
             "direction": r.direction, "owner_unit": unit, "owner_unit_code": unit_code,
             "datasets": list(r.datasets or []),
             "status": r.status, "endpoint_url": r.endpoint_url,
             "event_kinds": list(r.event_kinds or []), "has_secret": bool(r.secret_enc),
             "expected_interval_minutes": r.expected_interval_minutes,
             "last_success_at": r.last_success_at, "last_failure_at": r.last_failure_at,
             "last_failure_reason": r.last_failure_reason,
             "silence_warned_at": r.silence_warned_at} for r, unit, unit_code in rows]


def sharing_rate(session: Session) -> float | None:
    """K-12 (connected ÷ catalogue datasets); see catalogue.data_sharing_rate."""
    listed: set[str] = set()
    connected: set[str] = set()
    for datasets, status in session.execute(select(Interface.datasets, Interface.status).where(
            Interface.status != InterfaceStatus.DISABLED)):
        names = {str(d) for d in datasets or []}
        listed |= names
        if status == InterfaceStatus.CONNECTED:
            connected |= names
    return len(connected) / len(listed) if listed else None


def _counts(session: Session, now: datetime) -> dict[int, dict]:
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    rows = session.execute(select(
        InterfaceMessage.interface_id,
        func.sum(case((and_(InterfaceMessage.at >= hour, InterfaceMessage.ok), 1), else_=0)),
        func.sum(case((and_(InterfaceMessage.at >= hour, ~InterfaceMessage.ok), 1), else_=0)),
        func.sum(case((InterfaceMessage.ok, 1), else_=0)),
        func.sum(case((~InterfaceMessage.ok, 1), else_=0)))
        .where(InterfaceMessage.at >= day).group_by(InterfaceMessage.interface_id)).all()
    return {i: {"hour_ok": int(a or 0), "hour_failed": int(b or 0), "day_ok": int(c or 0),
                "day_failed": int(d or 0)} for i, a, b, c, d in rows}


def _queues(session: Session, rows: list[dict]) -> dict[int, dict]:
    """Pending outbox messages per interface: a feed's by its id, a channel's by its code."""
    out: dict[int, dict] = {}
    pending = OutboxMessage.status == "pending"
    feeds = {str(r["id"]): r["id"] for r in rows if r["kind"] == "feed"}
    for rid, count, oldest in session.execute(select(
            OutboxMessage.recipient_id, func.count(), func.min(OutboxMessage.created_at))
            .where(pending, OutboxMessage.channel == "feed",
                   OutboxMessage.recipient_type == "interface")
            .group_by(OutboxMessage.recipient_id)):
        if rid in feeds:
            out[feeds[rid]] = {"queued": count, "oldest": oldest}
    codes = {r["code"]: r["id"] for r in rows if r["code"] in OUTBOX_CHANNELS}
    for channel, count, oldest in session.execute(select(
            OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))
            .where(pending, OutboxMessage.channel.in_(list(codes)))
            .group_by(OutboxMessage.channel)):
        out[codes[channel]] = {"queued": count, "oldest": oldest}
    return out


def retry_dead_letter(uow: UnitOfWork, actor: Actor, message_id: int) -> None:
    """Send a dead feed message or callback again (supervisors, admins; audited)."""
    require_page(actor, uow.services)
    with uow:
        row = uow.session.get(OutboxMessage, message_id)
        if row is None or row.channel not in OUTBOX_CHANNELS:
            raise NotFound(ErrorCode.NOT_FOUND, outbox_message=message_id)
    retry_dead(uow.services.new_uow(), actor, message_id)
