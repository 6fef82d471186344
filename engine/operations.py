"""Service-task operations: a registry of named Python functions and the per-step context."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Operation = Callable[..., Any]
_context: ContextVar[Any] = ContextVar("jiefen_operation_context", default=None)
_step: ContextVar[str | None] = ContextVar("jiefen_operation_step", default=None)


def current_step() -> str | None:
    """Id of the engine task (the service task) whose operation is running; None outside one."""
    return _step.get()


class OperationRegistry:
    """Maps an operation name (``serviceTaskOperator id``) to a function(context, task_data, **params)."""

    def __init__(self, operations: dict[str, Operation] | None = None):
        self._operations: dict[str, Operation] = dict(operations or {})

    def register(self, name: str, function: Operation) -> None:
        self._operations[name] = function

    def __contains__(self, name: object) -> bool:
        return name in self._operations

    def names(self) -> frozenset[str]:
        return frozenset(self._operations)

    def call(self, name: str, task_data: dict, params: dict[str, Any], *,
             step: str | None = None) -> Any:
        """Run an operation; ``step`` (the calling task's id) is readable via ``current_step``."""
        if name not in self._operations:
            raise KeyError(f"unknown service operation {name!r}")
        token = _step.set(step)
        try:
            return self._operations[name](_context.get(), task_data, **params)
        finally:
            _step.reset(token)


@contextmanager
def operation_context(value: Any) -> Iterator[None]:
    """Bind what operations may use during one unit of work (case, outbox, actor)."""
    token = _context.set(value)
    try:
        yield
    finally:
        _context.reset(token)
