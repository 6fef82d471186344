"""Server-side limits of intake fields: enumerations and lengths as field errors.

The HTML ``maxlength`` and ``<select>`` are conveniences; the API and crafted posts bypass them.
Without these checks an over-long value is truncated silently on SQLite and raises
``StringDataRightTruncation`` (a 500) on PostgreSQL. Limits follow the column sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.input_rules import name_error, text_error
from workflows.core import pii_text
from workflows.core.errors import FieldCode, FieldError
from workflows.models import Category, PartyRole

if TYPE_CHECKING:
    from workflows.intake.register import IntakeRequest

CATEGORIES = tuple(str(category) for category in Category)
PARTY_ROLES = tuple(str(role) for role in PartyRole)
MAX_LENGTH = {"channel_ref": 128, "summary": 200, "description": 5000}  # dispute_case columns
PARTY_MAX_LENGTH = {"name": 100, "address": 200, "id_number": 32, "phone": 32}
MULTILINE = frozenset({"description"})  # the others are one line on the form
FREE_TEXT = ("summary", "description")  # no ID, phone, card or e-mail: party fields hold them
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


def request_errors(request: IntakeRequest) -> dict[str, FieldError]:
    """Category and text limits of an intake request (other fields: ``intake.check``)."""
    errors = text_errors({name: getattr(request, name, None) for name in MAX_LENGTH}, MAX_LENGTH)
    for name, error in pii_text.field_errors(vars(request), FREE_TEXT).items():
        errors.setdefault(name, error)
    if request.category and request.category not in CATEGORIES:
        errors["category"] = CHOOSE
    if request.people_count > MAX_PEOPLE:
        errors["people_count"] = FieldError(FieldCode.TOO_LARGE, {"limit": MAX_PEOPLE})
    for index, party in enumerate(request.parties):
        prefix = f"parties-{index}-"
        if party.role not in PARTY_ROLES:  # lengths of party fields: PartyVault.clean
            errors[f"{prefix}role"] = CHOOSE
    return errors
