"""Notifications: enqueue outbox rows in the caller's transaction; deliver them with retries.

Delivery: pending rows with ``next_attempt_at <= now`` are claimed
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and leased for a few minutes, then sent outside any
transaction, then marked sent. A crash between sending and marking re-sends after the lease with the
same idempotency key (at-least-once). Rows for one recipient go out in id order: a failing row holds
back the later rows to the same target. Failure: attempts + 1, back-off 1 min x 2^n capped at 1 h;
after JIEFEN_OUTBOX_MAX_ATTEMPTS the row is ``dead`` and ``outbox_failed`` is audited.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select, tuple_, update
from sqlalchemy.orm import Session

from engine.crypto import field_aad
from engine.models import OutboxMessage
from workflows.audit.log import AuditAction
from workflows.core.actors import SCHEDULER, Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.core.settings import Settings
from workflows.models import Case, Party
from workflows.notify.channels import (
    DeliveryFailed,
    PermanentFailure,
    RenderedMessage,
    default_channels,
)
from workflows.notify.templates import TEMPLATES

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services
    from workflows.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
HELD_BACK = timedelta(minutes=1)     # behind an earlier message to the same recipient
THROTTLED = timedelta(seconds=1)     # over its channel's rate limit
MAX_BACKOFF = timedelta(hours=1)
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


# -- enqueue (inside the caller's unit of work) -------------------------------------------------
def channel_for_party(settings: Settings, preference: str | None) -> str | None:
    """The channel a citizen gets: their preference when enabled, else the file channel."""
    enabled = set(settings.notify_channels)
    if preference == "none":
        return None
    if preference == "phone":
        return "phone"  # a call task in the department inbox needs no external service
    if preference in ("sms", "email") and preference in enabled:
        return preference
    return "file"


def notify_party(uow: UnitOfWork, case: Case | int | None, party: Party, *, template: str,
                 params: dict, key: str) -> bool:
    """Queue a message to a citizen by their preferred channel (False if they want none)."""
    channel = channel_for_party(uow.services.settings, getattr(party, "contact_preference", None))
    if channel is None:
        return False
    return _add(uow, case, channel, "party", party.id, template, params, key)


def notify_department(uow: UnitOfWork, case: Case | int | None, department_id: int | None, *,
                      template: str, params: dict, key: str) -> bool:
    """Queue a notice to a department (liaison and head); staff notices use the file channel."""
    return _add(uow, case, "file", "department", department_id, template, params, key)


def notify_user(uow: UnitOfWork, case: Case | int | None, user_id: int, *, template: str,
                params: dict, key: str) -> bool:
    """Queue a notice to one user's inbox (an invited expert, a case's mediator)."""
    return _add(uow, case, "file", "user", user_id, template, params, key)


def notify_role(uow: UnitOfWork, case: Case | int | None, *, role: str, template: str, params: dict,
                key: str) -> bool:
    """Queue a notice to everyone holding a role (supervisors, leaders)."""
    return _add(uow, case, "file", "role", role, template, params, key)


def _add(uow: UnitOfWork, case: Case | int | None, channel: str, recipient_type: str,
         recipient_id: Any, template: str, params: dict, key: str) -> bool:
    case_id = getattr(case, "id", case)
    dedupe = f"case:{case_id}:{template}:{recipient_type}:{recipient_id}:{key}"[:200]
    return uow.outbox.add(channel=channel, recipient_type=recipient_type,
                          recipient_id=recipient_id, template=template, params=dict(params),
                          dedupe_key=dedupe, case=case)


# -- rendering ------------------------------------------------------------------------------------
def render(template: str, params: dict) -> tuple[str, str]:
    """(subject, body): plain ``{name}`` substitution, no attribute access, no template engine."""
    subject, body = TEMPLATES.get(template, ("【解纷】通知", "【解纷】案件 {case_no}：" + template))

    def substitute(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), text)

    return substitute(subject), substitute(body)


# -- delivery ------------------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    """Counts of one delivery pass."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0
    throttled: int = 0
    claimed: int = 0

    def add(self, other: DeliveryReport) -> None:
        for name in ("sent", "failed", "dead", "held", "throttled", "claimed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    recipient_type: str
    recipient_id: str | None
    template: str
    params: dict
    case_id: int | None
    attempts: int

    @property
    def target(self) -> tuple[str, str, str | None]:
        return self.channel, self.recipient_type, self.recipient_id


def channels_of(services: Services) -> dict[str, Any]:
    """The configured channels (injected in tests through ``bootstrap(channels=...)``)."""
    if not services.channels:
        services.channels.update(default_channels(services.settings))
    return services.channels


def deliver_pending(services: Services, now: datetime | None = None, *, limit: int = 100,
                    limiter: RateLimiter | None = None) -> DeliveryReport:
    """Deliver one batch of due messages, in order per recipient: claimed in one short
    transaction, sent, and the sent ones marked in one more (a crash in between re-sends them
    after the lease, with the same idempotency keys)."""
    now = now or services.clock.now()
    report = DeliveryReport()
    blocked: set[tuple] = set()
    sent: list[int] = []
    grouped: dict[str, list[RenderedMessage]] = {}
    claimed = _claim(services, now, limit)
    report.claimed = len(claimed)
    for message in claimed:
        if message.target in blocked:
            _release(services, message.id, now, HELD_BACK)
            report.held += 1
            continue
        if limiter is not None and not limiter.take(message.channel):
            blocked.add(message.target)
            _release(services, message.id, now, THROTTLED)
            report.throttled += 1
            continue
        if not _deliver_one(services, message, report, sent, grouped):
            blocked.add(message.target)
    for name, messages in grouped.items():   # channels that write a batch at once
        channels_of(services)[name].send_many(messages)
    if sent:
        with services.new_uow() as uow:
            uow.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(sent))
                .values(status="sent", sent_at=uow.clock.now(),
                        attempts=func.coalesce(OutboxMessage.attempts, 0) + 1,
                        next_attempt_at=None, last_error=None))
            uow.commit()
    report.sent += len(sent)
    return report


def drain(services: Services, *, budget: float | None = None, batch: int | None = None,
          monotonic: Callable[[], float] = time.monotonic) -> DeliveryReport:
    """Deliver batch after batch until nothing is due or ``budget`` seconds are spent, within
    each channel's rate limit (JIEFEN_OUTBOX_RATE_LIMITS)."""
    settings = services.settings
    budget = settings.outbox_drain_seconds if budget is None else budget
    batch = batch or settings.outbox_batch
    limiter = RateLimiter(parse_rate_limits(settings.outbox_rate_limits), monotonic)
    deadline = monotonic() + budget
    total = DeliveryReport()
    while True:
        report = deliver_pending(services, limit=batch, limiter=limiter)
        total.add(report)
        if report.claimed < batch or monotonic() >= deadline:
            return total
        if report.sent == 0 and report.failed == 0 and report.dead == 0:
            return total    # everything due is held back or throttled: the next run goes on


def parse_rate_limits(text: str) -> dict[str, float]:
    """``"sms=20,email=5"``: messages per second per channel (absent: unlimited)."""
    limits: dict[str, float] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        name, _, rate = part.partition("=")
        try:
            value = float(rate)
        except ValueError:
            raise ValueError(f"JIEFEN_OUTBOX_RATE_LIMITS: {part!r} is not channel=rate") from None
        if value <= 0:
            raise ValueError(f"JIEFEN_OUTBOX_RATE_LIMITS: {part!r} must be above zero")
        limits[name.strip()] = value
    return limits


class RateLimiter:
    """A token bucket per channel: ``rate`` messages a second, bursts of up to one second's."""

    def __init__(self, rates: dict[str, float], monotonic: Callable[[], float] = time.monotonic):
        self.rates, self.monotonic = rates, monotonic
        self.tokens = dict(rates)
        self.at = {name: monotonic() for name in rates}

    def take(self, channel: str) -> bool:
        rate = self.rates.get(channel)
        if rate is None:
            return True
        now = self.monotonic()
        self.tokens[channel] = min(rate, self.tokens[channel] + (now - self.at[channel]) * rate)
        self.at[channel] = now
        if self.tokens[channel] < 1:
            return False
        self.tokens[channel] -= 1
        return True


def backlog(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Per channel: messages waiting, due now, the oldest waiting one, and dead letters —
    for the interface health page. One grouped query."""
    pending = OutboxMessage.status == "pending"
    rows = session.execute(select(
        OutboxMessage.channel,
        func.sum(case((pending, 1), else_=0)),
        func.sum(case((and_(pending, OutboxMessage.next_attempt_at <= now), 1), else_=0)),
        func.min(case((pending, OutboxMessage.created_at))),
        func.sum(case((OutboxMessage.status == "dead", 1), else_=0)))
        .where(OutboxMessage.status.in_(("pending", "dead")))
        .group_by(OutboxMessage.channel).order_by(OutboxMessage.channel)).all()
    return [{"channel": channel, "waiting": int(waiting or 0), "due": int(due or 0),
             "oldest": oldest, "dead": int(dead or 0)}
            for channel, waiting, due, oldest, dead in rows]


def _claim(services: Services, now: datetime, limit: int) -> list[_Claimed]:
    """Lease due rows whose recipient has no earlier pending row; SKIP LOCKED on PostgreSQL."""
    with services.new_uow() as uow:
        rows = uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)).all()
        order = _order_bounds(uow.session, rows, now)
        claimed, started = [], set()
        for row in rows:
            target = (row.channel, row.recipient_type, row.recipient_id)
            first, waiting = order.get(target, (None, None))
            if (target not in started and first != row.id) or (waiting and row.id > waiting):
                continue  # an earlier message to this recipient is waiting for its retry
            started.add(target)
            row.next_attempt_at = now + LEASE
            claimed.append(_Claimed(row.id, row.channel, row.recipient_type, row.recipient_id,
                                    row.template, dict(row.params or {}), row.case_id,
                                    row.attempts))
        uow.commit()
    return claimed


def _order_bounds(session: Session, rows: Sequence[OutboxMessage],
                  now: datetime) -> dict[tuple, tuple[int | None, int | None]]:
    """Per recipient: the lowest pending id and the lowest id still waiting for a retry (two
    grouped queries over the batch's recipients, a few hundred at a time)."""
    targets = sorted({(r.channel, r.recipient_type, r.recipient_id) for r in rows},
                     key=lambda t: tuple(str(x) for x in t))
    key = tuple_(OutboxMessage.channel, OutboxMessage.recipient_type, OutboxMessage.recipient_id)
    out: dict[tuple, tuple[int | None, int | None]] = {}
    for offset in range(0, len(targets), 300):
        part = targets[offset:offset + 300]
        base = (select(OutboxMessage.channel, OutboxMessage.recipient_type,
                       OutboxMessage.recipient_id, func.min(OutboxMessage.id))
                .where(OutboxMessage.status == "pending", key.in_(part))
                .group_by(OutboxMessage.channel, OutboxMessage.recipient_type,
                          OutboxMessage.recipient_id))
        first = {(c, t, r): m for c, t, r, m in session.execute(base)}
        waiting = {(c, t, r): m for c, t, r, m in session.execute(
            base.where(OutboxMessage.next_attempt_at > now))}
        for target in part:
            out[target] = (first.get(target), waiting.get(target))
    return out


def _release(services: Services, message_id: int, now: datetime, after: timedelta) -> None:
    """Give a held-back or throttled row its lease back."""
    with services.new_uow() as uow:
        row = uow.session.get(OutboxMessage, message_id)
        if row is not None and row.status == "pending":
            row.next_attempt_at = now + after
            uow.commit()


def channel_of(services: Services, name: str) -> Any:
    """The channel object for a row; an unconfigured SMS or e-mail channel falls back to the
    file channel (the embedded default), so an installation without a gateway loses nothing."""
    channels = channels_of(services)
    if name not in channels and name in ("sms", "email"):
        return channels.get("file")
    return channels.get(name)


def _deliver_one(services: Services, message: _Claimed, report: DeliveryReport, sent: list[int],
                 grouped: dict[str, list[RenderedMessage]]) -> bool:
    """Send one message (or queue it for its channel's batch write); False when it failed."""
    channel = channel_of(services, message.channel)
    try:
        if channel is None:
            raise PermanentFailure(f"渠道未配置：{message.channel}")
        # the file channel standing in for SMS or e-mail gets no address
        rendered = _prepare(services, message, stand_in=channel is channel_of(services, "file"))
        if getattr(channel, "in_transaction", False):
            with services.new_uow() as uow:
                channel.send(rendered, uow=uow)
                _mark_sent(uow, message.id)
                uow.commit()
            report.sent += 1
            return True
        if hasattr(channel, "send_many"):
            name = next(n for n, c in channels_of(services).items() if c is channel)
            grouped.setdefault(name, []).append(rendered)
        else:
            channel.send(rendered)  # network I/O outside any transaction
    except DeliveryFailed as exc:
        _mark_failed(services, message, exc, report)
        return False
    sent.append(message.id)
    return True


def _prepare(services: Services, message: _Claimed, *, stand_in: bool = False) -> RenderedMessage:
    subject, body = render(message.template, message.params)
    address = None if stand_in else _address(services, message)
    return RenderedMessage(message.id, message.channel, message.recipient_type,
                           message.recipient_id, address, subject, body, message.case_id,
                           message.template)


def _address(services: Services, message: _Claimed) -> str | None:
    """Decrypt the recipient's address now; it is never stored in the outbox."""
    if message.recipient_type != "party" or message.channel not in ("sms", "email"):
        return None

    with services.session_factory() as session:
        party = session.get(Party, message.recipient_id)
    if party is None:
        raise PermanentFailure("当事人不存在")
    if message.channel == "email":
        raise PermanentFailure("当事人记录没有电子邮箱字段")
    if not party.phone_enc:
        raise PermanentFailure("当事人没有手机号")
    return services.cipher.decrypt(party.phone_enc, aad=field_aad("party", "phone_enc", party.id))


def _mark_sent(uow: UnitOfWork, message_id: int) -> None:
    row = uow.session.get(OutboxMessage, message_id)
    assert row is not None, "a claimed outbox row is never deleted"
    row.status, row.sent_at = "sent", uow.clock.now()
    row.attempts = (row.attempts or 0) + 1
    row.next_attempt_at, row.last_error = None, None


def backoff(attempts: int) -> timedelta:
    """1 min x 2^(attempts-1), capped at 1 h."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _mark_failed(services: Services, message: _Claimed, exc: Exception,
                 report: DeliveryReport) -> None:
    max_attempts = services.settings.outbox_max_attempts
    with services.new_uow() as uow:
        row = uow.session.get(OutboxMessage, message.id)
        assert row is not None, "a claimed outbox row is never deleted"
        now = uow.clock.now()
        row.attempts = (row.attempts or 0) + 1
        row.last_error = str(exc)[:1000]
        if isinstance(exc, PermanentFailure) or row.attempts >= max_attempts:
            row.status, row.next_attempt_at = "dead", None
            uow.audit.record(AuditAction.OUTBOX_FAILED, SCHEDULER, case=row.case_id,
                             object_type="outbox_message", object_id=row.id,
                             channel=row.channel, template=row.template, attempts=row.attempts,
                             error=row.last_error)
            report.dead += 1
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.failed += 1
        uow.commit()
    log.info("outbox %s failed (%s)", message.id, exc)


def retry_dead(uow: UnitOfWork, actor: Actor, message_id: int) -> None:
    """An admin re-queues a dead message (audited)."""
    with uow:
        row = uow.session.get(OutboxMessage, message_id)
        if row is None or row.status != "dead":
            raise NotFound(ErrorCode.NOT_FOUND, dead_outbox_message=message_id)
        row.status, row.attempts, row.next_attempt_at = "pending", 0, uow.clock.now()
        uow.audit.record(AuditAction.OUTBOX_RETRIED, actor, case=row.case_id,
                         object_type="outbox_message", object_id=row.id)
        uow.commit()


# -- reading --------------------------------------------------------------------------------------
def delivery_state(session: Session, case_id: int) -> list[dict]:
    """Every notification of a case with its delivery state (for the case page)."""
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)
                           .order_by(OutboxMessage.id)).all()
    return [{"id": r.id, "created_at": r.created_at, "channel": r.channel, "template": r.template,
             "recipient_type": r.recipient_type, "status": r.status, "attempts": r.attempts,
             "next_attempt_at": r.next_attempt_at, "sent_at": r.sent_at,
             "last_error": r.last_error} for r in rows]


def undelivered(session: Session, older_than: datetime) -> list[dict]:
    """Reconciliation: pending rows created before ``older_than`` and every dead row."""
    rows = session.scalars(select(OutboxMessage).where(
        (OutboxMessage.status == "dead")
        | ((OutboxMessage.status == "pending") & (OutboxMessage.created_at < older_than)))
        .order_by(OutboxMessage.id)).all()
    return [{"id": r.id, "case_id": r.case_id, "channel": r.channel, "template": r.template,
             "status": r.status, "attempts": r.attempts, "last_error": r.last_error}
            for r in rows]
