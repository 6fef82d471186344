"""12345 hotline work orders pushed to ``POST /api/v1/channels/hotline_12345/orders``.

The signature is checked first (``signing``); then the work-order number is the idempotency key:
an order seen before answers as it did the first time and changes nothing. A new order is mapped
field by field to an intake request — 诉求类型 through the channel's category mapping, the caller
to an applicant party, 事发地址 to a place by the standard addresses, 受理时间 to ``received_at`` —
and registered through the ordinary intake (same de-duplication, notices and audit). An order
that cannot be mapped, or that intake refuses, is kept in the quarantine with the reason, for an
intake clerk to complete by hand (``quarantine``). Personal data typed into the content (phone,
ID or card numbers, e-mail addresses) is masked in the narrative, never refused: the order is
kept whole, encrypted, in ``channel_order.payload_enc``.

The order row, the case and the "accepted" callback commit in one transaction; two deliveries of
one order race on ``UNIQUE(channel, order_no)`` and the loser answers with the winner's result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.crypto import field_aad
from workflows.audit.log import AuditAction
from workflows.cases.parties import PartyInput
from workflows.channels.health import interface_by_code, record_interface_event
from workflows.channels.signing import check_signature, valid_secrets
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, ErrorCode, FieldError, InvalidInput
from workflows.core.masking import mask_name
from workflows.intake.location import LocationInput
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import (
    Case,
    CategoryMapping,
    ChannelOrder,
    OrderStatus,
    Submission,
)
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

CHANNEL = "hotline_12345"
ORDER_KEYS = ("order_no", "received_at", "category_text", "content", "caller", "address")
MAX_ORDER_NO = 64
# the channel acts as an intake clerk of no unit: it may register, and sees only what it sent
HOTLINE_ACTOR = Actor(type="api", id=f"channel:{CHANNEL}", username=CHANNEL,
                      roles=frozenset({"intake_clerk"}), channel=CHANNEL)


class Reason:
    """Why an order went to the quarantine (stored codes; words on the pages)."""

    UNKNOWN_CATEGORY = "unknown_category"
    MISSING_FIELD = "missing_field"
    BAD_RECEIVED_AT = "bad_received_at"
    ADDRESS_CANDIDATES = "address_candidates"
    INVALID_FIELD = "invalid_field"


REASONS = (Reason.UNKNOWN_CATEGORY, Reason.MISSING_FIELD, Reason.BAD_RECEIVED_AT,
           Reason.ADDRESS_CANDIDATES, Reason.INVALID_FIELD)


@dataclass(frozen=True)
class PushAnswer:
    """The HTTP status and JSON body answered to the channel."""

    status: int
    body: dict


class Unmappable(Exception):
    """The order cannot become an intake request: ``reason`` and the field codes."""

    def __init__(self, reason: str, fields: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason, self.fields = reason, fields or {}


# -- the endpoint's service ------------------------------------------------------------------------
def receive_order(services: Services, *, body: bytes, timestamp: str | None,
                  signature: str | None) -> PushAnswer:
    """Check the signature, then register the order once (or quarantine it)."""
    with services.new_uow() as uow:
        row = interface_by_code(uow.session, CHANNEL)
        secrets = valid_secrets(uow, row) if row is not None else []
        refusal = check_signature(secrets, timestamp, signature, body, uow.clock.now(),
                                  services.settings.channel_max_skew_seconds)
    if refusal is not None:   # the caller notes the failure (throttled per client address)
        return PushAnswer(401, {"error": "unauthenticated", "reason": refusal})
    payload = _parse(body)
    order_no = payload["order_no"]
    found = stored_answer(services, order_no)
    if found is not None:
        return found
    try:
        request = map_order(services, payload)
    except Unmappable as exc:
        return quarantine(services, payload, exc)
    uow = _OrderUnitOfWork(services, payload)
    try:
        submit_intake(uow, HOTLINE_ACTOR, request)
    except InvalidInput as exc:
        return quarantine(services, payload, _refused(exc))
    except ConcurrentUpdate:
        found = stored_answer(services, order_no)  # the same order delivered twice at once
        if found is None:
            raise
        return found
    assert uow.answer is not None
    return uow.answer


def _parse(body: bytes) -> dict:
    """The JSON object with a usable ``order_no`` (without one nothing can be kept: 422)."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput({"body": FieldError(ErrorCode.BODY_NOT_JSON)}) from None
    if not isinstance(payload, dict):
        raise InvalidInput({"body": FieldError(ErrorCode.BODY_NOT_OBJECT)})
    order_no = payload.get("order_no")
    if not isinstance(order_no, str) or not order_no.strip() or len(order_no) > MAX_ORDER_NO \
            or not order_no.isprintable():
        raise InvalidInput({"order_no": FieldError(ErrorCode.BAD_ORDER_NO,
                                                   {"limit": MAX_ORDER_NO})})
    payload["order_no"] = order_no.strip()
    return payload


def stored_answer(services: Services, order_no: str) -> PushAnswer | None:
    """The answer given the first time this order arrived, None if it is new."""
    with services.new_uow() as uow:
        order = uow.session.scalars(select(ChannelOrder).where(
            ChannelOrder.channel == CHANNEL, ChannelOrder.order_no == order_no)).first()
        return None if order is None else answer_of(uow, order)


def answer_of(uow: UnitOfWork, order: ChannelOrder) -> PushAnswer:
    if order.status == OrderStatus.QUARANTINED:
        return PushAnswer(202, {"quarantined": True, "reason": order.reason})
    case = uow.session.get(Case, order.case_id)
    return PushAnswer(201, {"case_no": case.case_no if case else None,
                            "linked_as": order.linked_as})


# -- mapping --------------------------------------------------------------------------------------
def map_order(services: Services, payload: dict) -> IntakeRequest:
    """The intake request for a pushed order; Unmappable names what is missing or unknown."""
    missing = {key: "required" for key in ("received_at", "category_text", "content", "caller")
               if not payload.get(key)}
    caller = caller_of(payload)
    if not isinstance(caller.get("name"), str) or not caller.get("name", "").strip():
        missing["caller-name"] = "required"
    texts = {k: payload.get(k) for k in ("category_text", "content", "address", "received_at")}
    wrong = {k: "not_text" for k, v in texts.items() if v is not None and not isinstance(v, str)}
    if caller.get("phone") is not None and not isinstance(caller.get("phone"), str):
        wrong["caller-phone"] = "not_text"
    if missing or wrong:
        raise Unmappable(Reason.MISSING_FIELD if missing else Reason.INVALID_FIELD,
                         {**missing, **wrong})
    received = _received(payload["received_at"])
    category = mapped_category(services, payload["category_text"])
    content, _kinds = pii_text.mask(payload["content"])
    return IntakeRequest(
        channel=CHANNEL, category=category, description=content,
        summary=f"12345 工单 {payload['order_no']}"[:200],
        parties=[PartyInput(name=caller["name"].strip(), role="applicant",
                            phone=(caller.get("phone") or "").strip() or None,
                            contact_preference="sms")],
        channel_ref=payload["order_no"], received_at=received,
        location=LocationInput(address=payload["address"]) if payload.get("address") else None)


def caller_of(payload: dict) -> dict:
    """The caller object of an order ({} when missing or not an object)."""
    caller = payload.get("caller")
    return caller if isinstance(caller, dict) else {}


def _received(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Unmappable(Reason.BAD_RECEIVED_AT, {"received_at": "not_iso_time"}) from None
    if moment.tzinfo is None:
        raise Unmappable(Reason.BAD_RECEIVED_AT, {"received_at": "time_without_zone"})
    return moment


def mapped_category(services: Services, text: str) -> str:
    """The category the mapping table gives the channel's 诉求类型 text."""
    with services.new_uow() as uow:
        category = uow.session.scalar(select(CategoryMapping.category).where(
            CategoryMapping.channel == CHANNEL, CategoryMapping.source_text == text.strip()))
    if category is None:
        raise Unmappable(Reason.UNKNOWN_CATEGORY, {"category_text": "unknown"})
    return category


def _refused(exc: InvalidInput) -> Unmappable:
    """Intake's field errors as a quarantine reason (codes only, never the values)."""
    fields = {name: str(error.code) for name, error in exc.field_errors.items()}
    if any(code == ErrorCode.ADDRESS_CANDIDATES for code in fields.values()):
        return Unmappable(Reason.ADDRESS_CANDIDATES, fields)
    if any(name.startswith("received") for name in fields):
        return Unmappable(Reason.BAD_RECEIVED_AT, fields)
    return Unmappable(Reason.INVALID_FIELD, fields)


def mapped_view(payload: dict, exc: Unmappable | None = None) -> dict:
    """What the quarantine list may show: no personal data (the caller's name masked)."""
    caller = caller_of(payload)
    name = caller.get("name") if isinstance(caller.get("name"), str) else ""
    text = payload.get("category_text")
    return {"category_text": text[:100] if isinstance(text, str) else None,
            "caller_masked": mask_name(name) if name else None,
            "fields": exc.fields if exc is not None else {}}


# -- storing ---------------------------------------------------------------------------------------
def new_order(uow: UnitOfWork, payload: dict, *, status: str, reason: str | None = None,
              mapped: dict | None = None) -> ChannelOrder:
    """A channel_order row with the payload encrypted (its id is in the AAD)."""
    received = payload.get("received_at")
    try:
        moment = datetime.fromisoformat(received) if isinstance(received, str) else None
    except ValueError:
        moment = None
    order = ChannelOrder(channel=CHANNEL, order_no=payload["order_no"], status=status,
                         reason=reason, received_at=moment if moment and moment.tzinfo else None,
                         payload_enc="", mapped=mapped or {}, created_at=uow.clock.now())
    uow.session.add(order)
    uow.session.flush()
    order.payload_enc = uow.services.cipher.encrypt(
        json.dumps(payload, ensure_ascii=False),
        aad=field_aad("channel_order", "payload_enc", order.id))
    return order


def order_payload(uow: UnitOfWork, order: ChannelOrder) -> dict:
    """The pushed order as received (personal data: callers audit the read)."""
    return json.loads(uow.services.cipher.decrypt(
        order.payload_enc, aad=field_aad("channel_order", "payload_enc", order.id)))


def quarantine(services: Services, payload: dict, exc: Unmappable) -> PushAnswer:
    """Keep the order for a clerk; 202 with the reason (a repeat gets the same answer)."""
    try:
        with services.new_uow() as uow:
            order = new_order(uow, payload, status=OrderStatus.QUARANTINED, reason=exc.reason,
                              mapped=mapped_view(payload, exc))
            uow.audit.record(AuditAction.CHANNEL_ORDER_QUARANTINED, HOTLINE_ACTOR,
                             object_type="channel_order", object_id=order.id,
                             order_no=order.order_no, reason=exc.reason,
                             fields=sorted(exc.fields))
            record_interface_event(uow, CHANNEL, False, f"quarantined:{exc.reason}")
            uow.commit()
    except ConcurrentUpdate:
        found = stored_answer(services, payload["order_no"])
        if found is None:
            raise
        return found
    return PushAnswer(202, {"quarantined": True, "reason": exc.reason})


def queue_callback(uow: UnitOfWork, order: ChannelOrder, kind: str, *, key: str,
                   case_id: int | None, params: dict[str, Any]) -> None:
    """A callback to the hotline about ``order``; one recipient per order keeps them in order."""
    uow.outbox.add(channel=CHANNEL, recipient_type="channel_order", recipient_id=order.id,
                   template=f"callback_{kind}", params=params,
                   dedupe_key=f"callback:{order.id}:{key}", case=case_id)


class _OrderUnitOfWork(UnitOfWork):
    """Intake's unit of work whose commit also stores the order and queues "accepted"."""

    def __init__(self, services: Services, payload: dict):
        super().__init__(services)
        self.payload = payload
        self.answer: PushAnswer | None = None

    def commit(self) -> None:
        submission = _submission(self)
        if submission is not None and self.answer is None:
            order = new_order(self, self.payload, status=OrderStatus.REGISTERED,
                              mapped=mapped_view(self.payload))
            link_order(self, order, submission)
            record_interface_event(self, CHANNEL, True)
            self.answer = answer_of(self, order)
        super().commit()


def link_order(uow: UnitOfWork, order: ChannelOrder, submission: Submission) -> None:
    """Tie the order to the case intake registered or linked, and queue "accepted"."""
    order.case_id, order.linked_as = submission.case_id, submission.linked_as
    case = uow.session.get(Case, submission.case_id)
    queue_callback(uow, order, "accepted", key="accepted", case_id=submission.case_id,
                   params={"case_no": case.case_no if case else None,
                           "linked_as": submission.linked_as})


def _submission(uow: UnitOfWork) -> Submission | None:
    found = [o for o in uow.session.identity_map.values() if isinstance(o, Submission)]
    return found[-1] if found else None
