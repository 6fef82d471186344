"""The expert pool: lawyers, counsellors, retired cadres … each a user with the role ``expert``.

An expert's contact is personal data: stored encrypted (``contact_enc``), shown masked. The admin
creates an expert with a sign-in account in one step (``save_expert``; the one-time password is
returned once); the directory import (kind ``experts``) checks its cells with the same helpers.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.crypto import field_aad
from engine.errors import FieldRefused
from engine.input_rules import name_error, text_error
from workflows.access.sign_in import hash_password
from workflows.audit.log import AuditAction
from workflows.cases.parties import normalize_any_phone, normalize_credit_code
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound, NotPermitted
from workflows.core.masking import mask_phone
from workflows.models import Department, Expert, ExpertField, Role, RoleCode, User, UserRole
from workflows.runtime.unit_of_work import UnitOfWork

EDITORS = (RoleCode.ADMIN,)
ORGANISATION_MAX = 100
# the words a spreadsheet or a person may use for a field (codes too)
FIELD_WORDS: dict[str, str] = {
    **{str(f): str(f) for f in ExpertField},
    "法律": ExpertField.LAW, "律师": ExpertField.LAW, "心理": ExpertField.PSYCHOLOGY,
    "心理咨询": ExpertField.PSYCHOLOGY, "心理咨询师": ExpertField.PSYCHOLOGY,
    "劳动": ExpertField.LABOUR, "劳动保障": ExpertField.LABOUR, "建筑": ExpertField.CONSTRUCTION,
    "建设工程": ExpertField.CONSTRUCTION, "工程": ExpertField.CONSTRUCTION,
    "土地": ExpertField.LAND, "国土": ExpertField.LAND,
}
DAY_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}
DAY_SEPARATORS = re.compile(r"[,，;；、/\s]+")
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105


@dataclass(frozen=True)
class ExpertInput:
    """The checked values of one expert (form or import row)."""

    display_name: str
    field: str
    unit_code: str
    organisation: str | None
    organisation_code: str | None
    contact: str | None
    available_days: list[int]


@dataclass(frozen=True)
class SavedExpert:
    """What ``save_expert`` did: the expert's id and, for a new account, its first password."""

    expert_id: int
    username: str
    password: str | None


# -- reading values ------------------------------------------------------------------------------
def field_code(text: str) -> str | None:
    """The field code of a word (法律, 律师, law …); None if unknown."""
    return FIELD_WORDS.get(unicodedata.normalize("NFKC", text or "").strip().lower())


def parse_days(text: str) -> list[int] | None:
    """ISO weekdays from "1,3,5", "周一、周三" or "星期二 星期四"; None if a part is not a day."""
    days: set[int] = set()
    for part in DAY_SEPARATORS.split(unicodedata.normalize("NFKC", text or "").strip()):
        if not part:
            continue
        word = re.sub(r"^(周|星期|礼拜)", "", part)
        if word.isascii() and word.isdigit() and 1 <= int(word) <= 7:
            days.add(int(word))
        elif word in DAY_WORDS:
            days.add(DAY_WORDS[word])
        else:
            return None
    return sorted(days)


def check_input(form: Mapping[str, Any]) -> tuple[ExpertInput, dict[str, FieldError]]:
    """Every field of an expert at once (``display_name``, ``field``, ``unit_code``,
    ``organisation``, ``organisation_code``, ``contact``, ``available_days``)."""
    errors: dict[str, FieldError] = {}
    name = str(form.get("display_name") or "").strip()
    if not name:
        errors["display_name"] = FieldError(ErrorCode.DISPLAY_NAME_REQUIRED)
    elif (problem := name_error(name, max_length=100)) is not None:
        errors["display_name"] = problem
    code = field_code(str(form.get("field") or ""))
    if code is None:
        errors["field"] = FieldError(ErrorCode.EXPERT_FIELD)
    unit = str(form.get("unit_code") or "").strip()[:32]
    if not unit:
        errors["unit_code"] = FieldError(ErrorCode.UNIT_REQUIRED)
    organisation = str(form.get("organisation") or "").strip() or None
    if organisation and (problem := text_error(organisation, max_length=ORGANISATION_MAX)):
        errors["organisation"] = problem
    org_code = None
    if raw := str(form.get("organisation_code") or "").strip():
        try:
            org_code = normalize_credit_code(raw)
        except FieldRefused as exc:
            errors["organisation_code"] = exc.error
    contact = None
    if raw := str(form.get("contact") or "").strip():
        try:
            contact = normalize_any_phone(raw)
        except FieldRefused as exc:
            errors["contact"] = exc.error
    days_value = form.get("available_days")
    days_text = "、".join(str(d) for d in days_value) if isinstance(days_value, list | tuple) \
        else str(days_value or "")
    days = parse_days(days_text)
    if days is None:
        errors["available_days"] = FieldError(ErrorCode.WEEKDAYS)
    return ExpertInput(name, code or "", unit, organisation, org_code, contact, days or []), errors


# -- the pool ------------------------------------------------------------------------------------
def list_experts(uow: UnitOfWork, *, active_only: bool = False) -> list[dict]:
    """The pool with each expert's name, unit, field, masked contact and available days."""
    with uow:
        query = (select(Expert, User.username, User.display_name, Department.code,
                        Department.name)
                 .join(User, User.id == Expert.user_id)
                 .outerjoin(Department, Department.id == Expert.unit_id)
                 .order_by(Expert.field, User.display_name, Expert.id))
        if active_only:
            query = query.where(Expert.active.is_(True), User.active.is_(True))
        return [expert_row(e, username, name, unit_code, unit_name)
                for e, username, name, unit_code, unit_name in uow.session.execute(query)]


def expert_row(e: Expert, username: str, name: str, unit_code: str | None,
               unit_name: str | None) -> dict:
    return {"id": e.id, "user_id": e.user_id, "username": username, "name": name,
            "field": e.field, "unit_code": unit_code, "unit_name": unit_name,
            "organisation": e.organisation, "organisation_code": e.organisation_code,
            "contact_masked": e.contact_masked, "available_days": list(e.available_days or []),
            "active": e.active}


def save_expert(uow: UnitOfWork, actor: Actor, form: Mapping[str, Any],
                expert_id: int | None = None) -> SavedExpert:
    """Create an expert with a sign-in account (``username``; the first password is returned
    once) or edit one. Administrators only; all or nothing."""
    if actor.type == "user" and not actor.has(*EDITORS):
        raise NotPermitted(ErrorCode.NOT_PERMITTED, "edit_experts.admin")
    item, errors = check_input(form)
    username = str(form.get("username") or "").strip()
    if expert_id is None and (not username or len(username) > 64 or " " in username
                              or not username.isprintable() or name_error(username)):
        errors["username"] = FieldError(ErrorCode.BAD_USERNAME)
    password = _one_time_password() if expert_id is None else None
    digest = hash_password(uow.services.settings, password) if password and not errors else None
    with uow:
        unit = uow.session.scalars(select(Department).where(
            Department.code == item.unit_code)).first() if item.unit_code else None
        if item.unit_code and unit is None:
            errors["unit_code"] = FieldError(ErrorCode.UNKNOWN_UNIT, {"code": item.unit_code})
        expert = uow.session.get(Expert, expert_id) if expert_id is not None else None
        if expert_id is not None and expert is None:
            raise NotFound(ErrorCode.EXPERT_NOT_FOUND)
        if expert is None and username and uow.session.scalars(
                select(User.id).where(User.username == username)).first() is not None:
            errors["username"] = FieldError(ErrorCode.USER_EXISTS, {"username": username})
        if errors:
            raise InvalidInput(errors)
        assert unit is not None
        if expert is None:
            assert digest is not None
            user = User(username=username, display_name=item.display_name, password_hash=digest,
                        locale="", active=True, department_id=unit.id,
                        created_at=uow.clock.now())
            uow.session.add(user)
            uow.session.flush()
            role = uow.session.scalars(select(Role).where(Role.code == RoleCode.EXPERT)).one()
            uow.session.add(UserRole(user_id=user.id, role_id=role.id, department_id=unit.id,
                                     granted_by=_uid(actor), granted_at=uow.clock.now()))
            uow.audit.record(AuditAction.USER_CREATED, actor, object_type="user",
                             object_id=user.id, username=username, roles=[RoleCode.EXPERT],
                             department=unit.code)
            expert = Expert(user_id=user.id)
            uow.session.add(expert)
        else:
            found = uow.session.get(User, expert.user_id)
            assert found is not None
            user = found
            user.display_name, user.department_id = item.display_name, unit.id
        apply_input(uow, expert, item, unit.id, keep_contact=expert_id is not None)
        expert.active = expert_id is None or str(form.get("active") or "") in ("true", "on", "1")
        uow.session.flush()
        audit_saved(uow, actor, expert, "create" if expert_id is None else "edit")
        uow.commit()
        return SavedExpert(expert.id, user.username, password)


def apply_input(uow: UnitOfWork, expert: Expert, item: ExpertInput, unit_id: int, *,
                keep_contact: bool = False) -> None:
    """Write the checked values (the contact encrypted and masked) on a flushed-or-new row;
    with ``keep_contact`` a blank contact leaves the stored one (the edit form shows it masked)."""
    expert.field, expert.unit_id = item.field, unit_id
    expert.organisation, expert.organisation_code = item.organisation, item.organisation_code
    expert.available_days = list(item.available_days)
    if expert.id is None:
        uow.session.flush()     # the contact's envelope is bound to the row id
    if item.contact is None and keep_contact:
        return
    expert.contact_enc = None if item.contact is None else uow.services.cipher.encrypt(
        item.contact, aad=field_aad("mediation_expert", "contact_enc", expert.id))
    expert.contact_masked = None if item.contact is None else mask_phone(item.contact)


def contact_of(uow: UnitOfWork, expert: Expert) -> str | None:
    """The plaintext contact (the conflict check compares it with the parties' phones)."""
    if expert.contact_enc is None:
        return None
    return uow.services.cipher.decrypt(
        expert.contact_enc, aad=field_aad("mediation_expert", "contact_enc", expert.id))


def audit_saved(uow: UnitOfWork, actor: Actor, expert: Expert, source: str) -> None:
    """``expert_saved``: codes, ids and days only (the contact never enters the audit)."""
    uow.audit.record(AuditAction.EXPERT_SAVED, actor, object_type="mediation_expert",
                     object_id=expert.id, user_id=expert.user_id, field=expert.field,
                     unit_id=expert.unit_id, days=list(expert.available_days or []),
                     has_contact=expert.contact_enc is not None, active=expert.active,
                     source=source)


def expert_form(uow: UnitOfWork, expert_id: int) -> dict:
    """An expert's values as the edit form starts from (contact masked: typed again to change)."""
    with uow:
        row = uow.session.execute(
            select(Expert, User.username, User.display_name, Department.code, Department.name)
            .join(User, User.id == Expert.user_id)
            .outerjoin(Department, Department.id == Expert.unit_id)
            .where(Expert.id == expert_id)).first()
        if row is None:
            raise NotFound(ErrorCode.EXPERT_NOT_FOUND)
        return expert_row(*row)


def _one_time_password() -> str:
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(14))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _uid(actor: Actor) -> int | None:
    text = str(actor.id or "")
    return int(text) if actor.type == "user" and text.isdigit() else None

