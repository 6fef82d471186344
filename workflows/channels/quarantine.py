"""The quarantine of pushed work orders that could not be mapped: listed for intake clerks without
personal data, opened (audited: the clerk reads the caller's data) as a prefilled intake form,
and completed through the ordinary intake — the case, the order's new state and the "accepted"
callback commit together, and the entry leaves the list."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from workflows.access.policy import Permission, denials_audited, require, user_id
from workflows.audit.log import AuditAction
from workflows.channels.hotline import (
    CHANNEL,
    Unmappable,
    caller_of,
    link_order,
    mapped_category,
    order_payload,
)
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, ErrorCode, NotFound
from workflows.intake.register import IntakeOutcome, IntakeRequest, submit_intake
from workflows.models import ChannelOrder, OrderStatus, Submission
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

PAGE = 50
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def quarantined(uow: UnitOfWork, actor: Actor, *, limit: int = PAGE) -> dict:
    """Waiting orders, oldest first, with the reason and what mapping found (no personal data)."""
    with denials_audited(uow.services, actor, object_type="quarantine"):
        require(actor, Permission.REGISTER_CASE)
    with uow:
        waiting = ChannelOrder.status == OrderStatus.QUARANTINED
        total = uow.session.scalar(select(func.count()).select_from(ChannelOrder).where(waiting))
        rows = uow.session.scalars(select(ChannelOrder).where(waiting)
                                   .order_by(ChannelOrder.created_at, ChannelOrder.id)
                                   .limit(limit)).all()
        return {"total": total or 0, "orders": [
            {"id": r.id, "channel": r.channel, "order_no": r.order_no, "reason": r.reason,
             "received_at": r.received_at, "created_at": r.created_at,
             "category_text": (r.mapped or {}).get("category_text"),
             "caller": (r.mapped or {}).get("caller_masked"),
             "fields": sorted((r.mapped or {}).get("fields") or {})} for r in rows]}


def _waiting(uow: UnitOfWork, order_id: int) -> ChannelOrder:
    order = uow.session.get(ChannelOrder, order_id)
    if order is None:
        raise NotFound(ErrorCode.NOT_FOUND, channel_order=order_id)
    if order.status != OrderStatus.QUARANTINED:
        raise NotFound(ErrorCode.ORDER_NOT_QUARANTINED, order_no=order.order_no)
    return order


def prefill(uow: UnitOfWork, actor: Actor, order_id: int) -> dict[str, str]:
    """The intake form's values for a quarantined order, from what could be mapped; the read of
    the caller's data is audited."""
    with denials_audited(uow.services, actor, object_type="channel_order", object_id=order_id):
        require(actor, Permission.REGISTER_CASE)
    with uow:
        order = _waiting(uow, order_id)
        payload = order_payload(uow, order)
        uow.audit.record(AuditAction.CHANNEL_ORDER_VIEWED, actor, object_type="channel_order",
                         object_id=order.id, order_no=order.order_no, purpose="quarantine")
        uow.commit()
    return form_values(uow.services, order, payload)


def form_values(services: Services, order: ChannelOrder, payload: dict) -> dict[str, str]:
    """Intake form fields (names as on the form) for an order."""
    zone = ZoneInfo(services.settings.timezone)
    caller = caller_of(payload)
    content = payload.get("content")
    content = content if isinstance(content, str) else ""
    values = {"channel_order": str(order.id), "channel": CHANNEL, "channel_ref": order.order_no,
              "summary": f"12345 工单 {order.order_no}"[:200],
              "description": pii_text.mask(content)[0], "people_count": "1",
              "urgency": "general", "parties-0-role": "applicant", "parties-0-kind": "person",
              "parties-0-contact_preference": "sms"}
    if isinstance(caller.get("name"), str):
        values["parties-0-name"] = caller["name"].strip()
    if isinstance(caller.get("phone"), str):
        values["parties-0-phone"] = caller["phone"].strip()
    if isinstance(payload.get("address"), str):
        values["location-address"] = payload["address"].strip()
    received = payload.get("received_at")
    try:
        moment = datetime.fromisoformat(received) if isinstance(received, str) else None
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        values["received_at"] = moment.astimezone(zone).strftime(LOCAL_INPUT)
    text = payload.get("category_text")
    if isinstance(text, str):
        try:
            values["category"] = mapped_category(services, text)
        except Unmappable:
            pass
    return values


def complete_order(services: Services, actor: Actor, order_id: int,
                   request: IntakeRequest) -> IntakeOutcome:
    """Register a quarantined order as the clerk completed it: the ordinary intake, as the
    clerk, on the hotline channel with the order number as the channel reference."""
    request.channel, request.channel_ref = CHANNEL, None
    with services.new_uow() as uow:
        order = _waiting(uow, order_id)
        request.channel_ref = order.order_no
    uow = _ResolveUnitOfWork(services, order_id, actor)
    return submit_intake(uow, actor, request)


class _ResolveUnitOfWork(UnitOfWork):
    """Intake's unit of work whose commit also closes the quarantine entry (locked: two clerks
    completing one order at once — the second gets ConcurrentUpdate and nothing is saved)."""

    def __init__(self, services: Services, order_id: int, actor: Actor):
        super().__init__(services)
        self.order_id, self.actor = order_id, actor

    def commit(self) -> None:
        submissions = [o for o in self.session.identity_map.values() if isinstance(o, Submission)]
        if submissions:
            order = self.session.scalars(select(ChannelOrder).where(
                ChannelOrder.id == self.order_id).with_for_update()).one()
            if order.status != OrderStatus.QUARANTINED:
                raise ConcurrentUpdate("the order was completed meanwhile")
            order.status, order.resolved_at = OrderStatus.RESOLVED, self.clock.now()
            order.resolved_by = user_id(self.actor)
            link_order(self, order, submissions[-1])
            self.audit.record(AuditAction.CHANNEL_ORDER_RESOLVED, self.actor,
                              case=submissions[-1].case_id, object_type="channel_order",
                              object_id=order.id, order_no=order.order_no,
                              linked_as=order.linked_as)
        super().commit()
