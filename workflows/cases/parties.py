"""PartyVault: personal data of parties encrypted at rest, blind-indexed, masked for display.

Task data never holds these values: processes refer to parties by ``party.id`` only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
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
from workflows.cases.field_limits import MAX_AGE, MIN_BIRTH_YEAR, PARTY_MAX_LENGTH, text_errors
from workflows.cases.lookup import load_case
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.core.masking import mask_fields
from workflows.models import Case, CaseParty, ContactPreference, Party, PartyKind
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

FIELDS = ("name", "id_number", "phone", "address", "birth_date")  # encrypted columns (<f>_enc)
CONTACT_PREFERENCES = tuple(str(p) for p in ContactPreference)
PARTY_KINDS = tuple(str(k) for k in PartyKind)
VULNERABILITIES = ("elderly", "disabled", "minor")
# a vulnerable party is called, not texted: the phone channel opens a call task for a person
VULNERABLE_CONTACT = ContactPreference.PHONE
PURPOSES = {  # purpose codes for revealing personal data
    "contact": "联系当事人",
    "document": "制作文书（调解协议书等）",
    "verify_identity": "核实身份",
    "judicial_confirmation": "司法确认材料",
    "supervision": "督办核查",
}
# why the system itself showed parties or personal data (recorded with the event, never chosen)
RECORDED_PURPOSES = {
    "case_page": "查看案件页（脱敏）",
    "case_search": "按当事人信息检索案件",
    "duplicate_check": "登记时查重",
    "audit": "审计查阅",
    "quarantine": "核查隔离工单",
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
    kind: str = PartyKind.PERSON
    credit_code: str | None = None     # 统一社会信用代码 of an organisation
    age: int | None = None
    birth_date: str | None = None      # YYYY-MM-DD

    @property
    def contact(self) -> str:
        """The contact channel actually used: a vulnerable party is always called."""
        return str(VULNERABLE_CONTACT) if self.vulnerable else self.contact_preference


# -- 统一社会信用代码 (GB 32100-2015) ------------------------------------------------------------
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # 31 characters: no I, O, S, V, Z
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_FORMAT = re.compile(rf"[1-9A-GY][1-9]\d{{6}}[{CREDIT_CHARSET}]{{10}}")


def credit_check_digit(first17: str) -> str:
    """The 18th character: 31 - (sum of value x weight mod 31), 31 read as 0."""
    total = sum(CREDIT_CHARSET.index(char) * weight
                for char, weight in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """18 characters, upper case, spaces gone; FieldRefused on a bad format or check digit."""
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", value or "")).upper()
    if not _CREDIT_FORMAT.fullmatch(text):
        raise FieldRefused(ErrorCode.CREDIT_CODE_FORMAT)
    if credit_check_digit(text[:17]) != text[17]:
        raise FieldRefused(ErrorCode.CREDIT_CODE_CHECK_DIGIT)
    return text


# -- phone numbers: a mobile, or a landline with its area code ----------------------------------
# area codes: 010 and 02x have three digits, the others four (0xxx); numbers 7 or 8 digits
# starting 2-9 (written in one piece or as 8765-4321); an extension after "-", "转" or "ext"
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))-?([2-9]\d{2,3}-?\d{4})(?:(?:-|转|ext\.?|x)(\d{1,6}))?")
_LANDLINE_NOISE = re.compile(r"[\s()（）]")


def normalize_any_phone(value: str) -> str:
    """A mobile as 11 digits, a landline as "0AREA-NUMBER" (plus "-EXT"); FieldRefused else."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    try:
        return normalize_phone(text)
    except FieldRefused:
        pass
    compact = _LANDLINE_NOISE.sub("", text).lower()
    compact = compact.removeprefix("+86").removeprefix("0086")
    found = _LANDLINE.fullmatch(compact)
    if found is None:
        raise FieldRefused(ErrorCode.PHONE_FORMAT)
    area, number, extension = found.groups()
    return f"{area}-{number.replace('-', '')}" + (f"-{extension}" if extension else "")


def is_mobile(phone: str | None) -> bool:
    """A normalized mobile number (only these are blind-indexed: a landline is often shared)."""
    return bool(phone) and len(phone or "") == 11 and (phone or "").isdigit()


def _birth_date(raw: str, today: date | None) -> date:
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise FieldRefused(FieldCode.NOT_DATE) from None
    if today is not None and value > today:
        raise FieldRefused(ErrorCode.BIRTH_DATE_IN_FUTURE)
    if value.year < MIN_BIRTH_YEAR:
        raise FieldRefused(FieldCode.TOO_EARLY, limit=f"{MIN_BIRTH_YEAR}-01-01")
    return value


class PartyVault:
    """Encrypt, index, mask and decrypt party records."""

    def __init__(self, cipher: FieldCipher, keyring: Keyring):
        self.cipher, self.keyring = cipher, keyring

    @classmethod
    def of(cls, services: Services) -> PartyVault:
        return cls(services.cipher, services.keyring)

    # -- validation and indexes -----------------------------------------------------------------
    @staticmethod
    def clean(data: PartyInput, prefix: str = "", *, today: date | None = None
              ) -> dict[str, str | None]:
        """Normalized plaintext values; InvalidInput names every bad field (prefixed for forms).
        ``today`` (the service clock's local date) refuses a birth date in the future.

        ``credit_code`` is public (a register's data) and stored in clear; ``birth_date`` is
        personal and encrypted like the other fields."""
        errors: dict[str, FieldError] = {}
        values: dict[str, str | None] = {"name": (data.name or "").strip() or None,
                                         "address": (data.address or "").strip() or None}
        if not values["name"]:
            errors[f"{prefix}name"] = FieldError(FieldCode.REQUIRED)
        for name, normalize in (("id_number", normalize_id_number), ("phone", normalize_any_phone),
                                ("credit_code", normalize_credit_code)):
            raw = (getattr(data, name) or "").strip()
            try:
                values[name] = normalize(raw) if raw else None
            except FieldRefused as exc:
                errors[f"{prefix}{name}"] = exc.error
        if data.contact_preference not in CONTACT_PREFERENCES:
            errors[f"{prefix}contact_preference"] = FieldError(FieldCode.NOT_AN_OPTION)
        if set(data.vulnerable) - set(VULNERABILITIES):
            errors[f"{prefix}vulnerable"] = FieldError(FieldCode.NOT_AN_OPTION)
        errors.update(_kind_errors(data, values, prefix))
        errors.update(_age_errors(data, values, prefix, today))
        errors.update(text_errors(vars(data), PARTY_MAX_LENGTH, prefix))  # before encryption
        if errors:
            raise InvalidInput(errors)
        return values

    def indexes(self, *, phone: str | None = None, id_number: str | None = None) -> dict[str, str]:
        """Blind indexes of the given (already normalized or raw) values; a landline has none."""
        out = {}
        if phone and _mobile_or_none(phone):
            out["phone_bidx"] = blind_index(self.keyring, "phone", phone)
        if id_number:
            out["id_number_bidx"] = blind_index(self.keyring, "id_number", id_number)
        return out

    # -- storage --------------------------------------------------------------------------------
    def new_party(self, data: PartyInput) -> Party:
        """A new encrypted Party row (not yet added to a session)."""
        values = self.clean(data)
        party = Party(contact_preference=data.contact, vulnerable=list(data.vulnerable),
                      kind=data.kind, credit_code=values.get("credit_code"), age=data.age)
        self._write(party, values)
        return party

    def update(self, party: Party, data: PartyInput) -> list[str]:
        """Re-encrypt changed values; returns the names of the fields that changed."""
        values = self.clean(data)
        before = self.reveal(party)
        changed = [f for f in FIELDS if before.get(f) != values.get(f)]
        self._write(party, values)
        party.contact_preference = data.contact
        party.vulnerable = list(data.vulnerable)
        party.kind, party.credit_code, party.age = data.kind, values.get("credit_code"), data.age
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
        if values.get("birth_date"):  # the masked form shows the year of birth only
            party.masked["birth_year"] = str(values["birth_date"])[:4]

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
                "vulnerable": list(party.vulnerable or []), "kind": party.kind or PartyKind.PERSON,
                "credit_code": party.credit_code, "age": party.age,
                "birth_year": masked.get("birth_year"), "masked": True}

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


def _mobile_or_none(phone: str) -> bool:
    try:
        return is_mobile(normalize_any_phone(phone))
    except FieldRefused:
        return False


def _kind_errors(data: PartyInput, values: dict[str, str | None], prefix: str
                 ) -> dict[str, FieldError]:
    """An organisation has a credit code and no ID number, age, birth date or vulnerability."""
    if data.kind not in PARTY_KINDS:
        return {f"{prefix}kind": FieldError(FieldCode.NOT_AN_OPTION)}
    if data.kind == PartyKind.PERSON:
        return {f"{prefix}credit_code": FieldError(ErrorCode.ORGANISATION_ONLY)} \
            if values.get("credit_code") else {}
    person_only = {"id_number": values.get("id_number"), "age": data.age,
                   "birth_date": data.birth_date, "vulnerable": data.vulnerable}
    return {f"{prefix}{name}": FieldError(ErrorCode.PERSON_ONLY)
            for name, value in person_only.items() if value not in (None, "", [])}


def _age_errors(data: PartyInput, values: dict[str, str | None], prefix: str,
                today: date | None) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    raw = (data.birth_date or "").strip()
    values["birth_date"] = None
    if data.age is not None and raw:
        errors[f"{prefix}age"] = FieldError(ErrorCode.AGE_OR_BIRTH_DATE)
    if data.age is not None and not 0 <= data.age <= MAX_AGE:
        errors[f"{prefix}age"] = FieldError(FieldCode.TOO_LARGE if data.age > 0 else
                                            FieldCode.TOO_SMALL,
                                            {"limit": MAX_AGE if data.age > 0 else 0})
    if raw:
        try:
            values["birth_date"] = _birth_date(raw, today).isoformat()
        except FieldRefused as exc:
            errors[f"{prefix}birth_date"] = exc.error
    return errors


def case_parties(session: Session, case: Case) -> list[tuple[CaseParty, Party]]:
    """The parties of a case with their links, in registration order."""
    rows = session.execute(select(CaseParty, Party).join(Party, Party.id == CaseParty.party_id)
                           .where(CaseParty.case_id == case.id).order_by(CaseParty.id))
    return [(link, party) for link, party in rows]


def vulnerable_kinds(session: Session, case: Case) -> list[str]:
    """The vulnerabilities among the case's parties (codes, no names): the task pages' banner."""
    found: set[str] = set()
    for flags in session.scalars(select(Party.vulnerable).join(
            CaseParty, CaseParty.party_id == Party.id).where(CaseParty.case_id == case.id)):
        found.update(flags or [])
    return [code for code in VULNERABILITIES if code in found]


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
