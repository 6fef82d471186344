"""Server-side limits of intake fields: enumerations and lengths as field errors.

The HTML ``maxlength`` and ``<select>`` are conveniences; the API and crafted posts bypass them.
Without these checks an over-long value is truncated silently on SQLite and raises
``StringDataRightTruncation`` (a 500) on PostgreSQL. Limits follow the column sizes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.input_rules import name_error, text_error
from workflows.core import pii_text
from workflows.core.errors import ErrorCode, FieldCode, FieldError
from workflows.models import Category, PartyRole

if TYPE_CHECKING:
    from workflows.intake.register import IntakeRequest

CATEGORIES = tuple(str(category) for category in Category)
PARTY_ROLES = tuple(str(role) for role in PartyRole)
MAX_LENGTH = {"channel_ref": 128, "summary": 200, "description": 5000,  # dispute_case columns
              "received_late_reason": 200, "process_id": 100}
PARTY_MAX_LENGTH = {"name": 100, "address": 200, "id_number": 32, "phone": 32, "credit_code": 32,
                    "birth_date": 10}
# address and detail together become location_detail (200) when no place matches
LOCATION_MAX_LENGTH = {"place_code": 40, "address": 120, "detail": 60}
# parties of one intake: any number a real matter has (a building site's workers), not a flood
MAX_PARTIES = 500
MAX_AGE = 150
MIN_BIRTH_YEAR = 1900
# yuan in dispute: two decimals, and below anything a district mediates (column: 14 digits)
AMOUNT_MAX = Decimal("10000000000")
MULTILINE = frozenset({"description", "received_late_reason"})  # the others are one line
# no ID, phone, card or e-mail in these: the party fields hold them
FREE_TEXT = ("summary", "description", "received_late_reason")
NAMES = frozenset({"name"})  # something visible, no bidi controls
MAX_PEOPLE = 100_000  # the intake form's maximum (the column holds 32 bits)
CHOOSE = FieldError(FieldCode.NOT_AN_OPTION)


def too_long(limit: int) -> FieldError:
    """The field error of an over-long value."""
    return FieldError(FieldCode.TOO_LONG, {"limit": limit})


def text_errors(values: dict[str, Any], limits: dict[str, int], prefix: str = ""
                ) -> dict[str, FieldError]:
    """Over-long values, characters no column may hold (engine/input_rules.py) and names with
    nothing visible, as field errors."""
    errors: dict[str, FieldError] = {}
    for name, limit in limits.items():
        value = values.get(name)
        error = name_error(value, max_length=limit) if name in NAMES else \
            text_error(value, multiline=name in MULTILINE, max_length=limit)
        if error is not None:
            errors[prefix + name] = error
    return errors


def amount_errors(amount: Decimal | None) -> dict[str, FieldError]:
    """Yuan: finite, not negative, at most two decimals, below AMOUNT_MAX."""
    if amount is None:
        return {}
    if not amount.is_finite():
        return {"amount": FieldError(ErrorCode.NOT_NUMBER)}
    if amount < 0:
        return {"amount": FieldError(FieldCode.TOO_SMALL, {"limit": 0})}
    if amount > AMOUNT_MAX:
        return {"amount": FieldError(FieldCode.TOO_LARGE, {"limit": f"{AMOUNT_MAX:,}"})}
    if amount != amount.quantize(Decimal("0.01")):
        return {"amount": FieldError(ErrorCode.AMOUNT_DECIMALS)}
    return {}


def request_errors(request: IntakeRequest) -> dict[str, FieldError]:
    """Category and text limits of an intake request (other fields: ``intake.check``)."""
    errors = text_errors({name: getattr(request, name, None) for name in MAX_LENGTH}, MAX_LENGTH)
    texts = {name: pii_text.joined(value) for name in FREE_TEXT
             if isinstance(value := getattr(request, name, None), str)}
    for name, error in pii_text.field_errors(texts).items():
        errors.setdefault(name, error)
    if request.category and request.category not in CATEGORIES:
        errors["category"] = CHOOSE
    if request.people_count > MAX_PEOPLE:
        errors["people_count"] = FieldError(FieldCode.TOO_LARGE, {"limit": MAX_PEOPLE})
    if len(request.parties) > MAX_PARTIES:
        errors["parties"] = FieldError(ErrorCode.TOO_MANY_PARTIES, {"limit": MAX_PARTIES})
    errors.update(amount_errors(request.amount))
    if request.location is not None:
        errors.update(text_errors(vars(request.location), LOCATION_MAX_LENGTH, "location-"))
    for index, party in enumerate(request.parties):
        prefix = f"parties-{index}-"
        if party.role not in PARTY_ROLES:  # lengths of party fields: PartyVault.clean
            errors[f"{prefix}role"] = CHOOSE
    return errors
