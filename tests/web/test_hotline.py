"""12345 work orders pushed to /api/v1/channels/hotline_12345/orders: signatures (good, bad,
replayed, clock skew, rotated secrets), mapping, quarantine and completing it, idempotency."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.crypto import field_aad
from engine.models import OutboxMessage
from tests.cli_support import jiefen
from tests.web.conftest import post
from tests.web.test_api import conforms
from workflows.channels import mapping, quarantine
from workflows.channels.signing import issue_secret, sign
from workflows.core.actors import SYSTEM
from workflows.intake.register import IntakeRequest
from workflows.models import Case, ChannelOrder, Interface, OrderStatus, Party

PATH = "/api/v1/channels/hotline_12345/orders"


@pytest.fixture
def secret(services, process):
    mapping.save_mapping(services.new_uow(), SYSTEM, "hotline_12345", "物业服务", "property")
    return issue_secret(services.new_uow(), SYSTEM, "hotline_12345")


def order(services, order_no: str = "12345-20250704-0038", **changes) -> dict:
    body = {"order_no": order_no,
            "received_at": (services.clock.now() - timedelta(hours=1)).isoformat(),
            "category_text": "物业服务", "content": "小区电梯停运两周，物业不予维修。",
            "caller": {"name": "周海燕", "phone": "13912345678"}, "address": "锦绣家园3栋"}
    return {**body, **changes}


def push(client, services, secret: str, body: dict | bytes, *, at=None, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int((at or services.clock.now()).timestamp()))
    return client.post(PATH, data=raw, content_type="application/json", headers={
        "X-Jiefen-Timestamp": stamp,
        "X-Jiefen-Signature": signature or sign(secret, stamp, raw)})


def count(services, model) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_a_signed_order_becomes_a_case_once(client, services, secret):
    first = push(client, services, secret, order(services))
    assert first.status_code == 201, first.get_data(as_text=True)
    answer = conforms(first, PATH, "post")
    assert answer["linked_as"] == "new" and answer["case_no"].startswith("JF-")
    # the hotline retries: the same order number answers the same and creates nothing
    again = push(client, services, secret, order(services))
    assert again.status_code == 201 and again.get_json() == answer
    assert count(services, Case) == 1 and count(services, ChannelOrder) == 1
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case)).one()
        assert (case.channel, case.channel_ref, case.category) == (
            "hotline_12345", "12345-20250704-0038", "property")
        callbacks = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "hotline_12345")).all()
        assert [m.template for m in callbacks] == ["callback_accepted"]
        assert callbacks[0].params["case_no"] == case.case_no
        row = uow.session.scalars(select(Interface).where(
            Interface.code == "hotline_12345")).one()
        assert row.status == "connected" and row.last_success_at is not None


def test_bad_replayed_and_skewed_signatures(client, services, secret):
    body = order(services)
    wrong = push(client, services, secret, body, signature="sha256=" + "0" * 64)
    assert wrong.status_code == 401 and wrong.get_json()["reason"] == "bad_signature"
    other = push(client, services, "another-secret", body)
    assert other.status_code == 401
    # a request captured six minutes ago is refused even with its valid signature
    old = push(client, services, secret, body, at=services.clock.now() - timedelta(minutes=6))
    assert old.status_code == 401 and old.get_json()["reason"] == "stale_timestamp"
    ahead = push(client, services, secret, body, at=services.clock.now() + timedelta(minutes=6))
    assert ahead.status_code == 401
    unsigned = client.post(PATH, json=body)
    assert unsigned.status_code == 401 and unsigned.get_json()["reason"] == "missing_signature"
    assert count(services, Case) == 0 and count(services, ChannelOrder) == 0
    # two minutes of clock skew either way is tolerated
    skewed = push(client, services, secret, body, at=services.clock.now() + timedelta(minutes=2))
    assert skewed.status_code == 201
    with services.new_uow() as uow:
        row = uow.session.scalars(select(Interface).where(
            Interface.code == "hotline_12345")).one()
        assert row.last_failure_reason.startswith("signature:")


def test_a_tampered_body_is_refused(client, services, secret):
    raw = json.dumps(order(services), ensure_ascii=False).encode()
    stamp = str(int(services.clock.now().timestamp()))
    tampered = raw.replace("周海燕".encode(), "李四".encode())
    response = client.post(PATH, data=tampered, content_type="application/json", headers={
        "X-Jiefen-Timestamp": stamp, "X-Jiefen-Signature": sign(secret, stamp, raw)})
    assert response.status_code == 401


def test_the_old_secret_works_for_the_grace_period_only(client, services, secret, clock):
    new = issue_secret(services.new_uow(), SYSTEM, "hotline_12345")
    assert new != secret
    assert push(client, services, secret, order(services, "A-1")).status_code == 201
    assert push(client, services, new, order(services, "A-2")).status_code == 201
    clock.advance(hours=services.settings.channel_secret_grace_hours, minutes=1)
    assert push(client, services, secret, order(services, "A-3")).status_code == 401
    assert push(client, services, new, order(services, "A-4")).status_code == 201


def test_cli_prints_a_new_secret_once(committed_services, settings, tmp_path):
    # the command commits through its own connection: a database of its own, not the rolled-back
    # one the other tests of this worker share
    services = committed_services
    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path), "DATABASE_URL": services.settings.database}
    result = jiefen(env, "channel", "secret", "hotline_12345")
    assert result.exit_code == 0, result.stderr
    printed = result.stdout.strip()
    assert len(printed) >= 40
    with services.new_uow() as uow:
        row = uow.session.scalars(select(Interface).where(
            Interface.code == "hotline_12345")).one()
        assert row.secret_enc and printed not in row.secret_enc
        assert services.cipher.decrypt(row.secret_enc,
                                       aad=field_aad("interface", "secret", row.id)) == printed
    unknown = jiefen(env, "channel", "secret", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.stderr


def test_an_unmapped_category_is_quarantined_not_lost(client, services, secret):
    body = order(services, category_text="城市管理")
    first = push(client, services, secret, body)
    assert first.status_code == 202
    assert conforms(first, PATH, "post") == {"quarantined": True, "reason": "unknown_category"}
    assert push(client, services, secret, body).get_json() == first.get_json()
    assert count(services, Case) == 0 and count(services, ChannelOrder) == 1
    with services.new_uow() as uow:
        row = uow.session.scalars(select(ChannelOrder)).one()
        assert row.status == OrderStatus.QUARANTINED
        assert "周海燕" not in row.payload_enc and "周海燕" not in json.dumps(row.mapped,
                                                                             ensure_ascii=False)


def test_missing_caller_is_quarantined_and_a_missing_order_no_refused(client, services, secret):
    missing = push(client, services, secret, order(services, caller={}))
    assert missing.get_json() == {"quarantined": True, "reason": "missing_field"}
    no_number = push(client, services, secret, {**order(services), "order_no": ""})
    assert no_number.status_code == 422
    assert no_number.get_json()["fields"]["order_no"]["code"] == "bad_order_no"


def test_personal_data_in_the_content_is_masked_not_refused(client, services, secret):
    body = order(services, content="业主周海燕（13912345678）反映电梯停运，身份证310101196306060025。")
    response = push(client, services, secret, body)
    assert response.status_code == 201
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case)).one()
        narrative = services.cipher.decrypt(
            case.narrative_enc, aad=field_aad("dispute_case", "narrative_enc", case.case_no))
        assert "13912345678" not in narrative and "310101196306060025" not in narrative
        assert "*******5678" in narrative and "电梯停运" in narrative
        assert "12345" in case.summary and "周海燕" not in case.summary
        party = uow.session.scalars(select(Party)).one()
        assert party.masked["phone"].endswith("5678")


def test_a_clerk_completes_a_quarantined_order(client, services, secret, users, as_role):
    push(client, services, secret, order(services, category_text="城市管理"))
    clerk = users.actor("intake_clerk")
    listed = quarantine.quarantined(services.new_uow(), clerk)
    assert listed["total"] == 1
    entry = listed["orders"][0]
    assert entry["reason"] == "unknown_category" and entry["caller"] == "周**"
    values = quarantine.prefill(services.new_uow(), clerk, entry["id"])
    assert values["parties-0-name"] == "周海燕" and values["channel_ref"] == entry["order_no"]
    assert values["location-address"] == "锦绣家园3栋" and "category" not in values
    request = IntakeRequest(channel="", category="property", description=values["description"],
                            summary=values["summary"], parties=[],
                            received_at=services.clock.now() - timedelta(hours=1))
    from workflows.cases.parties import PartyInput

    request.parties = [PartyInput(name=values["parties-0-name"], phone=values["parties-0-phone"])]
    outcome = quarantine.complete_order(services, clerk, entry["id"], request)
    assert outcome.kind == "new"
    assert quarantine.quarantined(services.new_uow(), clerk)["total"] == 0
    # the hotline's retry now gets the case
    again = push(client, services, secret, order(services, category_text="城市管理"))
    assert again.status_code == 201 and again.get_json()["case_no"] == outcome.case_no
    with services.new_uow() as uow:
        row = uow.session.scalars(select(ChannelOrder)).one()
        assert row.status == OrderStatus.RESOLVED and row.resolved_by is not None
        case = uow.session.get(Case, row.case_id)
        assert (case.channel, case.channel_ref) == ("hotline_12345", row.order_no)


def test_the_quarantine_page_opens_the_prefilled_intake_form(client, services, secret, as_role):
    push(client, services, secret, order(services, category_text="城市管理"))
    page = as_role("intake_clerk").get("/channels/quarantine")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "12345-20250704-0038" in text and "周**" in text
    assert "周海燕" not in text
    with services.new_uow() as uow:
        order_id = uow.session.scalars(select(ChannelOrder.id)).one()
    form = client.get(f"/cases/new?order={order_id}").get_data(as_text=True)
    assert 'value="周海燕"' in form and "锦绣家园3栋" in form
    assert f'name="channel_order" value="{order_id}"' in form
    data = {"channel_order": str(order_id), "channel": "hotline_12345",
            "channel_ref": "12345-20250704-0038", "category": "property", "urgency": "general",
            "people_count": "1", "summary": "12345 工单 12345-20250704-0038",
            "description": "小区电梯停运两周，物业不予维修。", "parties-0-role": "applicant",
            "parties-0-kind": "person", "parties-0-name": "周海燕",
            "parties-0-phone": "13912345678", "location-address": "锦绣家园3栋",
            "location-pick": "none", "action": "save"}
    saved = post(client, "/cases/new", data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert "/receipt" in saved.headers["Location"]
    listed = client.get("/channels/quarantine").get_data(as_text=True)
    assert "12345-20250704-0038" not in listed
    # a second clerk's stale link leads back to the list with a word, not to an error page
    stale = client.get(f"/cases/new?order={order_id}")
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/channels/quarantine")
    assert "已不在待补录列表中" in client.get("/channels/quarantine").get_data(as_text=True)


def test_others_cannot_see_the_quarantine(client, services, secret, as_role):
    assert as_role("dept_handler").get("/channels/quarantine").status_code == 403


def test_the_case_page_names_the_hotline_callback_in_words(client, services, secret, as_role):
    case_no = push(client, services, secret, order(services)).get_json()["case_no"]

    page = as_role("triage_officer").get(f"/cases/{case_no}").get_data(as_text=True)
    panel = page[page.index('data-testid="notifications"'):]
    panel = re.sub(r'data-[a-z-]+="[^"]*"', "", panel[:panel.index("</table>")])

    assert "回告：已受理" in panel and "callback_accepted" not in panel
