"""Channel intake over the API with Idempotency-Key: a re-delivery returns the first result and
creates no second case (channels retry).

The key row is written in the same transaction as the case (a unit of work whose commit adds it),
so a crash leaves either both or neither. The same key twice replays the stored response; the same
key with another body is ``IdempotencyConflict``; two concurrent deliveries race on
``UNIQUE(api_token_id, key)`` and the loser reads the winner's stored response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.audit_chain import canonical_json
from workflows.access.policy import Permission, denials_audited, require, visible_cases
from workflows.cases.parties import PartyInput
from workflows.core.actors import Actor
from workflows.core.errors import (
    ConcurrentUpdate,
    ErrorCode,
    FieldCode,
    FieldError,
    IdempotencyConflict,
    InvalidInput,
)
from workflows.district.directory_cache import Stamp
from workflows.intake.location import LocationInput
from workflows.intake.register import IntakeOutcome, IntakeRequest, submit_intake
from workflows.models import Case, IdempotencyKey, Submission
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

U = TypeVar("U", bound=UnitOfWork)

MAX_KEY = 128
PARTY_KEYS = {"role", "name", "id_number", "phone", "address", "contact_preference", "vulnerable",
              "kind", "credit_code", "age", "birth_date"}
BODY_KEYS = {"category", "description", "summary", "people_count", "urgency", "threat",
             "emergency", "statutory_channel", "channel_ref", "received_at",
             "received_late_reason", "parties", "location", "amount", "process_id"}
LOCATION_KEYS = {"place_code", "address", "detail", "unmatched"}


@dataclass(frozen=True)
class ApiResponse:
    """A stored (or fresh) JSON response: status code, exact body text, replayed or not."""

    status: int
    body: str
    replayed: bool = False


def request_digest(body: Any) -> str:
    """sha256 of the canonical JSON of a request body (key order and spacing do not matter)."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def parse_request(body: Any, channel: str) -> IntakeRequest:
    """An IntakeRequest from a JSON body; unknown keys and wrong types are field errors."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": FieldError(ErrorCode.BODY_NOT_OBJECT)})
    errors = {key: FieldError(FieldCode.UNKNOWN_FIELD) for key in body if key not in BODY_KEYS}
    parties = body.get("parties")
    if not isinstance(parties, list) or not parties:
        errors["parties"] = FieldError(ErrorCode.PARTY_REQUIRED)
        parties = []
    party_inputs = []
    for index, raw in enumerate(parties):
        try:
            party_inputs.append(_party(raw, index))
        except InvalidInput as exc:
            errors.update(exc.field_errors)
    fields = _scalars(body, errors)
    fields["location"] = _location(body.get("location"), errors)
    fields["amount"] = _amount(body.get("amount"), errors)
    if errors:
        raise InvalidInput(errors)
    return IntakeRequest(channel=channel, parties=party_inputs, **fields)


def _location(raw: Any, errors: dict[str, FieldError]) -> LocationInput | None:
    """``{"place_code"}`` or ``{"address", "detail"}`` (``unmatched``: none of the candidates)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors["location"] = FieldError(ErrorCode.NOT_OBJECT)
        return None
    bad = {f"location-{k}": FieldError(FieldCode.UNKNOWN_FIELD) for k in raw if k not in
           LOCATION_KEYS}
    text = {k: raw.get(k) for k in ("place_code", "address", "detail")}
    bad |= {f"location-{k}": FieldError(FieldCode.NOT_TEXT) for k, v in text.items()
            if v is not None and not isinstance(v, str)}
    unmatched = raw.get("unmatched", False)
    if not isinstance(unmatched, bool):
        bad["location-unmatched"] = FieldError(ErrorCode.NOT_TRUE_FALSE)
    if not bad and (text["place_code"] or "").strip() and (text["address"] or "").strip():
        bad["location"] = FieldError(ErrorCode.LOCATION_ONE_OF)
    if bad:
        errors.update(bad)
        return None
    return LocationInput(place_code=text["place_code"], address=text["address"],
                         detail=text["detail"], unmatched=unmatched)


def _amount(raw: Any, errors: dict[str, FieldError]) -> Decimal | None:
    """Yuan as a JSON number (limits: ``field_limits.amount_errors``)."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        errors["amount"] = FieldError(ErrorCode.NOT_NUMBER)
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        errors["amount"] = FieldError(ErrorCode.NOT_NUMBER)
        return None


def _party(raw: Any, index: int) -> PartyInput:
    prefix = f"parties-{index}-"
    if not isinstance(raw, dict):
        raise InvalidInput({f"parties-{index}": FieldError(ErrorCode.NOT_OBJECT)})
    unknown = {f"{prefix}{k}": FieldError(FieldCode.UNKNOWN_FIELD) for k in raw if k not in PARTY_KEYS}
    text = {k: raw.get(k) for k in ("name", "id_number", "phone", "address", "kind",
                                    "credit_code", "birth_date")}
    bad = {f"{prefix}{k}": FieldError(FieldCode.NOT_TEXT) for k, v in text.items() if v is not None
           and not isinstance(v, str)}
    vulnerable = raw.get("vulnerable") or []
    if not isinstance(vulnerable, list):
        bad[f"{prefix}vulnerable"] = FieldError(ErrorCode.NOT_LIST)
    age = raw.get("age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        bad[f"{prefix}age"] = FieldError(FieldCode.NOT_INTEGER)
    if unknown or bad:
        raise InvalidInput({**unknown, **bad})
    return PartyInput(name=text["name"] or "", role=str(raw.get("role") or "applicant"),
                      id_number=text["id_number"], phone=text["phone"], address=text["address"],
                      contact_preference=str(raw.get("contact_preference") or "sms"),
                      vulnerable=[str(v) for v in vulnerable],
                      kind=text["kind"] or "person", credit_code=text["credit_code"],
                      age=age, birth_date=text["birth_date"])


def _scalars(body: dict, errors: dict[str, FieldError]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("category", "description", "summary", "urgency", "channel_ref",
                "received_late_reason", "process_id"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = FieldError(FieldCode.NOT_TEXT)
        elif value is not None:
            out[key] = value
    out.setdefault("category", "")
    out.setdefault("description", "")
    people = body.get("people_count", 1)
    if isinstance(people, bool) or not isinstance(people, int):
        errors["people_count"] = FieldError(FieldCode.NOT_INTEGER)
    else:
        out["people_count"] = people
    for flag in ("threat", "emergency", "statutory_channel"):
        value = body.get(flag, False)
        if not isinstance(value, bool):
            errors[flag] = FieldError(ErrorCode.NOT_TRUE_FALSE)
        out[flag] = bool(value)
    received = body.get("received_at")
    if received is not None:
        out["received_at"] = _aware(received, errors)
    return out


def _aware(value: Any, errors: dict[str, FieldError]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        errors["received_at"] = FieldError(ErrorCode.NOT_ISO_TIME)
        return None
    if moment.tzinfo is None:
        errors["received_at"] = FieldError(ErrorCode.TIME_WITHOUT_ZONE)
        return None
    return moment


# -- the idempotent submission ------------------------------------------------------------------
def _stamped(uow: U, stamp: Stamp | None) -> U:
    uow.directory_stamp = stamp
    return uow


class _KeyedUnitOfWork(UnitOfWork):
    """A unit of work whose commit also stores the idempotency key and the response."""

    def __init__(self, services: Services, token_id: int, key: str, digest: str, actor: Actor):
        super().__init__(services)
        self.token_id, self.key, self.digest, self.actor = token_id, key, digest, actor
        self.response: ApiResponse | None = None

    def commit(self) -> None:
        submission, case = _submission(self.session), _submitted_case(self.session)
        if case is not None and submission is not None and self.response is None:
            body = response_body(case, submission.linked_as, submission_id=submission.id,
                                 visible=_may_see(self.session, self.actor, case,
                                                  submission.linked_as),
                                 linked_by=submission.linked_by)
            now = self.clock.now()
            ttl = timedelta(days=self.services.settings.idempotency_ttl_days)
            # an expired key of the same token may still sit there until housekeeping removes it
            self.session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.api_token_id == self.token_id, IdempotencyKey.key == self.key,
                IdempotencyKey.expires_at <= now))
            self.session.add(IdempotencyKey(
                api_token_id=self.token_id, key=self.key, request_sha256=self.digest,
                response_status=201, response_body=body, case_id=case.id, created_at=now,
                expires_at=now + ttl))
            self.response = ApiResponse(201, body)
        super().commit()


def _submitted_case(session: Session) -> Case | None:
    submission = _submission(session)
    return None if submission is None else session.get(Case, submission.case_id)


def _submission(session: Session) -> Submission | None:
    submissions = [o for o in session.identity_map.values() if isinstance(o, Submission)]
    return submissions[-1] if submissions else None


def _may_see(session: Session, actor: Actor, case: Case, kind: str) -> bool:
    """A new case is the caller's own; a linked master case only if it is in the caller's scope
    (the API must not reveal another unit's case code or status)."""
    if kind == "new":
        return True
    return session.scalar(select(Case.id).where(Case.id == case.id, visible_cases(actor))) \
        is not None


def response_body(case: Case | IntakeOutcome, kind: str, *, submission_id: int | None = None,
                  visible: bool = True, linked_by: str | None = None) -> str:
    """The JSON text returned (and stored for replays) after an intake: the case code and status
    when the caller may see the case, else only the submission id and how it was linked
    (``linked_by``: what made a duplicate one, the same person or the same building)."""
    if not visible:
        return json.dumps({"case_no": None, "status": None, "linked_as": kind,
                           "linked_by": linked_by, "submission_id": submission_id,
                           "status_url": None}, ensure_ascii=False)
    return json.dumps({"case_no": case.case_no, "status": case.status, "linked_as": kind,
                       "linked_by": linked_by, "submission_id": submission_id,
                       "status_url": f"/api/v1/cases/{case.case_no}"}, ensure_ascii=False)


def stored_response(services: Services, token_id: int, key: str, digest: str) -> ApiResponse | None:
    """The stored response of a live key, None if unused; IdempotencyConflict on another body."""
    uow = services.new_uow()
    with uow:
        row = uow.session.scalars(select(IdempotencyKey).where(
            IdempotencyKey.api_token_id == token_id, IdempotencyKey.key == key)).first()
        if row is None or row.expires_at <= uow.clock.now() or row.response_body is None:
            return None
        if row.request_sha256 != digest:
            raise IdempotencyConflict("Idempotency-Key reused with a different request body")
        return ApiResponse(row.response_status or 200, row.response_body, replayed=True)


def submit(services: Services, actor: Actor, *, token_id: int, key: str | None,
           body: Any, directory_stamp: Stamp | None = None) -> ApiResponse:
    """Register a channel submission once per (token, key); replays return the stored response.
    The caller's right to register is checked before the body is read (default deny: 403, not a
    422 that tells a mediator's token how to shape a case). ``directory_stamp``: as the caller's
    token check read it, so the registration's units come from the process's cache unread."""
    with denials_audited(services, actor, object_type="intake"):
        require(actor, Permission.REGISTER_CASE)
    if key is not None and (not key.strip() or len(key) > MAX_KEY or not key.isprintable()):
        raise InvalidInput({"Idempotency-Key": FieldError(
            ErrorCode.BAD_IDEMPOTENCY_KEY, {"limit": MAX_KEY})})
    request = parse_request(body, actor.channel or "portal")
    if key is None:
        outcome = submit_intake(_stamped(services.new_uow(), directory_stamp), actor, request)
        if outcome.kind == "new":   # the caller's own case: answered without reading it again
            return ApiResponse(201, response_body(
                outcome, outcome.kind, submission_id=outcome.submission_id))
        with services.new_uow() as uow:
            case = uow.session.scalars(select(Case).where(Case.case_no == outcome.case_no)).one()
            return ApiResponse(201, response_body(
                case, outcome.kind, submission_id=outcome.submission_id,
                visible=_may_see(uow.session, actor, case, outcome.kind),
                linked_by=outcome.linked_by))
    digest = request_digest(body)
    found = stored_response(services, token_id, key, digest)
    if found is not None:
        return found
    uow = _stamped(_KeyedUnitOfWork(services, token_id, key, digest, actor), directory_stamp)
    try:
        submit_intake(uow, actor, request)
    except ConcurrentUpdate:
        # a concurrent delivery with the same key won the UNIQUE race: answer with its result
        found = stored_response(services, token_id, key, digest)
        if found is None:
            raise
        return found
    assert uow.response is not None  # submit_intake always stores a submission
    return uow.response
