"""Catching the rollups up with the queued cases (docs/cockpit.md, "Rollups").

A step only queues the cases it changed (``maintain.queue_pending``); ``catch_up`` applies them
in batches, each in its own short transaction: the claim (the queue rows deleted) and the apply
(facts locked, cases read, rollup rows upserted) commit together. Called by the scheduler every
JIEFEN_ROLLUP_INTERVAL seconds and, bounded (``before_reading``), before the cockpit reads; a
rebuild (``maintain.rebuild``) empties the queue instead.

A batch whose apply fails is rolled back and applied again in halves, each in its own
transaction, down to single cases, so one bad case does not hold up the rest (one bad case in a
batch of 500 costs about 20 small transactions where one at a time would cost 500). A case that
fails alone is parked: it stays queued with its attempts and last error, batches skip it, and
``retry_parked`` (the scheduler) tries it alone again after a delay doubling at each failure. The
log names the case id and the exception's class and line, never a value (a message may quote
personal data).

On PostgreSQL the claim skips rows another catch-up holds, so concurrent catch-ups never wait for
each other or apply a case twice. The claim comes before the cases are read: a step changing a
claimed case queues it again at its commit (its queue write waits until the claim commits), so
whatever the read missed is applied by the next catch-up. A reader (``wait=True``) instead waits
for a batch another catch-up holds: it must see that batch's figures.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from workflows.models.rollups import RollupPending
from workflows.rollups.maintain import apply

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

log = logging.getLogger(__name__)

BATCH = 500                # cases per transaction
# batches a cockpit reader applies before it reads: at most 1,000 cases (well past a normal
# queue; 0.3-1.5 s on SQLite), the rest noted as not yet counted (docs/cockpit.md, "Rollups")
READER_ROUNDS = 2
# how long a reader waits for each lock on PostgreSQL: a batch of 500 another catch-up holds
# commits well within it; a rebuild holds its locks for its whole run
READER_WAIT = timedelta(seconds=2)
LOCK_TIMEOUT = "55P03"     # PostgreSQL's lock_not_available: lock_timeout ran out
PARKED_RETRIES = 20        # parked cases a scheduler run tries again
RETRY_FIRST = timedelta(seconds=30)    # a parked case's first retry, doubled at each failure
RETRY_MAX = timedelta(hours=1)


def catch_up(services: Services, *, rounds: int | None = None, wait: bool = False,
             batch: int = BATCH) -> int:
    """Apply queued cases, a batch per transaction, until the queue is empty (or after
    ``rounds`` batches); returns how many cases were applied (parked ones are not).
    With nothing queued: one statement."""
    return _run(services, rounds, wait, batch)[0]


class GaveUp(Exception):
    """A reader's batch waited READER_WAIT for a lock and was rolled back: another transaction
    (a rebuild) holds its queue rows or facts. Not the cases' fault: nothing is parked."""


def before_reading(services: Services) -> bool:
    """A cockpit reader's catch-up, after its scope check: at most READER_ROUNDS batches,
    waiting at most READER_WAIT for a batch another catch-up holds. Returns whether cases may be
    left queued (the bound reached, the wait given up, or the catch-up failed: the reader then
    shows its figures without them)."""
    try:
        return _run(services, READER_ROUNDS, True, BATCH)[1]
    except GaveUp:
        log.info("rollups: a reader gave up waiting for a lock (a rebuild?); reading without")
        return True
    except Exception:  # the figures are still worth showing, with the queue noted as not counted
        log.exception("rollups: a reader's catch-up failed")
        return True


def _run(services: Services, rounds: int | None, wait: bool, batch: int) -> tuple[int, bool]:
    """(cases applied, whether ``rounds`` ran out with cases possibly left)."""
    done = 0
    while rounds is None or rounds > 0:
        claimed, failed = _batch(services, batch, wait)
        done += _in_halves(services, sorted(claimed), wait) if failed else len(claimed)
        if len(claimed) < batch:
            return done, False
        rounds = None if rounds is None else rounds - 1
    return done, True


def _batch(services: Services, batch: int, wait: bool,
           ids: list[int] | None = None) -> tuple[dict[int, bool], bool]:
    """Claim and apply one batch (``ids``: of these cases) in one transaction: (the cases
    claimed, whether the apply failed and was rolled back)."""
    with services.new_uow() as uow, _bounded(uow.session, wait):
        claimed = claim(uow.session, batch, wait=wait, ids=ids)
        try:
            apply(uow.session, sorted(claimed), {i for i, n in claimed.items() if n},
                  services.settings.timezone)
            uow.commit()
        except Exception as exc:  # rolled back as the block ends: the cases are queued again
            if _timed_out(exc):
                raise
            log.warning("rollups: a batch of %d cases failed (%s); applying it in halves",
                        len(claimed), describe(exc))
            return claimed, True
    return claimed, False


def _in_halves(services: Services, ids: list[int], wait: bool) -> int:
    """Apply the cases of a failed batch in two halves, each in its own transaction, halving a
    half that fails again down to single cases (parked if they fail); returns how many were
    applied."""
    middle = len(ids) // 2
    return sum(_part(services, part, wait) for part in (ids[:middle], ids[middle:]) if part)


def _part(services: Services, ids: list[int], wait: bool) -> int:
    if len(ids) == 1:
        return _alone(services, ids[0], wait=wait)
    claimed, failed = _batch(services, len(ids), wait, ids)
    return _in_halves(services, sorted(claimed), wait) if failed else len(claimed)


def _alone(services: Services, case_id: int, *, wait: bool = False,
           due: datetime | None = None) -> int:
    """Apply one queued case in its own transaction (``due``: a parked case whose retry is due
    then); a failure parks it. Returns 1 if applied, 0 if parked or taken by another
    catch-up meanwhile."""
    try:
        with services.new_uow() as uow, _bounded(uow.session, wait):
            claimed = claim(uow.session, 1, wait=wait, ids=[case_id], due=due)
            apply(uow.session, list(claimed), {i for i, n in claimed.items() if n},
                  services.settings.timezone)
            uow.commit()
        return len(claimed)
    except GaveUp:
        raise
    except Exception as exc:  # this case alone fails: keep it aside, the others go on
        park(services, case_id, describe(exc))
        return 0


def park(services: Services, case_id: int, error: str) -> None:
    """Keep a queued case aside after a failed apply: one more attempt, the next try after a
    delay doubling at each failure (RETRY_FIRST to RETRY_MAX), the error (no values)."""
    now = services.clock.now()
    with services.new_uow() as uow:
        row = uow.session.scalars(select(RollupPending).where(RollupPending.case_id == case_id)
                                  .with_for_update()).one_or_none()
        if row is None:   # applied meanwhile by another catch-up
            return
        row.attempts += 1
        row.parked_at = row.parked_at or now
        row.retry_at = now + min(RETRY_FIRST * 2 ** min(row.attempts - 1, 16), RETRY_MAX)
        row.last_error = error[:200]
        attempts, retry_at = row.attempts, row.retry_at
        uow.commit()
    log.warning("rollups: case %d parked after %d failed attempt(s), next try at %s: %s",
                case_id, attempts, retry_at.isoformat(), error)


def retry_parked(services: Services, *, limit: int = PARKED_RETRIES) -> int:
    """Try the parked cases whose retry is due, each alone (the scheduler, after its batches);
    returns how many were applied. With nothing parked: one statement."""
    now = services.clock.now()
    with services.session_factory() as session:
        due = list(session.scalars(
            select(RollupPending.case_id)
            .where(RollupPending.attempts > 0, RollupPending.retry_at <= now)
            .order_by(RollupPending.retry_at, RollupPending.case_id).limit(limit)))
    return sum(_alone(services, case_id, due=now) for case_id in due)


def claim(session: Session, limit: int, *, wait: bool = False, ids: list[int] | None = None,
          due: datetime | None = None) -> dict[int, bool]:
    """Take (delete) up to ``limit`` queued cases, lowest ids first: {case id: noticed}. Only
    cases not parked; with ``due``, only parked cases whose retry is due by then; with ``ids``,
    only these cases."""
    which = [RollupPending.attempts == 0 if due is None
             else and_(RollupPending.attempts > 0, RollupPending.retry_at <= due)]
    if ids is not None:
        which.append(RollupPending.case_id.in_(ids))
    first = (select(RollupPending.case_id).where(*which).order_by(RollupPending.case_id)
             .limit(limit).with_for_update(skip_locked=not wait))
    rows = session.execute(delete(RollupPending).where(RollupPending.case_id.in_(first))
                           .returning(RollupPending.case_id, RollupPending.noticed),
                           execution_options={"synchronize_session": False})
    return {found: bool(noticed) for found, noticed in rows}


@contextmanager
def _bounded(session: Session, wait: bool) -> Iterator[None]:
    """A reader's transaction (``wait``) on PostgreSQL waits at most READER_WAIT for each lock
    (SET LOCAL: until its commit or rollback); a lock not had in time raises GaveUp."""
    if wait and session.get_bind().dialect.name == "postgresql":
        ms = int(READER_WAIT.total_seconds() * 1000)
        session.execute(text(f"SET LOCAL lock_timeout = {ms}"))
    try:
        yield
    except OperationalError as exc:
        if _timed_out(exc):
            raise GaveUp from exc
        raise


def _timed_out(exc: BaseException) -> bool:
    return (isinstance(exc, OperationalError)
            and getattr(exc.orig, "sqlstate", None) == LOCK_TIMEOUT)


def describe(exc: BaseException) -> str:
    """The exception's class and the file and line it was raised at: what an operator needs to
    find the cause, without the message (it may quote a case's data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"
