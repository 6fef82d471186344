"""Case-file export: self-contained HTML, canonical JSON that verifies offline, tamper detection."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.crypto import Keyring
from engine.models import AuditEvent
from tests.audit_support import deploy, run_joint_case
from workflows.core.actors import Actor
from workflows.replay.export import build_export, export_bytes, export_case, sign, verify_export
from workflows.replay.export_words import Words
from workflows.replay.history import HistoryEntry

AUDITOR = Actor(type="user", id="9", username="auditor1", roles=frozenset({"auditor"}))


@pytest.fixture
def exported(services):
    deploy(services, "audit_joint.bpmn")
    driver = run_joint_case(services)
    content, html = export_case(services, "TEST-J-001", AUDITOR)
    return driver, content, html


def test_export_verifies_offline_with_the_keys_only(exported, keyring):
    _, content, _ = exported

    check = verify_export(content, keyring)

    assert check.ok, str(check)
    doc = json.loads(content)
    assert check.events == len(doc["events"]) == doc["head"]["seq"]
    assert doc["key_ids"] == [keyring.primary_id("audit_hmac")]
    assert str(check).startswith("OK case TEST-J-001")


def test_export_is_audited(services, exported):
    driver, content, _ = exported
    with services.session_factory() as session:
        last = session.scalars(select(AuditEvent).where(
            AuditEvent.chain_key == f"case:{driver.case_id}").order_by(AuditEvent.seq.desc())).first()
    assert last.action == "case_exported" and last.actor_id == "9"
    assert json.loads(last.payload)["events"] == len(json.loads(content)["events"])


def test_every_single_byte_change_fails(exported, keyring):
    _, content, _ = exported
    # flip one byte at many places: inside payloads, hashes, header fields, structure
    positions = range(0, len(content), max(1, len(content) // 300))
    for position in positions:
        altered = bytearray(content)
        altered[position] = altered[position] ^ 0x01
        check = verify_export(bytes(altered), keyring)
        assert not check.ok, f"byte {position} changed but the export still verified"


def test_changed_payload_names_the_event_even_when_re_signed(exported, keyring):
    _, content, _ = exported
    doc = json.loads(content)
    target = next(e for e in doc["events"] if e["action"] == "task_completed")
    target["payload"] = target["payload"].replace("386000", "1")
    resigned = export_bytes(sign({k: v for k, v in doc.items() if k != "mac"}, keyring))

    check = verify_export(resigned, keyring)

    assert not check.ok and check.seq == target["seq"]
    assert "hash mismatch" in check.reason


def test_broken_utf8_fails_cleanly(exported, keyring):
    _, content, _ = exported
    position = content.index("分流".encode())
    altered = content[:position] + b"\xff" + content[position + 1:]

    assert "not valid JSON" in verify_export(altered, keyring).reason


def test_removed_event_is_a_gap(exported, keyring):
    _, content, _ = exported
    doc = json.loads(content)
    del doc["events"][3]
    resigned = export_bytes(sign({k: v for k, v in doc.items() if k != "mac"}, keyring))

    check = verify_export(resigned, keyring)

    assert not check.ok and check.seq == 4


def test_another_keyring_cannot_verify(exported, tmp_path):
    _, content, _ = exported
    other = Keyring.generate(tmp_path / "other-keys.json")

    assert not verify_export(content, other).ok


def test_html_report_is_self_contained(exported):
    _, content, html = exported

    assert "案卷审计报告 · TEST-J-001" in html
    assert "定时器触发" in html and "收到消息" in html and "提交表单" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3", "")
    assert "<link" not in html and "src=" not in html
    assert "386000" in html  # the submitted amount appears as data before → after


def test_build_export_without_recording(services):
    deploy(services, "simple.bpmn")
    from tests.audit_support import CaseDriver

    CaseDriver(services, "TEST-S-EXP", "simple").open()
    doc = build_export(services, "TEST-S-EXP", AUDITOR)
    assert doc["verified_at_export"]["ok"]
    assert verify_export(export_bytes(doc), services.keyring).ok


def _cells(html: str, column: int) -> list[str]:
    """The text of one column of the report's event table, a cell a line."""
    table = html.split("<h2>事件记录</h2>", 1)[1]
    rows = re.findall(r"<tr>\n(.*?)</tr>", table, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cells[column]).split()) for cells in
            (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows)]


def test_the_report_names_actors_and_data_in_words(exported):
    """Who acted is a person or the system's kind in words (never user/system/scheduler), and
    no changed value reads as a Python or JSON literal."""
    _, _, html = exported
    actors, changes = _cells(html, 2), _cells(html, 5)

    assert "定时任务" in actors and "系统" in actors
    assert [c for c in _cells(html, 0) if re.search(r"[a-z]", c)] == []   # 系统链, not system
    assert not [a for a in actors if re.search(r"\b(user|api|system|scheduler|replay)\b", a)]
    assert "导出人 auditor1" in " ".join(html.split())
    assert not [c for c in changes if re.search(r"[\[\]{}]|\b(True|False|None|true|false)\b", c)]
    details = _cells(html, 4)
    # the shipped messages read in words; one only this test process sends has none to read
    assert [d for d in details if re.search(r"\b[a-z_]{3,}\b", d)] == ["party_reply"]


def test_values_read_in_words():
    history = {"labels": {"co_departments": "协办部门", "plan": "办理安排", "due": "履行期限",
                          "urgency": "紧急程度", "joint": "联合办理"},
               "options": {"urgency": {"urgent": "紧急"}},
               "units": {"ZJ": "区住建局", "FY": "区人民法院"}}
    words = Words(history, {"mediator": "调解员"})

    assert words.value("co_departments", ["ZJ", "FY"]) == "区住建局、区人民法院"
    assert words.value("plan", {"due": "statutory_days(7)", "urgency": "urgent", "joint": True}) \
        == "履行期限：7日\n紧急程度：紧急\n联合办理：是"
    assert [words.value("x", v) for v in ("false", 1, None, [], "PT24H", "working_days(2)")] \
        == ["否", "1", "—", "—", "24小时", "2个工作日"]
    assert words.value("parties", ["3f1c2b4a-1111-4222-8333-944455556666"]) == "1 项（内部编号）"
    assert words.value("category", "neighbour") == "邻里纠纷"
    assert words.value("signed_at", "2025-03-03T01:30:00Z") == "2025-03-03 09:30"


def test_actor_kinds_read_in_words():
    words = Words({}, {"mediator": "调解员"})

    def entry(actor_type: str, name: str, role: str | None = None) -> HistoryEntry:
        return HistoryEntry(1, "case:1", datetime.now(UTC), "x", "other", "", "", actor_type,
                            name, name, role, None, "", {}, unit="东湖街道人民调解委员会")

    assert words.actor(entry("scheduler", "scheduler")) == "定时任务"
    assert words.actor(entry("system", "system")) == "系统"
    assert words.actor(entry("api", "12345热线")) == "12345热线"
    assert words.acting_as(entry("user", "张秀兰", "mediator")) == "调解员 · 东湖街道人民调解委员会"
    assert words.acting_as(entry("system", "system", "system")) == "东湖街道人民调解委员会"
    assert (words.chain("system"), words.chain("outbox")) == ("系统链", "通知记录")


def test_messages_and_notices_sent_read_in_words():
    words = Words({}, {})

    def entry(action: str, detail: str, payload: dict) -> HistoryEntry:
        return HistoryEntry(None, "outbox", datetime.now(UTC), action, "notification", "", detail,
                            "system", None, "outbox", None, None, "", payload)

    sent = entry("notification_sent", "sms · supervision_notice → department",
                 {"channel": "sms", "template": "supervision_notice",
                  "recipient_type": "department"})
    assert words.detail(sent) == "短信 · 督办通知 → 单位"
    assert words.detail(entry("message_received", "rating", {})) == "满意度评价"
