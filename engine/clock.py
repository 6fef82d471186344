"""The one time source, with a hook so SpiffWorkflow's timers read the same clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

ClockFn = Callable[[], datetime]
_current: ContextVar[ClockFn | None] = ContextVar("jiefen_clock", default=None)


def now() -> datetime:
    """The clock bound to this context, else the system clock (aware UTC)."""
    clock = _current.get()
    return clock() if clock is not None else datetime.now(UTC)


@contextmanager
def use_clock(clock: ClockFn | None) -> Iterator[None]:
    """Bind ``clock`` (a callable returning aware datetimes) for this context."""
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)


class Clock(Protocol):
    """What services read the time from: SystemClock, or FrozenClock in tests and replays."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    __call__ = now


class FrozenClock:
    """A clock that only moves when told to (tests, replay, dry runs)."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    __call__ = now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.current += delta if delta is not None else timedelta(**kwargs)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment.astimezone(UTC)


class _EngineDatetime(datetime):
    """Replaces ``datetime`` inside SpiffWorkflow's timer module so timers read our clock."""

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001
        if _current.get() is None:
            return datetime.now(tz)
        current = now()
        return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)


# SpiffWorkflow has no clock hook: its timer module's ``datetime`` is replaced (a guard test checks
# the module still uses that name).
_spiff_timer.datetime = _EngineDatetime
