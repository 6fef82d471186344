"""One data value as a person reads it, for every page and document that shows process or task
data: the audit pages (web/data_display.py, translated) and the case-file report
(replay/export_words.py, Chinese).

The rules are one: empty is —, a flag (True/False, or the form's 'true'/'false') is 是/否, a
list is joined with 、 (a list of internal ids is counted), a record is its values with their
field names, a code is named by its form's options (which also name the mediator and the room
the case history gathers), by the label table of its field, a deadline spec by its length, an
instant in Beijing time, a unit code by the unit's name. What a reader adapts is the words
(``flag``, ``code``, ``period``, ``moment``, ``ids``): the report writes the Chinese tables
below web (models/words.py, library/contract.py, notify/words.py), the pages translate them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from workflows.library.contract import ESCALATION_WORDS, HANDLING_WORDS, OUTCOME_WORDS, RATINGS
from workflows.models import CATEGORY_LABELS, PARTY_ROLE_LABELS, RISK_LABELS, STATUS_LABELS
from workflows.models.words import INTAKE_CHANNEL_WORDS, TIER_WORDS, URGENCY_WORDS
from workflows.notify.words import NOTICE_WORDS, RECIPIENT_WORDS

EMPTY = "—"
# data fields whose values are codes of a label table: field -> the table's kind (web/labels.py
# TABLES has a table of each kind; CODE_WORDS the Chinese of those the report needs)
KEY_KINDS = {"category": "category", "urgency": "urgency", "risk_level": "risk", "tier": "tier",
             "handling": "handling", "outcome": "outcome", "status": "status",
             "satisfaction": "satisfaction", "rating": "satisfaction", "channel": "channel",
             "role": "role", "escalation_level": "escalation", "template": "notice",
             "to": "party_role", "recipient_type": "recipient",
             # the colour of a risk report (message risk_raised, kept as ``risk_report``)
             "level": "risk"}
CODE_WORDS: dict[str, Mapping[str, str]] = {
    "category": CATEGORY_LABELS, "urgency": URGENCY_WORDS, "risk": RISK_LABELS,
    "tier": TIER_WORDS, "handling": HANDLING_WORDS, "outcome": OUTCOME_WORDS,
    "status": STATUS_LABELS, "satisfaction": RATINGS, "channel": INTAKE_CHANNEL_WORDS,
    "escalation": ESCALATION_WORDS, "notice": NOTICE_WORDS, "party_role": PARTY_ROLE_LABELS,
    "recipient": RECIPIENT_WORDS}
# a boolean form field's value as the engine may keep it
FLAGS: dict[bool | str, bool] = {True: True, False: False, "true": True, "false": False}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# an instant as the engine keeps it (ISO with its offset): written in Beijing time
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")
# deadline specs: statutory_days(7) -> 7日, working_days(2) -> 2个工作日, PT24H -> 24小时
SPEC = re.compile(r"(statutory|working)_(days|months|hours)\((\d+)\)")
ISO_PERIOD = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")
SPEC_UNITS = {"months": "个月", "hours": "小时", "days": "日"}


class ValueWords:
    """Data values in words. ``labels``: field -> what its form calls it; ``options``: field ->
    code -> name (form options, and the people and rooms a field names); ``units``: unit code
    -> name; ``roles``: role code -> the role's name."""

    separator = "\n"     # between the fields of a record

    def __init__(self, *, labels: Mapping[str, str] | None = None,
                 options: Mapping[str, Mapping[str, str]] | None = None,
                 units: Mapping[str, str] | None = None,
                 roles: Mapping[str, str] | None = None) -> None:
        self.labels: Mapping[str, str] = labels or {}
        self.options: Mapping[str, Mapping[str, str]] = options or {}
        self.units: Mapping[str, str] = units or {}
        self.roles: Mapping[str, str] = roles or {}

    # -- the words a reader may translate --------------------------------------------------------
    def flag(self, value: bool) -> str:
        return "是" if value else "否"

    def code(self, kind: str, text: str) -> str | None:
        """A code's name in the label table of ``kind``; None when the table has none."""
        table = self.roles if kind == "role" else CODE_WORDS.get(kind, {})
        return table.get(text)

    def ids(self, count: int) -> str:
        return f"{count} 项（内部编号）"

    def one_id(self) -> str:
        return "（内部编号）"

    def period(self, text: str) -> str:
        return spec_words(text) or text

    def moment(self, text: str) -> str:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")

    # -- the rules --------------------------------------------------------------------------------
    def value(self, key: str, value: Any) -> str:
        """One data value as a person reads it; never a code, a Python or a JSON literal."""
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY
        if isinstance(value, bool) or (isinstance(value, str) and value in FLAGS):
            return self.flag(FLAGS[value])
        if isinstance(value, list):
            if all(isinstance(v, str) and UUID.fullmatch(v) for v in value):
                return self.ids(len(value))
            return "、".join(self.value(key, v) for v in value)
        if isinstance(value, dict):
            return self.separator.join(self._item(k, v) for k, v in value.items())
        text = str(value)
        if UUID.fullmatch(text):
            return self.one_id()
        named = self.options.get(key, {}).get(text) or (
            self.code(KEY_KINDS[key], text) if key in KEY_KINDS else None)
        if named:
            return str(named)
        if spec_words(text):
            return self.period(text)
        if INSTANT.fullmatch(text):
            return self.moment(text)
        return self.units.get(text) or text

    def _item(self, key: str, value: Any) -> str:
        """A record's field: its name where a form names it, and its value."""
        name = self.labels.get(key)
        return f"{name}：{self.value(key, value)}" if name else self.value(key, value)


def spec_words(text: str) -> str | None:
    """A deadline spec in words, None when the text is not one."""
    spec = SPEC.fullmatch(text)
    if spec:
        kind, unit, n = spec.groups()
        return f"{n}个工作日" if kind == "working" and unit == "days" else f"{n}{SPEC_UNITS[unit]}"
    iso = ISO_PERIOD.fullmatch(text)
    if iso and any(iso.groups()):
        days, hours, minutes = iso.groups()
        return "".join(f"{n}{unit}" for n, unit in ((days, "日"), (hours, "小时"),
                                                    (minutes, "分钟")) if n)
    return None
