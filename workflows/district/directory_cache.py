"""What a process keeps of the directory (each place's nearest units, the lane roles) while the
directory stamp is unchanged (workflows/models/directory.py).

Every write to the units, places or roles moves the stamp in its own transaction, in whichever
process it runs; a kept value is used only under the stamp it was read with, so another process's
edit is seen by the next read here. The stamp costs no statement of its own where a request reads
something anyway: the case read of a step and the caller's read of a request carry it as one more
column (``stamp_column``) and note it in the session (``note_stamp``). Elsewhere (CLI, scheduler)
one read of the stamp stands for the reads it saves.

A value is always read no earlier than the stamp it is kept under (in the same statement, or
after the stamp noted in its transaction): a value newer than its stamp is harmless, an older one
is never kept. Values are immutable and entries replaced whole, under a lock (threads of one
process share them); at most ``MAX_ENTRIES`` per database, the least recently used dropped first.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ScalarSelect, event, select
from sqlalchemy.orm import Session, SessionTransaction

from workflows.models import DirectoryStamp
from workflows.models.directory import STAMP_ID, bumps_seen

MAX_ENTRIES = 2048
STAMP_KEY = "jiefen.directory_stamp"
T = TypeVar("T")
_MISS = object()


def stamp_column() -> ScalarSelect[int]:
    """The stamp as one more column of a query that is sent anyway (NULL without its row)."""
    return select(DirectoryStamp.token).where(DirectoryStamp.id == STAMP_ID).scalar_subquery()


@dataclass(frozen=True)
class Stamp:
    """A stamp as read, with how many bumps this process had sent by then: one sent since may be
    this process's own transaction's, which must not take the values it has just changed from
    the cache (so the stamp is then read again)."""

    token: int
    bumps: int

    @property
    def current(self) -> bool:
        return self.bumps == bumps_seen()


def stamp_read(token: int | None) -> Stamp | None:
    """The stamp a read returned just now (None when the stamp row is missing)."""
    return None if token is None else Stamp(token, bumps_seen())


def note_stamp(session: Session, token: int | None) -> None:
    """Keep the stamp a read of this transaction saw just now, for the lookups that follow."""
    carry_stamp(session, stamp_read(token))


def carry_stamp(session: Session, stamp: Stamp | None) -> None:
    """Keep a stamp read earlier in the request (the caller's read) for this transaction."""
    if stamp is not None:
        session.info[STAMP_KEY] = stamp


def known_stamp(session: Session) -> int | None:
    """The stamp noted in this transaction, unless this process wrote the directory since."""
    stamp = session.info.get(STAMP_KEY)
    return stamp.token if stamp is not None and stamp.current else None


def current_stamp(session: Session) -> int | None:
    """The stamp noted in this transaction, else read now (one statement) and noted."""
    token = known_stamp(session)
    if token is None:
        token = session.scalar(select(DirectoryStamp.token).where(DirectoryStamp.id == STAMP_ID))
        note_stamp(session, token)
    return token


def cached(session: Session, key: Hashable, load: Callable[[Session], tuple[int | None, T]]) -> T:
    """The value of ``key`` kept under the current stamp, else ``load``-ed and kept. ``load``
    returns the stamp its own statement read (None when it read no row) and an immutable value."""
    entries = _entries(session)
    token = known_stamp(session)
    if token is None and entries.has(key):     # a stamp read pays only if something may match
        token = current_stamp(session)
    if token is not None:
        value = entries.get(key, token)
        if value is not _MISS:
            return value
    read, value = load(session)
    read = token if read is None else read
    if read is not None:
        note_stamp(session, read)
        entries.put(key, read, value)
    return value


class _Entries:
    """One database's kept values: key -> (stamp, value), in the order last used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()

    def has(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable, token: int) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] != token:
                return _MISS
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, token: int, value: Any) -> None:
        with self._lock:
            self._items[key] = (token, value)
            self._items.move_to_end(key)
            while len(self._items) > MAX_ENTRIES:
                self._items.popitem(last=False)


# per engine (or per connection, where a session is bound to one, as in the tests)
_BY_DATABASE: weakref.WeakKeyDictionary[Any, _Entries] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def _entries(session: Session) -> _Entries:
    bind = session.get_bind()
    with _REGISTRY_LOCK:
        entries = _BY_DATABASE.get(bind)
        if entries is None:
            entries = _BY_DATABASE[bind] = _Entries()
        return entries


@event.listens_for(Session, "after_transaction_end")
def _forget_stamp(session: Session, transaction: SessionTransaction) -> None:
    # a stamp speaks for the transaction that read it; a session used again reads it again
    if transaction.parent is None:
        session.info.pop(STAMP_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_stamp(session: Session, _previous: SessionTransaction) -> None:
    # a savepoint rolled back may take a directory write (and the stamp it moved) with it
    session.info.pop(STAMP_KEY, None)
