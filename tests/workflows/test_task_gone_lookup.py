"""An API caller knows only a task's id: when the task is no longer open, the answer says it went
(409, as any race) rather than that it never existed (404) — also for a department's sign-off that
its deadline cancelled, which leaves no completion event, only the work order that named it."""

from __future__ import annotations

import pytest

from tests.workflows import sched_support as S
from workflows.cases import task_lookup
from workflows.core.actors import SYSTEM
from workflows.core.errors import NotFound, TaskNoLongerAvailable
from workflows.models import WorkOrder


def test_a_sign_off_cancelled_by_its_deadline_is_no_longer_available_and_a_made_up_id_is_not_found(
        services):
    case_id = S.case(services, urgency="urgent", tier="district", category="labour")
    order_id = S.add_order(services, case_id, S.department(services, "RS"))
    with services.new_uow() as uow:
        uow.session.get(WorkOrder, order_id).task_id = "5b0c3c1e-0000-4000-8000-00000000a001"
        uow.commit()

    with pytest.raises(TaskNoLongerAvailable) as gone:
        task_lookup.case_no_of_task(services.new_uow(), SYSTEM, "5b0c3c1e-0000-4000-8000-00000000a001")
    assert gone.value.state == "cancelled"
    with pytest.raises(NotFound):
        task_lookup.case_no_of_task(services.new_uow(), SYSTEM, "5b0c3c1e-0000-4000-8000-00000000ffff")
