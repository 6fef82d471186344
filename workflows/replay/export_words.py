"""The case-file report's words for who acted and for the data a step changed.

The report is written in Chinese below the web layer, so it reads the word tables that live
here, the ones the pages' labels translate: actor kinds, chains and events (audit/words.py),
notices, channels and recipients (notify/words.py), messages (library/contract.py); and the
forms' option and field names and the unit names the case history gathers (replay/history.py
``options``, ``labels``, ``units``), and the case's own label tables (status, category, risk,
party role).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from workflows.audit.words import ACTOR_WORDS, CHAIN_WORDS
from workflows.library.contract import MESSAGE_WORDS
from workflows.models import CATEGORY_LABELS, PARTY_ROLE_LABELS, RISK_LABELS, STATUS_LABELS
from workflows.notify.words import CHANNEL_WORDS, NOTICE_WORDS, RECIPIENT_WORDS
from workflows.replay.history import NOTIFICATION_SENT, HistoryEntry

EMPTY = "—"
# data fields whose values are codes of one of the case's label tables
KEY_LABELS: dict[str, Mapping[str, str]] = {
    "category": CATEGORY_LABELS, "status": STATUS_LABELS, "risk_level": RISK_LABELS,
    "to": PARTY_ROLE_LABELS}
FLAGS: dict[bool | str, str] = {True: "是", False: "否", "true": "是", "false": "否"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# an instant as the engine keeps it (ISO with its offset): written in Beijing time
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")
# deadline specs: statutory_days(7) -> 7日, working_days(2) -> 2个工作日, PT24H -> 24小时
SPEC = re.compile(r"(statutory|working)_(days|months|hours)\((\d+)\)")
ISO_PERIOD = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")
SPEC_UNITS = {"months": "个月", "hours": "小时", "days": "日"}


class Words:
    """The tables one report reads, and the value of one field in words."""

    def __init__(self, history: Mapping[str, Any], roles: Mapping[str, str]) -> None:
        self.labels: Mapping[str, str] = history.get("labels") or {}
        self.options: Mapping[str, Mapping[str, str]] = history.get("options") or {}
        self.units: Mapping[str, str] = history.get("units") or {}
        self.roles = roles

    def actor(self, entry: HistoryEntry) -> str:
        """Who acted: a person (or channel) by name, the system's own kinds in words."""
        if entry.actor_type in ("user", "api") and entry.actor_name:
            return entry.actor_name
        return self.kind(entry.actor_type)

    @staticmethod
    def kind(actor_type: str | None) -> str:
        return ACTOR_WORDS.get(actor_type or "", ACTOR_WORDS["system"])

    def acting_as(self, entry: HistoryEntry) -> str:
        """The role and the unit the actor acted for, in words ('' when none is known)."""
        role = self.roles.get(entry.role or "", "")
        return " · ".join(word for word in (role, entry.unit or "") if word)

    @staticmethod
    def chain(name: str) -> str:
        """Another chain than the case's own (system events, the outbox) in words."""
        return CHAIN_WORDS.get(name, name)

    @staticmethod
    def detail(entry: HistoryEntry) -> str:
        """The 内容 of a line: a message and a notice sent by their words, else the history's."""
        if entry.action == "message_received":
            return MESSAGE_WORDS.get(entry.detail, entry.detail)
        if entry.action == NOTIFICATION_SENT:
            channel, template, recipient = (str(entry.payload.get(key) or "") for key in
                                            ("channel", "template", "recipient_type"))
            return (f"{CHANNEL_WORDS.get(channel, channel)} · "
                    f"{NOTICE_WORDS.get(template, template)} → "
                    f"{RECIPIENT_WORDS.get(recipient, recipient)}")
        return entry.detail

    def field(self, key: str) -> str:
        return self.labels.get(key) or key

    def value(self, key: str, value: Any) -> str:
        """One data value as a person reads it: lists joined with 、, a record as labelled
        lines, codes by their names; never a Python or JSON literal."""
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY
        if isinstance(value, list):
            if all(isinstance(v, str) and UUID.fullmatch(v) for v in value):
                return f"{len(value)} 项（内部编号）"
            return "、".join(self.value(key, v) for v in value)
        if isinstance(value, dict):
            return "\n".join(f"{self.field(k)}：{self.value(k, v)}" for k, v in value.items())
        if isinstance(value, bool) or (isinstance(value, str) and value in FLAGS):
            return FLAGS[value]
        return self._code(key, str(value))

    def _code(self, key: str, text: str) -> str:
        named = self.options.get(key, {}).get(text) or KEY_LABELS.get(key, {}).get(text)
        if named:
            return named
        if UUID.fullmatch(text):
            return "（内部编号）"
        if INSTANT.fullmatch(text):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        return self.units.get(text) or spec_words(text) or text


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
