"""Engine error tree: everything a caller of the engine may need to tell apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EngineError(Exception):
    """Base of every engine error."""


class FieldCode(StrEnum):
    """Why the engine refused a value (forms, phone numbers, ID numbers); params in comments.

    Codes, not sentences: the web layer turns them into words (web/messages.py).
    """

    REQUIRED = "required"
    UNKNOWN_FIELD = "unknown_field"
    UNSUPPORTED_TYPE = "unsupported_type"  # type
    NOT_TEXT = "not_text"
    BAD_CHARACTERS = "bad_characters"  # control characters, invalid UTF-8, lone surrogates
    INVISIBLE = "invisible"  # nothing visible (zero-width, bidi controls only)
    TOO_DEEP = "too_deep"  # limit (JSON nesting)
    TOO_LONG = "too_long"  # limit
    TOO_SHORT = "too_short"  # limit
    BAD_FORMAT = "bad_format"
    NOT_INTEGER = "not_integer"
    TOO_SMALL = "too_small"  # limit
    TOO_LARGE = "too_large"  # limit
    NOT_BOOLEAN = "not_boolean"
    NOT_DATE = "not_date"
    TOO_EARLY = "too_early"  # limit
    TOO_LATE = "too_late"  # limit
    NOT_AN_OPTION = "not_an_option"
    PHONE_CHARACTERS = "phone_characters"
    PHONE_NOT_MOBILE = "phone_not_mobile"
    ID_NUMBER_FORMAT = "id_number_format"
    ID_NUMBER_BIRTH_DATE = "id_number_birth_date"
    ID_NUMBER_CHECK_DIGIT = "id_number_check_digit"


@dataclass(frozen=True)
class FieldError:
    """One refused value: a code (FieldCode or workflows' ErrorCode) and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.code + (f" {dict(self.params)}" if self.params else "")

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "params": dict(self.params)}


class FieldRefused(ValueError):
    """A value was refused; ``error`` says why as a FieldError (never a sentence)."""

    def __init__(self, code: str, **params: Any):
        self.error = FieldError(code, params)
        super().__init__(str(self.error))


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by file and BPMN/DMN element id."""

    file: str
    element_id: str | None
    message: str
    severity: str = "error"
    code: str | None = None  # set where the web layer has words for it (the message is English)
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}#{self.element_id}" if self.element_id else self.file
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"file": self.file, "element_id": self.element_id,
                               "message": self.message, "severity": self.severity}
        if self.code:
            out.update(code=self.code, params=dict(self.params))
        return out


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
