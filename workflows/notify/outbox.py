"""Outbox rows written in the caller's transaction; delivery lives in workflows/notify/delivery."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.models import OutboxMessage
from workflows.models import Case

# who a message is for (the address itself is resolved at delivery) and where it stands
RECIPIENT_TYPES = ("party", "user", "department", "role", "channel_order")
DELIVERY_STATES = ("pending", "sent", "dead")
# the channels an outbox message goes by: notices to people, and pushes to subscribed feeds and
# the 12345 hotline's callback (workflows/channels)
NOTICE_CHANNELS = ("file", "sms", "email", "phone", "feed", "hotline_12345")


class Outbox:
    """Queues notifications in the unit of work's transaction; a repeated dedupe key is ignored
    (one INSERT that skips a key already taken, instead of a look-up and an insert)."""

    def __init__(self, session: Session, clock: Clock):
        self.session, self.clock = session, clock
        self._keys: set[str] = set()

    def add(self, *, channel: str, recipient_type: str, recipient_id: Any, template: str,
            params: dict, dedupe_key: str, case: Case | int | None = None) -> bool:
        """Queue one message (True) unless its dedupe key is taken (False); params must be free of
        personal data (addresses resolve at delivery)."""
        if dedupe_key in self._keys:
            return False
        self._keys.add(dedupe_key)
        if case is not None and not isinstance(case, int) and case.id is None:
            self.session.flush()  # a case opened in this unit of work gets its id
        now = self.clock.now()
        with self.session.no_autoflush:   # it refers to nothing pending: the step's rows wait for the commit
            result = self.session.execute(_insert(self.session.get_bind().dialect.name), {
                "created_at": now, "case_id": getattr(case, "id", case), "channel": channel,
                "recipient_type": recipient_type,
                "recipient_id": None if recipient_id is None else str(recipient_id),
                "template": template, "params": params, "dedupe_key": dedupe_key,
                "status": "pending", "attempts": 0, "next_attempt_at": now})
        return bool(result.rowcount)  # type: ignore[attr-defined]  # an INSERT's CursorResult


_INSERTS: dict[str, Insert] = {}


def _insert(dialect: str) -> Insert:
    """The INSERT that skips a taken dedupe key, built once per dialect (values bound per call)."""
    if dialect not in _INSERTS:
        table = cast(Table, OutboxMessage.__table__)
        insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        _INSERTS[dialect] = insert.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return _INSERTS[dialect]
