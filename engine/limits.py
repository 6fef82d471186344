"""Limits on what one model may make the engine do: a multi-instance ceiling and a run budget.

The ceiling holds everywhere (a cardinality or collection above it is refused before any child
task is created). The budget holds only where a process owner's draft runs on the web worker
(validation's smoke run and the dry run): steps and seconds, checked at every engine step and
every expression, so a runaway loop stops in seconds and the worker is free again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from engine.errors import EngineError

DEFAULT_MAX_CARDINALITY = 200


class LimitExceeded(EngineError):
    """A limit refused the run; ``code`` says which (``cardinality``, ``steps``, ``seconds``)."""

    def __init__(self, code: str, element_id: str | None = None, **params: object):
        self.code, self.element_id, self.params = code, element_id, params
        super().__init__(f"{code} limit exceeded at {element_id or '(process)'}: {params}")


@dataclass
class Budget:
    """At most ``max_steps`` engine steps and expressions and ``max_seconds`` of ``clock`` time.

    ``clock`` is injectable so a test does not depend on the machine's speed."""

    max_steps: int = 5_000
    max_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    steps: int = 0
    started: float | None = field(default=None)

    def tick(self, element_id: str | None = None) -> None:
        if self.started is None:
            self.started = self.clock()
        self.steps += 1
        if self.steps > self.max_steps:
            raise LimitExceeded("steps", element_id, limit=self.max_steps)
        if self.clock() - self.started > self.max_seconds:
            raise LimitExceeded("seconds", element_id, limit=self.max_seconds)


_BUDGET: ContextVar[Budget | None] = ContextVar("jiefen_budget", default=None)


@contextmanager
def budgeted(budget: Budget | None) -> Iterator[Budget | None]:
    """Run the block under ``budget`` (None: no budget, as for real cases)."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current_budget() -> Budget | None:
    return _BUDGET.get()


def tick(element_id: str | None = None) -> None:
    """Count one step against the running budget, if any."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick(element_id)


def check_cardinality(count: object, ceiling: int, element_id: str | None) -> None:
    """Refuse a multi-instance of more than ``ceiling`` instances (or a non-number)."""
    if isinstance(count, bool) or not isinstance(count, int):
        return  # the library reports a non-number itself
    if count > ceiling:
        raise LimitExceeded("cardinality", element_id, count=count, limit=ceiling)
