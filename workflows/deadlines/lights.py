"""Timeliness lights per work order: green, yellow at 75 %, orange on breach,
red on a repeated breach, an unanswered 督办单 or more than 3 working days overdue.

A work order has two limits: the sign-off response (T-01: PT2H urgent / PT24H general, from
dispatch, met by acceptance) and the handling deadline (``work_order.due_at``, met by completion).
The light is stored on ``work_order.light``; ``work_order_sla.next_check_at`` says when it must be
recomputed, so the SLA sweep reads only orders whose light can change now.

The shipped processes climb the escalation ladder themselves (BPMN timers on sign-off, contact and
handling call the ``escalation`` process), so by default a light is shown and audited only. With
JIEFEN_LIGHT_LADDER=true (processes without their own ladder) the light also takes the rungs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engine.deadlines import WorkingCalendar
from workflows.audit.log import AuditAction
from workflows.core.actors import SCHEDULER
from workflows.core.working_calendar import CalendarProvider
from workflows.deadlines.escalation import calendar_of, escalate
from workflows.models import Case, Light, Urgency, WorkOrder, WorkOrderStatus, case_rows
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.runtime.unit_of_work import UnitOfWork

RESPONSE_POLICY: dict[str, str] = {Urgency.URGENT: "PT2H", Urgency.GENERAL: "PT24H"}
LIGHT_RANK = {Light.GREEN: 0, Light.YELLOW: 1, Light.ORANGE: 2, Light.RED: 3}
CLOSED = (WorkOrderStatus.DONE, WorkOrderStatus.REFUSED, WorkOrderStatus.RETURNED,
          WorkOrderStatus.CLOSED)
RED_AFTER = "working_days(3)"
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Limit:
    """One deadline of a work order or case: when it started, is due, warns, and was met."""

    name: str
    start: datetime
    due: datetime
    warn: datetime
    red: datetime
    met_at: datetime | None

    def breached(self, now: datetime) -> bool:
        return (self.met_at or now) > self.due if self.met_at else now >= self.due

    def open(self) -> bool:
        return self.met_at is None


def make_limit(calendar: CalendarProvider | WorkingCalendar, name: str, start: datetime,
               due: datetime, met_at: datetime | None, *, warn: datetime | None = None) -> Limit:
    """A limit with its 75 % warning and its "> 3 working days overdue" instant."""
    if warn is None:
        warn = start + (due - start) * 3 / 4 if due > start else due
    return Limit(name, start, due, warn, _red_at(calendar, due), met_at)


# due -> red instant per calendar (a calendar is replaced, never changed, when overrides change):
# a step recomputes the same open limits each time, and walking the working days was most of it
_RED: WeakKeyDictionary[WorkingCalendar, dict[datetime, datetime]] = WeakKeyDictionary()
_RED_KEPT = 4096


def _red_at(calendar: CalendarProvider | WorkingCalendar, due: datetime) -> datetime:
    current = calendar.calendar if isinstance(calendar, CalendarProvider) else calendar
    known = _RED.get(current)
    if known is None or len(known) > _RED_KEPT:
        known = _RED[current] = {}
    red = known.get(due)
    if red is None:
        # the day the deadline falls on is not an overdue day: count from 24:00 of that day
        red = known[due] = current.resolve(RED_AFTER, due - _TICK)
    return red


def light_of(limits: list[Limit], now: datetime, *, breaches: int,
             unanswered: bool) -> Light:
    """The light the limits call for at ``now``."""
    if breaches >= 2 or unanswered or any(lim.open() and now >= lim.red for lim in limits):
        return Light.RED
    if any(lim.breached(now) for lim in limits):
        return Light.ORANGE
    if any(lim.open() and now >= lim.warn for lim in limits):
        return Light.YELLOW
    return Light.GREEN


def next_check(limits: list[Limit], now: datetime, reply_dues: list[datetime]) -> datetime | None:
    """The next instant at which the light or the ladder can change."""
    moments = [m for lim in limits if lim.open() for m in (lim.warn, lim.due, lim.red) if m > now]
    moments += [m for m in reply_dues if m > now]
    return min(moments, default=None)


# -- work orders -------------------------------------------------------------------------------
def watch_of(uow: UnitOfWork, case: Case, order: WorkOrder,
             known: dict[int, WorkOrderSla] | None = None) -> WorkOrderSla:
    """The order's SLA watch row, created (with the T-01 response due time) on first sight;
    ``known``: the case's watch rows already read (then a missing one is not looked up)."""
    watch = known.get(order.id) if known is not None else uow.session.get(WorkOrderSla, order.id)
    if watch is None:
        policy = RESPONSE_POLICY.get(case.urgency, "PT24H")
        if order.status == WorkOrderStatus.DISPATCHED and order.due_at is not None:
            due = order.due_at  # the sign-off task's own boundary timer is the response limit
        else:
            due = calendar_of(uow).resolve(policy, order.dispatched_at)
        watch = WorkOrderSla(work_order_id=order.id, case_id=case.id, response_policy=policy,
                             response_due_at=due)
        uow.session.add(watch)
        if known is not None:
            known[order.id] = watch
        if not order.sla_watched:   # orders made elsewhere (imports, generated data)
            order.sla_watched = True
    return watch


def order_limits(uow: UnitOfWork, order: WorkOrder, watch: WorkOrderSla) -> list[Limit]:
    calendar = calendar_of(uow)
    responded = order.accepted_at or order.completed_at
    if responded is None and order.status != WorkOrderStatus.DISPATCHED:
        responded = order.dispatched_at  # returned or refused without a sign-off time
    limits = [make_limit(calendar, "response", order.dispatched_at, watch.response_due_at,
                         responded)]
    if order.due_at is not None and order.status != WorkOrderStatus.DISPATCHED:
        start = order.accepted_at or order.dispatched_at
        limits.append(make_limit(calendar, "handling", start, order.due_at, order.completed_at))
    return limits


def refresh_order(uow: UnitOfWork, case: Case, order: WorkOrder,
                  known: tuple[dict[int, WorkOrderSla], dict[int, list[SupervisionNotice]]]
                  | None = None) -> Light:
    """Recompute one order's light, climb the ladder for what is due, and re-arm its check
    (``known``: the case's watch rows and 督办单 by order, read once for all its orders)."""
    now = uow.clock.now()
    watch = watch_of(uow, case, order, known[0] if known is not None else None)
    limits = order_limits(uow, order, watch)
    notices = known[1].get(order.id, []) if known is not None else uow.session.scalars(
        select(SupervisionNotice).where(SupervisionNotice.work_order_id == order.id,
                                        SupervisionNotice.level == 1)).all()
    unanswered = [n for n in notices if n.replied_at is None and n.reply_due_at is not None
                  and now >= n.reply_due_at]
    breaches = sum(1 for lim in limits if lim.breached(now))
    order.breach_count = max(order.breach_count or 0, breaches)
    light = light_of(limits, now, breaches=order.breach_count, unanswered=bool(unanswered))
    if order.status not in CLOSED and uow.services.settings.light_ladder:
        _climb(uow, case, order, limits, light, now)
    _set_light(uow, case, order, light)
    open_order = order.status not in CLOSED
    replies = [n.reply_due_at for n in notices if n.replied_at is None and n.reply_due_at]
    watch.next_check_at = next_check(limits, now, replies) if open_order else None
    overdue = [n.reply_due_at for n in unanswered if n.reply_due_at is not None]
    if overdue and (watch.checked_at is None or watch.checked_at < max(overdue)):
        watch.checked_at = now   # the overdue replies are taken in (the sweep's only use of it)
    return light


def _climb(uow: UnitOfWork, case: Case, order: WorkOrder, limits: list[Limit], light: Light,
           now: datetime) -> None:
    for lim in limits:
        if not lim.open():
            continue
        source = f"work_order:{lim.name}"
        if now >= lim.warn:
            escalate(uow, case, level=0, source=source, reason="期限过75%", limit_due=lim.due,
                     work_order=order)
        if now >= lim.due:
            escalate(uow, case, level=1, source=source, reason="超过时限", limit_due=lim.due,
                     work_order=order)
    if light == Light.RED:
        due = max((lim.due for lim in limits), default=None)
        escalate(uow, case, level=2, source="work_order:red", reason=_red_reason(order, limits,
                                                                               now),
                 limit_due=due, work_order=order)
        if case.risk_level == "red":
            escalate(uow, case, level=3, source="work_order:red", reason="红色风险且超时",
                     limit_due=due, work_order=order)


def _red_reason(order: WorkOrder, limits: list[Limit], now: datetime) -> str:
    if any(lim.open() and now >= lim.red for lim in limits):
        return "超期超过3个工作日"
    if (order.breach_count or 0) >= 2:
        return "再次超时"
    return "督办单逾期未答复"


def _set_light(uow: UnitOfWork, case: Case, order: WorkOrder, light: Light) -> None:
    if order.light == light:
        return
    uow.audit.record(AuditAction.LIGHT_CHANGED, SCHEDULER, case=case, object_type="work_order",
                     object_id=order.id, before=order.light, after=str(light),
                     department_id=order.department_id, breach_count=order.breach_count)
    order.light = str(light)


_TOUCHED = "jiefen.work_orders_written"


@event.listens_for(Session, "before_flush")
def _note_orders(session: Session, _context: object, _instances: object) -> None:
    """Remember which work orders a unit of work wrote (their light may have moved)."""
    written = [o for o in (*session.new, *session.dirty) if isinstance(o, WorkOrder)]
    if written:
        session.info.setdefault(_TOUCHED, set()).update(id(o) for o in written)


def refresh_lights(uow: UnitOfWork, case: Case, *, changed_only: bool = False) -> dict[int, Light]:
    """Recompute the lights of the work orders of a case (after any change to the case); its
    orders, watch rows and 督办单 are read together once per transaction (``case_rows``).
    ``changed_only`` (a step): only the orders whose light can have moved: open ones, ones this
    unit of work changed, ones with a 督办单 unanswered; a finished order's limits are all met,
    so its light is otherwise fixed.

    A step leaves what the projection and the lights changed to the commit's flush, with the
    instance's row (one flush's bookkeeping for the step): an order it changed counts as touched
    whether written yet or not. An order without an id yet is written first."""
    session = uow.session
    orders = list(case_rows.orders(session, case))
    if not changed_only or any(o.id is None for o in orders):
        session.flush()
    touched = session.info.get(_TOUCHED, set()) | {id(o) for o in orders if session.is_modified(o)}
    watches = case_rows.watches(session, case)
    notices = case_rows.notices(session, case)
    if changed_only:
        orders = [o for o in sorted(orders, key=lambda o: o.id) if o.status not in CLOSED or id(o) in touched
                  or o.id not in watches or o.light is None
                  or any(n.replied_at is None for n in notices.get(o.id, []))]
    return {order.id: refresh_order(uow, case, order, (watches, notices)) for order in orders}
