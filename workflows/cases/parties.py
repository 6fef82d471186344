"""PartyVault: personal data of parties encrypted at rest, blind-indexed, masked for display.

Task data never holds these values: processes refer to parties by ``party.id`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.crypto import (
    FieldCipher,
    Keyring,
    blind_index,
    field_aad,
    normalize_id_number,
    normalize_phone,
)
from engine.errors import FieldRefused
from workflows.access.policy import Permission, denials_audited, require
from workflows.audit.log import AuditAction
from workflows.cases.field_limits import PARTY_MAX_LENGTH, text_errors
from workflows.cases.lookup import load_case
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.core.masking import mask_fields
from workflows.models import Case, CaseParty, ContactPreference, Party
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

FIELDS = ("name", "id_number", "phone", "address")
CONTACT_PREFERENCES = tuple(str(p) for p in ContactPreference)
VULNERABILITIES = ("elderly", "disabled", "minor")
PURPOSES = {  # purpose codes for revealing personal data
    "contact": "联系当事人",
    "document": "制作文书（调解协议书等）",
    "verify_identity": "核实身份",
    "judicial_confirmation": "司法确认材料",
    "supervision": "督办核查",
}


@dataclass
class PartyInput:
    """What intake captures about one party (plaintext, validated before encryption)."""

    name: str
    role: str = "applicant"
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    contact_preference: str = "phone"
    vulnerable: list[str] = field(default_factory=list)


class PartyVault:
    """Encrypt, index, mask and decrypt party records."""

    def __init__(self, cipher: FieldCipher, keyring: Keyring):
        self.cipher, self.keyring = cipher, keyring

    @classmethod
    def of(cls, services: Services) -> PartyVault:
        return cls(services.cipher, services.keyring)

    # -- validation and indexes -----------------------------------------------------------------
    @staticmethod
    def clean(data: PartyInput, prefix: str = "") -> dict[str, str | None]:
        """Normalized plaintext values; InvalidInput names every bad field (prefixed for forms)."""
        errors: dict[str, FieldError] = {}
        values: dict[str, str | None] = {"name": (data.name or "").strip() or None,
                                         "address": (data.address or "").strip() or None}
        if not values["name"]:
            errors[f"{prefix}name"] = FieldError(FieldCode.REQUIRED)
        for name, normalize in (("id_number", normalize_id_number), ("phone", normalize_phone)):
            raw = (getattr(data, name) or "").strip()
            try:
                values[name] = normalize(raw) if raw else None
            except FieldRefused as exc:
                errors[f"{prefix}{name}"] = exc.error
        if data.contact_preference not in CONTACT_PREFERENCES:
            errors[f"{prefix}contact_preference"] = FieldError(FieldCode.NOT_AN_OPTION)
        if set(data.vulnerable) - set(VULNERABILITIES):
            errors[f"{prefix}vulnerable"] = FieldError(FieldCode.NOT_AN_OPTION)
        errors.update(text_errors(vars(data), PARTY_MAX_LENGTH, prefix))  # before encryption
        if errors:
            raise InvalidInput(errors)
        return values

    def indexes(self, *, phone: str | None = None, id_number: str | None = None) -> dict[str, str]:
        """Blind indexes of the given (already normalized or raw) values."""
        out = {}
        if phone:
            out["phone_bidx"] = blind_index(self.keyring, "phone", phone)
        if id_number:
            out["id_number_bidx"] = blind_index(self.keyring, "id_number", id_number)
        return out

    # -- storage --------------------------------------------------------------------------------
    def new_party(self, data: PartyInput) -> Party:
        """A new encrypted Party row (not yet added to a session)."""
        values = self.clean(data)
        party = Party(contact_preference=data.contact_preference, vulnerable=list(data.vulnerable))
        self._write(party, values)
        return party

    def update(self, party: Party, data: PartyInput) -> list[str]:
        """Re-encrypt changed values; returns the names of the fields that changed."""
        values = self.clean(data)
        before = self.reveal(party)
        changed = [f for f in FIELDS if before.get(f) != values.get(f)]
        self._write(party, values)
        party.contact_preference = data.contact_preference
        party.vulnerable = list(data.vulnerable)
        return changed

    def _write(self, party: Party, values: dict[str, str | None]) -> None:
        for name in FIELDS:
            value = values.get(name)
            column = f"{name}_enc"
            setattr(party, column, None if value is None else self.cipher.encrypt(
                value, aad=field_aad("party", column, party.id)))
        indexes = self.indexes(phone=values.get("phone"), id_number=values.get("id_number"))
        party.phone_bidx = indexes.get("phone_bidx")
        party.id_number_bidx = indexes.get("id_number_bidx")
        party.masked = mask_fields({k: v for k, v in values.items() if v})

    def reveal(self, party: Party) -> dict[str, str | None]:
        """Plaintext values. Callers must be authorised and audited (see ``unmask_party``)."""
        out: dict[str, str | None] = {}
        for name in FIELDS:
            envelope = getattr(party, f"{name}_enc")
            out[name] = None if envelope is None else self.cipher.decrypt(
                envelope, aad=field_aad("party", f"{name}_enc", party.id))
        return out

    @staticmethod
    def view(party: Party, role: str | None = None) -> dict[str, Any]:
        """Masked display values (never decrypts)."""
        masked = dict(party.masked or {})
        return {"id": party.id, "role": role, "name": masked.get("name", ""),
                "id_number": masked.get("id_number"), "phone": masked.get("phone"),
                "address": masked.get("address"), "contact_preference": party.contact_preference,
                "vulnerable": list(party.vulnerable or []), "masked": True}

    def find(self, session: Session, *, phone: str | None = None,
             id_number: str | None = None) -> list[Party]:
        """Parties matching the phone or the ID number exactly (by blind index)."""
        clauses = []
        indexes = self.indexes(phone=phone, id_number=id_number)
        if "phone_bidx" in indexes:
            clauses.append(Party.phone_bidx == indexes["phone_bidx"])
        if "id_number_bidx" in indexes:
            clauses.append(Party.id_number_bidx == indexes["id_number_bidx"])
        if not clauses:
            return []
        return list(session.scalars(select(Party).where(or_(*clauses))))


def case_parties(session: Session, case: Case) -> list[tuple[CaseParty, Party]]:
    """The parties of a case with their links, in registration order."""
    rows = session.execute(select(CaseParty, Party).join(Party, Party.id == CaseParty.party_id)
                           .where(CaseParty.case_id == case.id).order_by(CaseParty.id))
    return [(link, party) for link, party in rows]


def unmask_party(uow: UnitOfWork, actor: Actor, party_id: str, purpose: str, *,
                 case_no: str, reason: str = "") -> dict[str, str | None]:
    """Reveal one party's data on one case for a stated purpose; audited, fail closed.

    The ``party_unmasked`` event is committed before the plaintext is returned: if the audit
    cannot be written, nothing is shown.
    """
    if purpose not in PURPOSES:
        raise InvalidInput({"purpose": FieldError(ErrorCode.CHOOSE_PURPOSE)})
    pii_text.refuse(reason=reason)
    with denials_audited(uow.services, actor, object_type="party", party_id=party_id):
        with uow:
            case = load_case(uow, actor, case_no)
            require(actor, Permission.UNMASK_PARTY, case, session=uow.session)
            link = uow.session.scalars(select(CaseParty).where(
                CaseParty.case_id == case.id, CaseParty.party_id == party_id)).first()
            if link is None:
                raise NotFound(ErrorCode.PARTY_NOT_IN_CASE)
            party = uow.session.get(Party, party_id)
            assert party is not None, "a case_party row references its party"
            values = PartyVault.of(uow.services).reveal(party)
            uow.audit.record(AuditAction.PARTY_UNMASKED, actor, case=case, object_type="party",
                             object_id=party_id, purpose=purpose, reason=reason,
                             fields=[f for f in FIELDS if values.get(f)], decision="allow",
                             ip=actor.ip, session_hash=actor.session_hash)
            uow.commit()
    return values
