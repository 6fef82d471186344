"""Catching the rollups up with the queued cases (docs/cockpit.md, "Rollups").

A step only queues the cases it changed (``maintain.queue_pending``); ``catch_up`` applies them
in batches, each in its own short transaction: the claim (the queue rows deleted) and the apply
(facts locked, cases read, rollup rows upserted) commit together, so a batch whose apply fails
goes back to the queue. Called before the cockpit reads the rollups and by the scheduler every
JIEFEN_ROLLUP_INTERVAL seconds; a rebuild (``maintain.rebuild``) empties the queue instead.

On PostgreSQL the claim skips rows another catch-up holds, so concurrent catch-ups never wait for
each other or apply a case twice. The claim comes before the cases are read: a step changing a
claimed case queues it again at its commit (its queue write waits until the claim commits), so
whatever the read missed is applied by the next catch-up. A reader (``wait=True``) instead waits
for a batch another catch-up holds: it must see that batch's figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows.models.rollups import RollupPending
from workflows.rollups.maintain import apply

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

BATCH = 500            # cases per transaction


def catch_up(services: Services, *, rounds: int | None = None, wait: bool = False,
             batch: int = BATCH) -> int:
    """Apply queued cases, a batch per transaction, until the queue is empty (or after
    ``rounds`` batches); returns how many cases. With nothing queued: one statement."""
    done = 0
    while rounds is None or rounds > 0:
        with services.new_uow() as uow:
            claimed = claim(uow.session, batch, wait=wait)
            apply(uow.session, sorted(claimed), {i for i, n in claimed.items() if n},
                  services.settings.timezone)
            uow.commit()
        done += len(claimed)
        if len(claimed) < batch:
            break
        rounds = None if rounds is None else rounds - 1
    return done


def claim(session: Session, limit: int, *, wait: bool = False) -> dict[int, bool]:
    """Take (delete) up to ``limit`` queued cases, lowest ids first: {case id: noticed}."""
    first = (select(RollupPending.case_id).order_by(RollupPending.case_id).limit(limit)
             .with_for_update(skip_locked=not wait))
    rows = session.execute(delete(RollupPending).where(RollupPending.case_id.in_(first))
                           .returning(RollupPending.case_id, RollupPending.noticed),
                           execution_options={"synchronize_session": False})
    return {case_id: bool(noticed) for case_id, noticed in rows}
