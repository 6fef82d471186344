"""Outbox delivery: retries with back-off, order per recipient, nothing lost or sent twice."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from tests.workflows import sched_support as S
from tests.workflows.gateway import Gateway
from workflows.models import CallTask, Case, Party
from workflows.notify import delivery as N
from workflows.notify.channels import FileChannel, SmsGatewayChannel


@pytest.fixture
def sms(services, tmp_path):
    """Services whose citizens get SMS through a local gateway (set ``gateway`` per test)."""
    services.settings = dataclasses.replace(services.settings, notify_channels=("file", "sms"))
    services.channels["file"] = FileChannel(tmp_path / "messages.jsonl")
    return services


def _case(services) -> int:
    return S.case(services)


def _enqueue(services, case_id: int, party_id: str, template: str, key: str) -> None:
    with services.new_uow() as uow:
        person = uow.session.get(Party, party_id)
        case = uow.session.get(Case, case_id)
        N.notify_party(uow, case, person, template=template,
                       params={"case_no": case.case_no, "stage": key}, key=key)
        uow.commit()


def _rows(services) -> list[OutboxMessage]:
    with services.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_failing_gateway_is_retried_in_order_and_nothing_is_lost_or_sent_twice(sms, clock):
    case_id = _case(sms)
    first, second = S.party(sms, phone="13800000001"), S.party(sms, phone="13800000002")
    _enqueue(sms, case_id, first, "receipt", "a1")
    _enqueue(sms, case_id, first, "progress", "a2")
    _enqueue(sms, case_id, second, "receipt", "b1")
    with Gateway(fail_first=3) as gateway:
        sms.channels["sms"] = SmsGatewayChannel(gateway.url, "tok")
        report = N.deliver_pending(sms)
        assert (report.sent, report.failed, report.held) == (0, 2, 1)
        clock.advance(minutes=1)
        report = N.deliver_pending(sms)          # first's 1st message fails again, second's goes
        assert (report.sent, report.failed) == (1, 1)
        clock.advance(minutes=2)
        report = N.deliver_pending(sms)
        assert report.sent == 2
        assert N.deliver_pending(sms).sent == 0
    rows = _rows(sms)
    assert [r.status for r in rows] == ["sent", "sent", "sent"]
    assert [r.attempts for r in rows] == [3, 1, 2]
    assert len(gateway.requests) == 6 and len(gateway.delivered) == 3
    to_first = [r["key"] for r in gateway.requests if r["to"] == "13800000001" and r["key"]
                in gateway.delivered]
    assert to_first[-2:] == [f"jiefen-outbox-{rows[0].id}", f"jiefen-outbox-{rows[1].id}"]
    assert all(r["auth"] == "Bearer tok" for r in gateway.requests)
    assert "JF-2025" in gateway.delivered[f"jiefen-outbox-{rows[2].id}"]["text"]


def test_a_lost_acknowledgement_resends_with_the_same_idempotency_key(sms, clock):
    case_id = _case(sms)
    _enqueue(sms, case_id, S.party(sms), "receipt", "k")
    with Gateway(lose_acks=1) as gateway:
        sms.channels["sms"] = SmsGatewayChannel(gateway.url, "tok")
        assert N.deliver_pending(sms).failed == 1
        clock.advance(minutes=1)
        assert N.deliver_pending(sms).sent == 1
    keys = [r["key"] for r in gateway.requests]
    assert len(keys) == 2 and len(set(keys)) == 1   # same key twice: the gateway sends one SMS
    assert len(gateway.delivered) == 1


def test_after_eight_failures_the_message_is_dead_and_audited(sms, clock):
    case_id = _case(sms)
    _enqueue(sms, case_id, S.party(sms), "receipt", "k")
    waits = []
    with Gateway(fail_first=100) as gateway:
        sms.channels["sms"] = SmsGatewayChannel(gateway.url, "tok")
        for _ in range(8):
            N.deliver_pending(sms)
            row = _rows(sms)[0]
            if row.next_attempt_at is not None:
                waits.append(row.next_attempt_at - clock.now())
                clock.set(row.next_attempt_at)
    assert [w // timedelta(minutes=1) for w in waits] == [1, 2, 4, 8, 16, 32, 60]
    row = _rows(sms)[0]
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 8, None)
    failed = S.events(sms, "outbox_failed", case_id)
    assert len(failed) == 1 and json.loads(failed[0].payload)["attempts"] == 8
    assert len(gateway.requests) == 8
    assert N.undelivered(sms.session_factory(), clock.now())[0]["status"] == "dead"


def test_a_dead_message_can_be_requeued_by_an_admin(sms, clock):
    from workflows.core.actors import SYSTEM

    case_id = _case(sms)
    _enqueue(sms, case_id, S.party(sms, phone=None), "receipt", "k")
    with Gateway() as gateway:
        sms.channels["sms"] = SmsGatewayChannel(gateway.url, "tok")
        assert N.deliver_pending(sms).dead == 1     # no phone number: retrying cannot help
        assert gateway.requests == []
    N.retry_dead(sms.new_uow(), SYSTEM, _rows(sms)[0].id)
    assert _rows(sms)[0].status == "pending"
    assert len(S.events(sms, "outbox_retried", case_id)) == 1


def test_backoff_doubles_from_one_minute_and_is_capped_at_one_hour():
    assert [N.backoff(n) // timedelta(minutes=1) for n in (1, 2, 3, 6, 7, 8)] == [1, 2, 4, 32,
                                                                                   60, 60]


def test_citizen_preferring_the_phone_gets_a_call_task(services, clock):
    case_id = _case(services)
    _enqueue(services, case_id, S.party(services, preference="phone"), "reply", "k")
    assert _rows(services)[0].channel == "phone"
    assert N.deliver_pending(services).sent == 1
    with services.session_factory() as session:
        task = session.scalars(select(CallTask)).one()
    assert (task.case_id, task.reason, task.status) == (case_id, "reply", "open")


def test_without_sms_configured_the_file_channel_carries_the_message(services, tmp_path):
    services.channels["file"] = FileChannel(tmp_path / "out.jsonl")
    case_id = _case(services)
    _enqueue(services, case_id, S.party(services), "receipt", "k")
    assert N.deliver_pending(services).sent == 1
    [line] = services.channels["file"].lines()
    assert line["template"] == "receipt" and "已受理" in line["body"]
    assert line["address"] is None and "13800138000" not in json.dumps(line)


def test_an_sms_row_without_a_gateway_goes_to_the_file_channel(services, tmp_path):
    services.channels["file"] = FileChannel(tmp_path / "out.jsonl")
    case_id = _case(services)
    with services.new_uow() as uow:   # the shipped processes queue by preference
        uow.outbox.add(channel="sms", recipient_type="party", recipient_id=S.party(services),
                       template="receipt", params={"case_no": "JF-1"}, dedupe_key="k",
                       case=case_id)
        uow.commit()
    assert N.deliver_pending(services).sent == 1
    [line] = services.channels["file"].lines()
    assert (line["channel"], line["address"]) == ("sms", None)


def test_a_rolled_back_step_sends_nothing(services):
    case_id = _case(services)
    person = S.party(services)
    with services.new_uow() as uow:
        N.notify_party(uow, uow.session.get(Case, case_id), uow.session.get(Party, person),
                       template="receipt", params={}, key="x")
        # no commit: the step failed
    assert _rows(services) == []
    assert N.deliver_pending(services).sent == 0


def test_the_same_notification_is_queued_once(services):
    case_id = _case(services)
    person = S.party(services)
    for _ in range(2):
        _enqueue(services, case_id, person, "receipt", "same")
    assert len(_rows(services)) == 1


def test_templates_substitute_plain_placeholders_only():
    subject, body = N.render("sla_reminder", {"case_no": "{due}", "limit": "签收时限", "due": "x"})
    assert body.startswith("【催办】案件 {due} 的签收时限")   # values are never re-expanded
    _, attack = N.render("unknown_{case_no.__class__}", {"case_no": "JF-1"})
    assert "{case_no.__class__}" in attack and "class 'str'" not in attack


def test_delivery_state_is_visible_per_case(services):
    case_id = _case(services)
    _enqueue(services, case_id, S.party(services, preference="none"), "receipt", "k")
    _enqueue(services, case_id, S.party(services), "receipt", "k")
    N.deliver_pending(services)
    with services.session_factory() as session:
        state = N.delivery_state(session, case_id)
    assert [(s["channel"], s["status"], s["attempts"]) for s in state] == [("file", "sent", 1)]


def test_smtp_channel_sends_the_rendered_message_with_a_stable_message_id():
    from email import message_from_string
    from email.header import decode_header, make_header

    from tests.workflows.gateway import SmtpSink
    from workflows.notify.channels import PermanentFailure, RenderedMessage, SmtpChannel

    message = RenderedMessage(7, "email", "user", "3", "liaison@example.org",
                              *N.render("receipt", {"case_no": "JF-2025-000007"}), None, "receipt")
    with SmtpSink() as sink:
        channel = SmtpChannel("127.0.0.1", sink.port, sender="jiefen@example.org", starttls=False)
        channel.send(message)
        with pytest.raises(PermanentFailure):
            channel.send(dataclasses.replace(message, address=None))
    [raw] = sink.messages
    email = message_from_string(raw)
    assert email["Message-ID"] == "<jiefen-outbox-7@jiefen>"
    assert str(make_header(decode_header(email["Subject"]))) == "【解纷】受理回执"
    assert "JF-2025-000007" in email.get_payload(decode=True).decode("utf-8")
