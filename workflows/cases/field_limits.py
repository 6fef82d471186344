"""Server-side limits of intake fields: enumerations and lengths as field errors.

The HTML ``maxlength`` and ``<select>`` are conveniences; the API and crafted posts bypass them.
Without these checks an over-long value is truncated silently on SQLite and raises
``StringDataRightTruncation`` (a 500) on PostgreSQL. Limits follow the column sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.models import PartyRole

if TYPE_CHECKING:
    from workflows.intake.register import IntakeRequest

# bpmn/README.md §3.1: the categories routing.dmn knows (web/labels.py CATEGORY labels them)
CATEGORIES = ("neighbour", "property", "property_collective", "family", "labour",
              "labour_collective", "expropriation", "land_contract", "land_rights", "noise",
              "public_order", "petition", "other")
PARTY_ROLES = tuple(str(role) for role in PartyRole)
MAX_LENGTH = {"channel_ref": 128, "summary": 200, "description": 5000}  # dispute_case columns
PARTY_MAX_LENGTH = {"name": 100, "address": 200, "id_number": 32, "phone": 32}
CHOOSE = "请选择列表中的一项"
BAD_CHARACTERS = "含有无效字符"


def too_long(limit: int) -> str:
    """The field error of an over-long value (web/labels.py translates the pattern)."""
    return f"最多 {limit} 个字符"


def text_errors(values: dict[str, Any], limits: dict[str, int], prefix: str = "") -> dict:
    """Over-long values and NUL characters (PostgreSQL refuses them in text) as field errors."""
    errors = {}
    for name, limit in limits.items():
        value = values.get(name)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            errors[prefix + name] = BAD_CHARACTERS
        elif len(value) > limit:
            errors[prefix + name] = too_long(limit)
    return errors


def request_errors(request: IntakeRequest) -> dict[str, str]:
    """Category and text limits of an intake request (other fields: ``intake.check``)."""
    errors = text_errors({name: getattr(request, name, None) for name in MAX_LENGTH}, MAX_LENGTH)
    if request.category and request.category not in CATEGORIES:
        errors["category"] = CHOOSE
    for index, party in enumerate(request.parties):
        prefix = f"parties-{index}-"
        if party.role not in PARTY_ROLES:  # lengths of party fields: PartyVault.clean
            errors[f"{prefix}role"] = CHOOSE
    return errors
