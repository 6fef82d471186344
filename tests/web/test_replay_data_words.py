"""The auditor's pages say the real dispute flow in words: the replay's data panel names every
field — the data the product writes itself (case number, party ids, the sign-off limit's
instants, the co-units' answers) as well as the forms' — and shows an instant in local time,
never as the engine keeps it; the history names a step without a name by its kind and a sent
notification by its channel, notice and recipient."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.bpmn.test_services_general import handle_to_review, local, registered
from tests.factories import Walk
from tests.second_factor_support import enrol_if_required
from tests.web.conftest import PASSWORD, login
from tests.web.test_pages_in_words import visible_text
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.models import Case
from workflows.notify.delivery import deliver_pending
from workflows.people import admin

CODE = re.compile(r"[A-Za-z0-9_]+")
ENGINE_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def walked(services, clock) -> Walk:
    """A noise case signed off, dispatched jointly, worked by the co-unit and sent to review."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    handle_to_review(walk)
    return walk


@pytest.fixture
def auditor(services, settings, walked):
    admin.create_user(services.new_uow(), SYSTEM, username="auditor_words", password=PASSWORD,
                      roles=["auditor"], display_name="审计员")
    enrol_if_required(services, "auditor_words", ["auditor"])
    client = create_app(settings, services=services).test_client()
    assert login(client, "auditor_words").status_code == 302
    return client


def test_every_step_names_its_data_in_words_and_times_in_local_time(auditor, services, walked):
    with services.session_factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_no == walked.case_no))
        last = session.scalar(select(func.max(AuditEvent.seq))
                              .where(AuditEvent.chain_key == f"case:{case_id}"))
    rows: dict[str, str] = {}
    for seq in range(1, last + 1):
        state = auditor.get(f"/audit/cases/{walked.case_no}/steps/{seq}.json").get_json()
        rows.update({row["label"]: row["text"] for row in state["data"]})
    assert [label for label in rows if CODE.fullmatch(label)] == []
    assert [(label, text) for label, text in rows.items() if ENGINE_INSTANT.search(text)] == []
    assert rows["案件编号"] == walked.case_no
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows["签收到期时刻"])
    assert rows["来件时间"] == "2025-03-03 09:00"
    assert rows["各协办部门签收意见"] == "签收"


def test_the_history_names_unnamed_steps_by_kind_and_notifications_in_words(auditor, services,
                                                                              walked):
    deliver_pending(services)
    page = auditor.get(f"/audit/cases/{walked.case_no}").get_data(as_text=True)
    rows = [visible_text("<tr" + row) for row in page.split("<tbody")[1].split("<tr")[1:]]
    sent = [row for row in rows if "通知已发送" in row]
    assert sent and all("→" in row and not re.search(r"[a-z]+_[a-z_]+|\b(?:file|sms|user|party|"
                                                       r"department|outbox)\b", row)
                        for row in sent), sent
    assert "通知记录" in sent[0]
    states = [row.split("任务状态变化", 1)[1] for row in rows if "任务状态变化" in row]
    # every element the flow passed is named, by its name or, when it has none, by its kind
    assert states and not [row for row in states if re.search(r"[a-z]+_[a-z_]+", row)], states
