"""One source for every SLA light: on the case page, an open work order's light in the order table
and the light of its current step's deadline in the 时限 table are the same, whatever the time
share, and a light the SLA sweep stored on the order (a breached sign-off, an unanswered 督办单)
shows in both."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework.views import case_page
from workflows.models import OpenTask, WorkOrder


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(services, clock) -> Walk:
    """A property case led by 住建局: signed off, citizen contacted, now in handling."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    walk.intake(channel="hotline_12345", category="property", summary="电梯停运",
                description="电梯停运两周", parties=[PartyInput(name="周海燕",
                                                             id_number=IDS["周海燕"])])
    walk.do("register", category="property", urgency="general", people_count="1",
            summary="电梯停运")
    walk.do("sign_off", sign_off_decision="accept")
    clock.advance(hours=20)                  # the order's span starts well before the next step
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已电话联系")
    return walk


def _both(services, walk) -> list[tuple[str, str | None, str | None]]:
    """(step, order table light, deadline table light) for each open order with a step."""
    handler = walk.user("dept_handler", "ZJ")
    page = case_page(services.new_uow(), handler, walk.case_no)
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        steps = {t.task_id: t.name for t in uow.session.scalars(
            select(OpenTask).where(OpenTask.case_id == case.id))}
    out = []
    for order in page.work_orders:
        step = steps.get(order["task_id"])
        if step is None:
            continue
        rows = [r for r in page.deadlines["rows"] if r["task"] == step and r["deadline"]]
        assert rows, f"no deadline row for {step}"
        out.append((step, order["light"], rows[0]["light"]))
    assert out, "an open order with a step"
    return out


def _at_share(services, walk, share: float) -> None:
    """Move the clock to ``share`` of the current step's span."""
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        task = uow.session.scalars(select(OpenTask).where(
            OpenTask.case_id == case.id, OpenTask.due_at.is_not(None))).first()
        walk.clock.set(task.ready_at + (task.due_at - task.ready_at) * share)


@pytest.mark.parametrize("share", [0.1, 0.7, 0.8, 1.01])
def test_the_order_table_and_the_deadline_table_agree_over_time(services, walk, share):
    _at_share(services, walk, share)
    for step, order_light, deadline_light in _both(services, walk):
        assert order_light == deadline_light, (step, share)


@pytest.mark.parametrize("stored", ["yellow", "orange", "red"])
def test_a_light_stored_on_the_order_shows_in_both_tables(services, walk, stored):
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        for order in uow.session.scalars(select(WorkOrder).where(WorkOrder.case_id == case.id)):
            order.light = stored
        uow.commit()
    _at_share(services, walk, 0.1)
    for step, order_light, deadline_light in _both(services, walk):
        assert order_light == deadline_light == stored, step
