"""Engine error tree: everything a caller of the engine may need to tell apart."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base of every engine error."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by file and BPMN/DMN element id."""

    file: str
    element_id: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}#{self.element_id}" if self.element_id else self.file
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "message": self.message,
                "severity": self.severity}


class BpmnValidationError(EngineError):
    """A BPMN/DMN bundle was refused; ``problems`` names each file, element and reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ExpressionError(EngineError, ValueError):
    """An expression uses forbidden syntax or fails to evaluate."""


class TaskNotFound(EngineError):
    """No task with this id exists in the instance."""


class TaskNotReady(EngineError):
    """The task exists but can no longer be completed (done, cancelled, or a deadline won)."""

    def __init__(self, bpmn_id: str, state: str = ""):
        self.bpmn_id = bpmn_id
        self.state = state
        super().__init__(f"task {bpmn_id} is not ready ({state})")


class EngineStepFailed(EngineError):
    """The engine raised while advancing; the caller must roll back."""

    def __init__(self, message: str, element_id: str | None = None):
        self.element_id = element_id
        super().__init__(message)


class ConcurrentUpdate(EngineError):
    """Someone else committed a change to the same row first; nothing was written."""


class MessageNotExpected(EngineError):
    """The instance is not waiting for this message."""
