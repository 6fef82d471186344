"""Task and process data in words for the audit pages: each field under the name its forms give
it, each value through the label tables (codes), the unit names (unit codes), 是/否 for flags;
internal ids (party UUIDs) are counted, never shown."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from web.labels import labels, period
from web.time_display import localtime

# data fields whose values are codes of a label table
KEY_KINDS = {"category": "category", "urgency": "urgency", "risk_level": "risk", "tier": "tier",
             "handling": "handling", "outcome": "outcome", "status": "status",
             "satisfaction": "satisfaction", "rating": "satisfaction", "channel": "channel",
             "role": "role", "escalation_level": "escalation", "template": "notice",
             "to": "party_role", "recipient_type": "recipient"}
# deadline specs: ISO durations or statutory_days(15)-style specs
SPEC = re.compile(r"P(\d+D)?(T(\d+H)?(\d+M)?)?|(statutory|working)_(days|months|hours)\(\d+\)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# an instant as the engine keeps it (ISO with its offset): shown in local time
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")


def value_text(key: str, value: Any, units: dict[str, str],
               options: dict[str, dict[str, str]] | None = None) -> str:
    """One data value as a person reads it: a form option's name, a label, a unit's name."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        ids = [v for v in value if isinstance(v, str) and UUID.fullmatch(v)]
        if ids and len(ids) == len(value):
            return _("%(n)s 项（内部编号）", n=len(ids))
        return "、".join(value_text(key, v, units, options) for v in value)
    if isinstance(value, dict):
        return "；".join(value_text(k, v, units, options) for k, v in value.items())
    text = str(value)
    if UUID.fullmatch(text):
        return _("（内部编号）")
    named = (options or {}).get(key, {}).get(text)
    if named:
        return named
    if KEY_KINDS.get(key):
        return labels(KEY_KINDS[key], value)
    if SPEC.fullmatch(text) and text != "P":
        return period(text)
    if INSTANT.fullmatch(text):
        return localtime(text.replace("Z", "+00:00"))
    if text in units:
        return units[text]
    return text


def data_rows(data: dict[str, Any], field_names: dict[str, str], units: dict[str, str],
              options: dict[str, dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The rows of a data panel, sorted by what a person reads (the field's name)."""
    rows = [{"key": key, "label": field_names.get(key) or key,
             "text": value_text(key, value, units, options)} for key, value in data.items()]
    return sorted(rows, key=lambda row: row["label"])
