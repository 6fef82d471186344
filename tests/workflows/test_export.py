"""Case-file export: self-contained HTML, canonical JSON that verifies offline, tamper detection."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.crypto import Keyring
from engine.models import AuditEvent
from tests.audit_support import deploy, run_joint_case
from workflows.core.actors import Actor
from workflows.replay.export import build_export, export_bytes, export_case, sign, verify_export

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
