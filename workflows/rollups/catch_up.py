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
``retry_parked`` (the scheduler) tries it alone again after a delay doubling at each failure; a
step changing it makes it due at once (the change may mend it: ``maintain.queue_pending``). The
log names the case id and the exception's class and line, never a value (a message may quote
personal data).

A race lost (a deadlock, a serialization failure, a lock not had in time: the unit of work's
ConcurrentUpdate, or a lock_timeout) is not the cases' fault: the transaction is rolled back and
its cases stay queued as they were, unparked, for the next run; a reader stops catching up and
reads without them.

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
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, delete, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import ConcurrentUpdate
from workflows.models.rollups import RollupPending
from workflows.rollups.maintain import apply

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services
    from workflows.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 500                # cases per transaction
# batches a cockpit reader applies before it reads: at most 1,000 cases (well past a normal
# queue; 0.3-1.5 s on SQLite), the rest noted as not yet counted (docs/cockpit.md, "Rollups")
READER_ROUNDS = 2
# how long a reader waits for each lock (on SQLite: for the write lock): a batch of 500 another
# catch-up holds commits well within it; a rebuild holds its locks for its whole run
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
    """A reader's unit of work waited READER_WAIT for a lock (or lost another race) and was
    rolled back: another transaction (a rebuild) holds its queue rows, its facts or, on SQLite,
    the write lock. Not the cases' fault: nothing is parked, the reader stops catching up."""


def before_reading(services: Services) -> bool:
    """A cockpit reader's catch-up, after its scope check: at most READER_ROUNDS batches,
    waiting at most READER_WAIT for a lock (PostgreSQL) or for the write lock (SQLite, whose
    busy timeout is shortened to it meanwhile). Returns whether cases may be left queued (the
    bound reached, the wait given up, a race lost or the catch-up failed: the reader then shows
    its figures without them)."""
    try:
        with _reader(services) as reading:
            return _run(reading, READER_ROUNDS, True, BATCH)[1]
    except GaveUp:
        log.info("rollups: a reader gave up waiting for a lock (a rebuild?); reading without")
        return True
    except Exception:  # the figures are still worth showing, with the queue noted as not counted
        log.exception("rollups: a reader's catch-up failed")
        return True


def _run(services: Services, rounds: int | None, wait: bool, batch: int) -> tuple[int, bool]:
    """(cases applied, whether cases may be left: ``rounds`` ran out or a race was lost)."""
    done = 0
    while rounds is None or rounds > 0:
        claimed, outcome = _batch(services, batch, wait)
        if outcome is LOST:      # the batch is queued again: the next run applies it
            return done, True
        done += _in_halves(services, sorted(claimed), wait) if outcome is FAILED else len(claimed)
        if len(claimed) < batch:
            return done, False
        rounds = None if rounds is None else rounds - 1
    return done, True


APPLIED, FAILED, LOST = "applied", "failed", "lost"


def _batch(services: Services, batch: int, wait: bool,
           ids: list[int] | None = None) -> tuple[dict[int, bool], str]:
    """Claim and apply one batch (``ids``: of these cases) in one transaction: (the cases
    claimed, APPLIED; or FAILED or LOST, the transaction rolled back and the cases queued
    again)."""
    claimed: dict[int, bool] = {}
    try:
        with _unit(services, wait) as uow:
            claimed = claim(uow.session, batch, wait=wait, ids=ids)
            apply(uow.session, sorted(claimed), {i for i, n in claimed.items() if n},
                  services.settings.timezone)
            uow.commit()
    except GaveUp:
        raise
    except Exception as exc:
        if lost(exc):
            log.info("rollups: a batch of %d cases lost a race (%s); left queued for the next "
                     "run", len(claimed), describe(exc))
            return claimed, LOST
        if not claimed:   # the claim itself failed: not the cases' fault
            raise
        log.warning("rollups: a batch of %d cases failed (%s); applying it in halves",
                    len(claimed), describe(exc))
        return claimed, FAILED
    return claimed, APPLIED


def _in_halves(services: Services, ids: list[int], wait: bool) -> int:
    """Apply the cases of a failed batch in two halves, each in its own transaction, halving a
    half that fails again down to single cases (parked if they fail); returns how many were
    applied. A half that loses a race stays queued for the next run."""
    middle = len(ids) // 2
    return sum(_part(services, part, wait) for part in (ids[:middle], ids[middle:]) if part)


def _part(services: Services, ids: list[int], wait: bool) -> int:
    if len(ids) == 1:
        return _alone(services, ids[0], wait=wait)
    claimed, outcome = _batch(services, len(ids), wait, ids)
    if outcome is FAILED:
        return _in_halves(services, sorted(claimed), wait)
    return len(claimed) if outcome is APPLIED else 0


def _alone(services: Services, case_id: int, *, wait: bool = False,
           due: datetime | None = None) -> int:
    """Apply one queued case in its own transaction (``due``: a parked case whose retry is due
    then); a failure parks it, a lost race leaves it as it was (due at the next run). Returns 1
    if applied, 0 if not or taken by another catch-up meanwhile.

    The case's queue row is locked (not deleted) and the apply runs under a savepoint, so a
    failure parks the row in the transaction that locked it: a step changing the case meanwhile
    waits on that row and, once the parking commits, makes the case due again (a mend is
    counted at the next run, not after the delay), and a rebuild waiting on it empties it."""
    try:
        with _unit(services, wait) as uow:
            session = uow.session
            taken = session.execute(
                select(RollupPending.noticed, RollupPending.attempts, RollupPending.parked_at)
                .where(RollupPending.case_id == case_id, *_claimable(due, None))
                .with_for_update(skip_locked=not wait)).first()
            if taken is None:    # applied or taken meanwhile by another catch-up
                return 0
            try:
                with session.begin_nested():
                    apply(session, [case_id], {case_id} if taken.noticed else set(),
                          services.settings.timezone)
                    session.flush()
            except Exception as exc:
                if uow.is_lost_race(exc) or _timed_out(exc):
                    raise
                error = describe(exc)
                attempts, retry_at = _parked(session, case_id, taken.attempts, taken.parked_at,
                                             error, services.clock.now())
                uow.commit()
                _log_parked(case_id, attempts, retry_at, error)
                return 0
            session.execute(delete(RollupPending).where(RollupPending.case_id == case_id),
                            execution_options={"synchronize_session": False})
            uow.commit()
        return 1
    except GaveUp:
        raise
    except Exception as exc:  # this case alone fails: keep it aside, the others go on
        if lost(exc):
            log.info("rollups: case %d lost a race (%s); left queued for the next run",
                     case_id, describe(exc))
        else:
            park(services, case_id, describe(exc), wait=wait)
        return 0


def _parked(session: Session, case_id: int, attempts: int, parked_at: datetime | None,
            error: str, now: datetime) -> tuple[int, datetime]:
    """Park a locked queue row one failure further: the next try after a delay doubling at each
    failure (RETRY_FIRST to RETRY_MAX), the error (no values)."""
    attempts += 1
    retry_at = now + min(RETRY_FIRST * 2 ** min(attempts - 1, 16), RETRY_MAX)
    session.execute(update(RollupPending).where(RollupPending.case_id == case_id).values(
        attempts=attempts, parked_at=parked_at or now, retry_at=retry_at,
        last_error=error[:200]), execution_options={"synchronize_session": False})
    return attempts, retry_at


def park(services: Services, case_id: int, error: str, *, wait: bool = False) -> None:
    """Keep a queued case aside after a failed apply (``_parked``), when the failure came after
    the savepoint (at the commit). A reader's park (``wait``) waits for the row as long as its
    other statements (GaveUp); one that loses a race leaves the case queued, unparked."""
    try:
        with _unit(services, wait) as uow:
            row = uow.session.execute(select(RollupPending.attempts, RollupPending.parked_at)
                                      .where(RollupPending.case_id == case_id)
                                      .with_for_update()).first()
            if row is None:   # applied meanwhile by another catch-up
                return
            attempts, retry_at = _parked(uow.session, case_id, row.attempts, row.parked_at,
                                         error, services.clock.now())
            uow.commit()
    except GaveUp:
        raise
    except Exception as exc:
        if not lost(exc):
            raise
        log.info("rollups: case %d failed (%s) but parking it lost a race (%s); left queued",
                 case_id, error, describe(exc))
        return
    _log_parked(case_id, attempts, retry_at, error)


def _log_parked(case_id: int, attempts: int, retry_at: datetime, error: str) -> None:
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
    first = (select(RollupPending.case_id).where(*_claimable(due, ids))
             .order_by(RollupPending.case_id).limit(limit).with_for_update(skip_locked=not wait))
    rows = session.execute(delete(RollupPending).where(RollupPending.case_id.in_(first))
                           .returning(RollupPending.case_id, RollupPending.noticed),
                           execution_options={"synchronize_session": False})
    return {found: bool(noticed) for found, noticed in rows}


def _claimable(due: datetime | None, ids: list[int] | None) -> list:
    which = [RollupPending.attempts == 0 if due is None
             else and_(RollupPending.attempts > 0, RollupPending.retry_at <= due)]
    if ids is not None:
        which.append(RollupPending.case_id.in_(ids))
    return which


@contextmanager
def _unit(services: Services, wait: bool) -> Iterator[UnitOfWork]:
    """A catch-up's unit of work. A reader's (``wait``) waits at most READER_WAIT for each lock
    (PostgreSQL: SET LOCAL lock_timeout, until its commit or rollback; SQLite: ``_reader``) and
    gives up (GaveUp) on a lock not had in time or any other lost race: it reads without."""
    try:
        with services.new_uow() as uow:
            if wait and uow.session.get_bind().dialect.name == "postgresql":
                ms = int(READER_WAIT.total_seconds() * 1000)
                uow.session.execute(text(f"SET LOCAL lock_timeout = {ms}"))
            yield uow
    except Exception as exc:
        if wait and lost(exc):
            raise GaveUp from exc
        raise


@contextmanager
def _reader(services: Services) -> Iterator[Services]:
    """The services a reader's catch-up runs with. On SQLite a transaction that writes waits
    for the write lock (BEGIN IMMEDIATE) up to the busy timeout (30 s), and a rebuild holds that
    lock for its whole run: the reader's units of work run on one connection whose busy timeout
    is READER_WAIT, set back before the connection returns to the pool. A lock not had in time
    is a lost race (ConcurrentUpdate): the reader reads without the queue."""
    db = services.db
    if not isinstance(db, Engine) or db.dialect.name != "sqlite":
        yield services   # PostgreSQL: lock_timeout (``_unit``); tests: one shared connection
        return
    with db.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        before = raw.execute("PRAGMA busy_timeout").fetchone()[0]
        raw.execute(f"PRAGMA busy_timeout = {int(READER_WAIT.total_seconds() * 1000)}")
        try:
            yield replace(services, session_factory=sessionmaker(bind=connection,
                                                                 expire_on_commit=False))
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(before)}")


def lost(exc: BaseException) -> bool:
    """A lost race, not the cases' fault: a deadlock, a serialization failure, a lock not had
    (the unit of work raises these as ConcurrentUpdate: workflows/runtime/unit_of_work.py) or a
    lock_timeout run out. The cases stay queued as they were, for the next run."""
    return isinstance(exc, ConcurrentUpdate) or _timed_out(exc)


def _timed_out(exc: BaseException) -> bool:
    return (isinstance(exc, OperationalError)
            and getattr(exc.orig, "sqlstate", None) == LOCK_TIMEOUT)


def describe(exc: BaseException) -> str:
    """The exception's class and the file and line it was raised at: what an operator needs to
    find the cause, without the message (it may quote a case's data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"
