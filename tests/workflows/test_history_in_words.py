"""The case history and the case-file report say in words who mediates, in which room, and what
a work-order change, a risk change, a 督办单 and a red flag were: the mediator by name (never a
user id or account), the room by its name (never its code), a unit by its name, statuses,
colours, the notice's rung and the flags by their words."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime

from sqlalchemy import update

from tests.bpmn.test_services_mediation import c01  # noqa: F401 (fixture)
from tests.workflows.test_mediation_sessions import ready  # noqa: F401 (fixture)
from workflows.audit.log import AuditAction
from workflows.casework.events import report_risk
from workflows.core.actors import Actor
from workflows.deadlines import case_panel
from workflows.models import User
from workflows.replay.engine import RecordedEvent
from workflows.replay.export import export_case
from workflows.replay.history import case_history, describe

AUDITOR = Actor(type="user", id="9", username="auditor1", roles=frozenset({"auditor"}))


def named_mediator(services, walk) -> Actor:
    """The case's mediator, with a person's name (test users are named by their account)."""
    mediator = walk.user("mediator", "JDTJ")
    with services.session_factory() as session:
        session.execute(update(User).where(User.id == int(mediator.id))
                        .values(display_name="张秀兰"))
        session.commit()
    return mediator


def rows(html: str) -> list[list[str]]:
    """The report's event table: a row a list of its cells' text."""
    table = html.split("<h2>事件记录</h2>", 1)[1]
    return [[" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>\n(.*?)</tr>", table, re.S)]


def test_the_report_names_mediator_room_units_and_what_changed(services, ready):  # noqa: F811
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    mediator = named_mediator(services, ready)
    report_risk(services.new_uow(), ready.user("intake_clerk", "ZZ"), case_no=ready.case_no,
                level="orange", reason="双方争执升级")
    assert case_panel.issue_notice(services.new_uow(), ready.user("supervisor", "ZZ"),
                                   case_no=ready.case_no, level="1", reason="三天未见进展")

    _, html = export_case(services, ready.case_no, AUDITOR)
    table = rows(html)
    changes = " ".join(row[5] for row in table)
    assert "调解员：— → 张秀兰" in changes
    assert "调解室（现场调解必选）：— → 调解室A" in changes
    assert mediator.username not in changes and f"→ {mediator.id} " not in f"{changes} "
    assert "→ A " not in f"{changes} "
    # the risk the clerk reported, as the process keeps it: its colour in words
    assert "风险上报：— → 橙色" in changes and "orange" not in changes
    # 内容 of the events that only carry codes: never empty, never a code
    content = {(row[3], row[4]) for row in table}
    orders = [text for title, text in content if title == "工单变更"]
    assert orders and all(re.fullmatch(r"\S+（(牵头|协办)）：\S+ → \S+", text) for text in orders)
    assert any(text.endswith("：待签收 → 已签收") for text in orders)
    assert ("风险等级变更", "风险等级：蓝色 → 橙色") in content
    supervision = [text for title, text in content if title == "督办"]
    assert supervision and all(text.startswith("督办单 → ") for text in supervision)
    assert not [text for title, text in content
                if title in ("工单变更", "风险等级变更", "督办") and re.search(r"[A-Za-z]", text)]


def test_the_audit_history_gathers_the_same_names(services, ready):  # noqa: F811
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    mediator = named_mediator(services, ready)
    history = case_history(services, ready.case_no)
    assert history["options"]["room_code"] == {"A": "调解室A"}
    assert history["options"]["mediator_id"] == {mediator.id: "张秀兰"}


def event(action: str, **payload) -> RecordedEvent:
    return RecordedEvent(seq=1, action=action, occurred_at=datetime(2025, 3, 3, tzinfo=UTC),
                         payload=payload)


def test_coded_events_read_in_words():
    units = {"7": "区人社局"}
    assert describe(event(AuditAction.WORK_ORDER_CHANGED, department_id=7, role="co",
                          before="accepted", after="done"), units=units) \
        == "区人社局（协办）：已签收 → 已办结"
    assert describe(event(AuditAction.RISK_CHANGED, before="yellow", after="red"), units=units) \
        == "风险等级：黄色 → 红色"
    assert describe(event(AuditAction.RISK_CHANGED, reported="orange", after="red",
                          trigger="reported"), units=units) == "上报橙色风险，现为红色"
    assert describe(event(AuditAction.SUPERVISION_ISSUED, level=1, kind="supervision",
                          source="sla:handling", department_id=7), units=units) \
        == "督办单 → 区人社局（办理时限）"
    assert describe(event(AuditAction.SUPERVISION_ISSUED, level=3, kind="leadership",
                          source="legal:T-25"), units=units) == "领导包案"
    assert describe(event(AuditAction.RED_FLAG_RAISED, flags=["threat", "gathering"])) \
        == "须人工复核：扬言威胁、聚集上访"
    assert describe(event(AuditAction.RED_FLAG_REVIEWED, outcome="dismissed",
                          flags=["road_block"])) == "排除风险：堵路堵门"


def test_a_sessions_events_read_in_words(services, ready):  # noqa: F811
    """Booked, attended: the history says when, how and who took part, not codes or instants."""
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    ready.attend(applicant_attendance="in_person", respondent_attendance="absent")
    lines = {e.action: e.detail for e in case_history(services, ready.case_no)["entries"]}
    assert lines[AuditAction.SESSION_BOOKED] == "现场调解 2025-03-04 09:00—10:30"
    assert lines[AuditAction.SESSION_ATTENDED] == "申请人到场，被申请人缺席"
    assert describe(event(AuditAction.SESSION_RESCHEDULED,
                          before={"mode": "online", "starts_at": "2025-03-04T01:00:00+00:00",
                                  "ends_at": "2025-03-04T02:30:00+00:00"},
                          after={"mode": "in_person", "starts_at": "2025-03-05T06:00:00+00:00",
                                 "ends_at": "2025-03-05T07:00:00+00:00"})) \
        == "改为 现场调解 2025-03-05 14:00—15:00（原 线上调解 2025-03-04 09:00—10:30）"
