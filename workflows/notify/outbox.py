"""Outbox rows written in the caller's transaction; delivery lives in workflows/notify/delivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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
    """Queues notifications in the unit of work's session; a repeated dedupe key is ignored."""

    def __init__(self, session: Session, clock: Clock):
        self.session, self.clock = session, clock
        self._keys: set[str] = set()

    def add(self, *, channel: str, recipient_type: str, recipient_id: Any, template: str,
            params: dict, dedupe_key: str, case: Case | int | None = None) -> OutboxMessage | None:
        """Queue one message; params must be free of personal data (addresses resolve at delivery)."""
        if dedupe_key in self._keys or self.session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
            return None
        self._keys.add(dedupe_key)
        if case is not None and not isinstance(case, int) and case.id is None:
            self.session.flush()  # a case opened in this unit of work gets its id
        now = self.clock.now()
        message = OutboxMessage(
            created_at=now, case_id=getattr(case, "id", case), channel=channel,
            recipient_type=recipient_type, recipient_id=None if recipient_id is None else str(recipient_id),
            template=template, params=params, dedupe_key=dedupe_key, status="pending",
            attempts=0, next_attempt_at=now)
        self.session.add(message)
        return message
