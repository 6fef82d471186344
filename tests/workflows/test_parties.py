"""PartyVault: encryption at rest, blind indexes, masking; purpose-bound, audited unmasking."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.factories import IDS, make_user, seed
from tests.workflows.helpers import deploy_fixture
from workflows.audit.log import AuditAction, AuditLog
from workflows.cases.parties import PartyInput, PartyVault, unmask_party
from workflows.core.errors import InvalidInput, NotPermitted
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Party


def liu() -> PartyInput:
    return PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="138 1234 5678",
                      address="东湖街道锦苑小区3栋402室", vulnerable=["elderly"])


def test_party_values_are_encrypted_indexed_and_masked(services):
    vault = PartyVault.of(services)
    uow = services.new_uow()
    with uow:
        party = vault.new_party(liu())
        uow.session.add(party)
        uow.session.flush()
        row = uow.session.get(Party, party.id)
        stored = " ".join(str(getattr(row, c)) for c in ("name_enc", "id_number_enc",
                                                          "phone_enc", "address_enc"))
        assert "刘淑芬" not in stored and IDS["刘淑芬"] not in stored and "13812345678" not in stored
        assert row.masked == {"name": "刘**", "id_number": "1101**********0020",
                              "phone": "138****5678", "address": "东湖街道" + "*" * 10}
        assert vault.reveal(row)["phone"] == "13812345678"
        assert [p.id for p in vault.find(uow.session, phone="+86 13812345678")] == [party.id]
        assert [p.id for p in vault.find(uow.session, id_number=IDS["刘淑芬"])] == [party.id]
        assert vault.find(uow.session, phone="13900000000") == []


def test_bad_id_number_and_phone_are_field_errors():
    with pytest.raises(InvalidInput) as caught:
        PartyVault.clean(PartyInput(name="", id_number="110101196203150021", phone="12345"),
                         prefix="parties-0-")
    assert set(caught.value.field_errors) == {"parties-0-name", "parties-0-id_number",
                                              "parties-0-phone"}
    assert "110101196203150021" not in str(caught.value)


def _case_with_party(services):
    seed(services)
    deploy_fixture(services, "simple.bpmn")
    clerk = make_user(services, "intake_clerk", "ZZ")
    outcome = submit_intake(services.new_uow(), clerk, IntakeRequest(
        channel="counter", category="neighbour", description="楼上漏水", parties=[liu()]),
        process_id="simple")
    uow = services.new_uow()
    with uow:
        party_id = uow.session.scalars(select(Party.id)).one()
    return clerk, outcome.case_no, party_id


def _events(services, action):
    uow = services.new_uow()
    with uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id))
        return [{"object_id": r.object_id, "payload": r.payload, "chain": r.chain_key}
                for r in rows]


def test_unmask_needs_a_purpose_and_is_audited(services):
    clerk, case_no, party_id = _case_with_party(services)
    with pytest.raises(InvalidInput):
        unmask_party(services.new_uow(), clerk, party_id, "curious", case_no=case_no)
    values = unmask_party(services.new_uow(), clerk, party_id, "contact", case_no=case_no,
                          reason="电话联系")
    assert values["name"] == "刘淑芬"
    [event] = _events(services, AuditAction.PARTY_UNMASKED)
    assert event['object_id'] == party_id and '"purpose":"contact"' in event['payload']
    assert "13812345678" not in event['payload'] and "刘淑芬" not in event['payload']


def test_unmask_outside_scope_is_denied_and_audited(services):
    _clerk, case_no, party_id = _case_with_party(services)
    other = make_user(services, "dept_handler", "RS")
    with pytest.raises(NotPermitted):
        unmask_party(services.new_uow(), other, party_id, "contact", case_no=case_no)
    [event] = _events(services, AuditAction.ACCESS_DENIED)
    assert "unmask" in event['payload'] or "scope" in event['payload']
    assert _events(services, AuditAction.PARTY_UNMASKED) == []


def test_unmask_fails_closed_when_the_audit_cannot_be_written(services, monkeypatch):
    clerk, case_no, party_id = _case_with_party(services)

    def broken(self):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(AuditLog, "append_pending", broken)
    with pytest.raises(RuntimeError):
        unmask_party(services.new_uow(), clerk, party_id, "contact", case_no=case_no)
