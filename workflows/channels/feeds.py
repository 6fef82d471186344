"""Data out: department feeds, the hotline's callbacks and the events API, all read from the case
event log (``case_event``, written with the change: workflows/notify/case_events.py).

* A unit subscribes an HTTPS endpoint to kinds of events about it (dispatched to it, deadline
  near, overdue, closed, rated): a catalogue row of kind ``feed`` with its own secret.
* ``fan_out`` (a scheduler job) reads the log after its cursor and queues one outbox message per
  matching subscription (channel ``feed``) and per hotline order of the case (channel
  ``hotline_12345``: signed off, progress, result, satisfaction). The outbox delivers them with
  its retries, back-off, dead letters and order per recipient (a subscription, an order).
* ``WebhookChannel`` posts each one, signed like the pushes in (``signing.sign``), with the
  event id in ``X-Jiefen-Event-Id``: a receiver that saw the id already ignores the repeat.
* ``events_page`` answers ``GET /api/v1/events?since=CURSOR`` in the caller's scope.

Personal data: an event carries the applicant's *masked* name only when its reader may see the
parties (the lead unit of the case for a feed; a role with VIEW_PARTIES for the API); never the
clear values, which stay behind the audited reveal of the case page.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import OutboxMessage
from workflows.access.policy import Denied, Permission, denials_audited, require, visible_cases
from workflows.audit.log import AuditAction
from workflows.channels.catalogue import endpoint_error
from workflows.channels.health import interface_by_code, record_failure, record_interface_event
from workflows.channels.hotline import queue_callback
from workflows.channels.signing import current_secret, issue_for, sign
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.models import (
    STATUS_LABELS,
    Case,
    CaseEvent,
    CaseEventHead,
    CaseEventKind,
    CaseParty,
    ChannelCursor,
    ChannelOrder,
    Department,
    Direction,
    Interface,
    InterfaceKind,
    InterfaceStatus,
    OrderStatus,
    Party,
)
from workflows.notify.channels import DeliveryFailed, PermanentFailure, RenderedMessage
from workflows.notify.delivery import channels_of
from workflows.people.admin import require_admin
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

FEED_CHANNEL = "feed"
FEED_KINDS = (CaseEventKind.DISPATCHED, CaseEventKind.DEADLINE_NEAR, CaseEventKind.OVERDUE,
              CaseEventKind.CLOSED, CaseEventKind.RATED)
# case events the hotline hears about its orders, and the callback type each becomes
CALLBACKS = {CaseEventKind.SIGNED_OFF: "signed_off", CaseEventKind.PROGRESS: "progress",
             CaseEventKind.CLOSED: "result", CaseEventKind.RATED: "satisfaction"}
FEED_DATASET = "案件事件"
# outbox templates of the messages sent here (their words: web/labels.py)
OUTBOUND_TEMPLATES = (*(f"feed_{k}" for k in FEED_KINDS),
                      *(f"callback_{k}" for k in ("accepted", *CALLBACKS.values())))
FAN_OUT = "fan_out"
BATCH = 500
MAX_PAGE = 500


# -- subscriptions ---------------------------------------------------------------------------------
def subscribe(uow: UnitOfWork, actor: Actor, *, unit_code: str, endpoint_url: str,
              kinds: list[str]) -> tuple[str, str | None]:
    """A unit's feed (admins): created with a new secret (returned once), or its endpoint and
    kinds changed (secret None: unchanged). Returns (interface code, secret)."""
    require_admin(actor, uow.services)
    errors: dict[str, FieldError] = {}
    if (error := endpoint_error(endpoint_url)) is not None:
        errors["endpoint_url"] = error
    chosen = [k for k in dict.fromkeys(kinds) if k in {str(f) for f in FEED_KINDS}]
    if not chosen or len(chosen) != len(set(kinds)):
        errors["kinds"] = FieldError(ErrorCode.CHOOSE_EVENT_KINDS)
    with uow:
        unit = (uow.session.scalars(select(Department).where(Department.code == unit_code)).first()
                if unit_code else None)
        if unit is None:
            errors["unit_code"] = (FieldError(ErrorCode.UNKNOWN_UNIT, {"code": unit_code})
                                   if unit_code else FieldError(ErrorCode.CHOOSE_UNIT))
        if errors or unit is None:
            raise InvalidInput(errors)
        code = f"feed_{unit.code}"[:64]
        row = interface_by_code(uow.session, code)
        secret = None
        if row is None:
            row = Interface(code=code, name=f"{unit.name} 事件订阅"[:100], kind=InterfaceKind.FEED,
                            direction=Direction.OUT, owner_unit_id=unit.id,
                            datasets=[FEED_DATASET], status=InterfaceStatus.CONNECTED,
                            created_at=uow.clock.now())
            uow.session.add(row)
            secret = issue_for(uow, row)
        row.endpoint_url, row.event_kinds = endpoint_url, chosen
        uow.audit.record(AuditAction.INTERFACE_SAVED, actor, object_type="interface",
                         object_id=code, change="created" if secret else "edited",
                         endpoint=endpoint_url, kinds=chosen)
        uow.commit()
        return code, secret


# -- fan-out ---------------------------------------------------------------------------------------
def fan_out(services: Services, *, limit: int = BATCH) -> int:
    """Queue the feed messages and callbacks of the events after the cursor (one transaction;
    the cursor row is locked, so two schedulers do not both queue — and the outbox's dedupe key
    would make a second queueing harmless anyway). Returns the number of events read."""
    with services.new_uow() as uow:
        cursor = _cursor(uow.session, FAN_OUT)
        head = _head(uow.session)
        events = uow.session.scalars(select(CaseEvent).where(
            CaseEvent.position > cursor.position, CaseEvent.position <= head)
            .order_by(CaseEvent.position).limit(limit)).all()
        if not events:
            return 0
        feeds = _feeds(uow.session, {e.unit_id for e in events if e.unit_id is not None})
        orders = _orders(uow.session, {e.case_id for e in events if e.kind in CALLBACKS})
        for ev in events:
            for feed in feeds.get(ev.unit_id, []):
                if ev.kind in (feed.event_kinds or []):
                    uow.outbox.add(channel=FEED_CHANNEL, recipient_type="interface",
                                   recipient_id=feed.id, template=f"feed_{ev.kind}",
                                   params={"event": ev.position},
                                   dedupe_key=f"feed:{feed.id}:{ev.position}", case=ev.case_id)
            for order in orders.get(ev.case_id, []) if ev.kind in CALLBACKS else []:
                if order.created_at <= ev.occurred_at:
                    queue_callback(uow, order, CALLBACKS[CaseEventKind(ev.kind)],
                                   key=str(ev.position), case_id=ev.case_id,
                                   params={"event": ev.position})
        cursor.position = events[-1].position
        uow.commit()
        return len(events)


def _cursor(session: Session, name: str) -> ChannelCursor:
    row = session.scalars(select(ChannelCursor).where(ChannelCursor.name == name)
                          .with_for_update()).first()
    if row is None:
        row = ChannelCursor(name=name, position=0)
        session.add(row)
        session.flush()
    return row


def _head(session: Session) -> int:
    """The last committed position: every event up to it is visible (positions follow commit
    order), so a reader stopping there never skips one that commits later."""
    return session.scalar(select(CaseEventHead.last_position).where(CaseEventHead.id == 1)) or 0


def _feeds(session: Session, unit_ids: set[int]) -> dict[int | None, list[Interface]]:
    out: dict[int | None, list[Interface]] = defaultdict(list)
    if unit_ids:
        for row in session.scalars(select(Interface).where(
                Interface.kind == InterfaceKind.FEED, Interface.status == InterfaceStatus.CONNECTED,
                Interface.owner_unit_id.in_(unit_ids))):
            out[row.owner_unit_id].append(row)
    return out


def _orders(session: Session, case_ids: set[int]) -> dict[int | None, list[ChannelOrder]]:
    out: dict[int | None, list[ChannelOrder]] = defaultdict(list)
    if case_ids:
        for row in session.scalars(select(ChannelOrder).where(
                ChannelOrder.case_id.in_(case_ids),
                ChannelOrder.status.in_((OrderStatus.REGISTERED, OrderStatus.RESOLVED)))):
            out[row.case_id].append(row)
    return out


# -- what an event looks like outside ---------------------------------------------------------------
def event_json(ev: CaseEvent, case: Case, applicant: str | None) -> dict[str, Any]:
    data = {k: v for k, v in (ev.data or {}).items() if k not in ("case_no", "status")}
    return {"id": str(ev.position), "kind": ev.kind, "occurred_at": ev.occurred_at.isoformat(),
            "case_no": case.case_no, "category": case.category, "status": case.status,
            "unit_id": ev.unit_id, "data": data, "applicant": applicant}


def masked_applicants(session: Session, case_ids: set[int]) -> dict[int, str]:
    """The first applicant's masked name per case (one query)."""
    if not case_ids:
        return {}
    rows = session.execute(select(CaseParty.case_id, Party.masked).join(
        Party, Party.id == CaseParty.party_id).where(
        CaseParty.case_id.in_(case_ids), CaseParty.role == "applicant")
        .order_by(CaseParty.case_id, CaseParty.id)).all()
    out: dict[int, str] = {}
    for case_id, masked in rows:
        out.setdefault(case_id, (masked or {}).get("name") or "")
    return out


def events_page(uow: UnitOfWork, actor: Actor, since: str | None, limit: int = 100) -> dict:
    """``{"events": [...], "next": CURSOR}``: events after ``since`` about cases in the caller's
    scope, oldest first. ``next`` goes past events the caller may not see, so the next call does
    not read them again; an empty page keeps the cursor where the log ends."""
    with denials_audited(uow.services, actor, object_type="events"):
        require(actor, Permission.LIST_CASES)
    start = _position(since)
    limit = max(1, min(limit, MAX_PAGE))
    with uow:
        head = _head(uow.session)
        rows = uow.session.execute(
            select(CaseEvent, Case).join(Case, Case.id == CaseEvent.case_id).where(
                CaseEvent.position > start, CaseEvent.position <= head, visible_cases(actor))
            .order_by(CaseEvent.position).limit(limit)).all()
        parties = _may_view_parties(actor)
        names = masked_applicants(uow.session, {c.id for _e, c in rows}) if parties else {}
        events = [event_json(ev, case, names.get(case.id)) for ev, case in rows]
        following = rows[-1][0].position if len(rows) == limit else max(head, start)
        return {"events": events, "next": str(following)}


def _may_view_parties(actor: Actor) -> bool:
    try:
        require(actor, Permission.VIEW_PARTIES)
    except Denied:
        return False
    return True


def _position(since: str | None) -> int:
    if since is None or since == "":
        return 0
    if not since.isascii() or not since.isdigit() or len(since) > 18:
        raise InvalidInput({"since": FieldError(ErrorCode.BAD_CURSOR)})
    return int(since)


# -- delivery ----------------------------------------------------------------------------------------
class WebhookChannel:
    """POSTs feed messages and hotline callbacks as signed JSON; 2xx is delivered, 4xx other than
    408/409/429 is permanent, anything else is retried by the outbox."""

    in_transaction = False

    def __init__(self, services: Services, *, timeout: float = 10.0):
        self.services, self.timeout = services, timeout

    def send(self, message: RenderedMessage) -> None:
        with self.services.new_uow() as uow:
            url, secret, body, event_id, code = self._prepare(uow, message)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        stamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - endpoint_error allows http(s) only
            url, data=raw, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8", "X-Jiefen-Timestamp": stamp,
                "X-Jiefen-Signature": sign(secret, stamp, raw), "X-Jiefen-Event-Id": event_id})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            record_failure(self.services, code, f"HTTP {exc.code}")
            if 400 <= exc.code < 500 and exc.code not in (408, 409, 429):
                raise PermanentFailure(f"refused: HTTP {exc.code}") from None
            raise DeliveryFailed(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            record_failure(self.services, code, "unreachable")
            raise DeliveryFailed(f"unreachable: {exc}") from None
        if not 200 <= status < 300:
            record_failure(self.services, code, f"HTTP {status}")
            raise DeliveryFailed(f"HTTP {status}")
        with self.services.new_uow() as uow:
            record_interface_event(uow, code, True)
            uow.commit()

    def _prepare(self, uow: UnitOfWork, message: RenderedMessage
                 ) -> tuple[str, str, dict, str, str]:
        outbox = uow.session.get(OutboxMessage, message.outbox_id)
        params = dict(outbox.params or {}) if outbox is not None else {}
        if message.recipient_type == "interface":
            feed = uow.session.get(Interface, int(message.recipient_id or 0))
            ev = uow.session.get(CaseEvent, params.get("event"))
            if feed is None or ev is None:
                raise PermanentFailure("feed or event gone")
            case = uow.session.get(Case, ev.case_id)
            assert case is not None
            lead = case.lead_department_id == feed.owner_unit_id
            names = masked_applicants(uow.session, {case.id}) if lead else {}
            body = event_json(ev, case, names.get(case.id))
            return self._target(uow, feed) + (body, str(ev.position), feed.code)
        order = uow.session.get(ChannelOrder, int(message.recipient_id or 0))
        if order is None:
            raise PermanentFailure("order gone")
        hotline = interface_by_code(uow.session, order.channel)
        if hotline is None:
            raise PermanentFailure("channel not in the catalogue")
        body = callback_json(uow.session, order, message.template, params)
        return self._target(uow, hotline) + (body, body["id"], hotline.code)

    @staticmethod
    def _target(uow: UnitOfWork, row: Interface) -> tuple[str, str]:
        secret = current_secret(uow, row)
        if not row.endpoint_url or not secret:
            raise DeliveryFailed(f"{row.code}: no endpoint or secret configured")
        return row.endpoint_url, secret


def callback_json(session: Session, order: ChannelOrder, template: str, params: dict) -> dict:
    """A callback to the hotline about one of its orders (no personal data)."""
    kind = template.removeprefix("callback_")
    case = session.get(Case, order.case_id) if order.case_id else None
    body: dict[str, Any] = {"order_no": order.order_no, "type": kind,
                            "case_no": case.case_no if case else params.get("case_no"),
                            "status": case.status if case else None,
                            "status_text": STATUS_LABELS.get(case.status) if case else None}
    ev = session.get(CaseEvent, params["event"]) if "event" in params else None
    if ev is not None:
        body["id"] = f"{order.order_no}:{ev.position}"
        body["occurred_at"] = ev.occurred_at.isoformat()
        if ev.unit_id is not None:
            unit = session.get(Department, ev.unit_id)
            body["unit"] = unit.name if unit else None
        for key in ("outcome", "rating"):
            if key in (ev.data or {}):
                body[key] = ev.data[key]
    else:
        body["id"] = f"{order.order_no}:{kind}"
        body["linked_as"] = params.get("linked_as")
        body["occurred_at"] = order.created_at.isoformat()
    return body


def install(services: Services) -> None:
    """Register the webhook channel for feeds and callbacks with the outbox's channels."""
    channels = channels_of(services)
    hook = channels.get(FEED_CHANNEL) or WebhookChannel(services)
    channels.setdefault(FEED_CHANNEL, hook)
    channels.setdefault("hotline_12345", hook)

