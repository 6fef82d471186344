"""The case-file report's words for who acted and for the data a step changed.

The report is written in Chinese below the web layer, so it reads the word tables that live
here, the ones the pages' labels translate: actor kinds, chains and events (audit/words.py),
notices, channels and recipients (notify/words.py), messages (library/contract.py); and the
forms' option and field names, the people, rooms and units the case history gathers
(replay/history.py ``options``, ``labels``, ``units``). A value reads as on the audit pages: one
set of rules, replay/values.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.audit.words import ACTOR_WORDS, CHAIN_WORDS
from workflows.library.contract import MESSAGE_WORDS
from workflows.notify.words import CHANNEL_WORDS, NOTICE_WORDS, RECIPIENT_WORDS
from workflows.replay.history import NOTIFICATION_SENT, HistoryEntry
from workflows.replay.values import ValueWords


class Words(ValueWords):
    """The tables one report reads, and the value of one field in words (replay/values.py)."""

    def __init__(self, history: Mapping[str, Any], roles: Mapping[str, str]) -> None:
        super().__init__(labels=history.get("labels") or {}, options=history.get("options") or {},
                         units=history.get("units") or {}, roles=roles)

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
