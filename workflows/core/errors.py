"""Domain errors: what a caller (view, CLI, job) can act on. They carry data, not HTML."""

from __future__ import annotations

from engine.errors import ConcurrentUpdate, Problem

__all__ = ["ConcurrentUpdate", "DeployRejected", "DomainError", "IdempotencyConflict",
           "InvalidInput", "NotFound", "NotPermitted", "ProcessIncident", "TaskNoLongerAvailable"]


class DomainError(Exception):
    """Base of the domain errors."""


class NotFound(DomainError):
    """No such object (or not visible to this actor: callers see 403 for out-of-scope cases)."""


class NotPermitted(DomainError):
    """The actor may not do this; ``rule`` names the policy rule that denied it."""

    audited = False  # set once its access_denied event is written (access.policy.deny)

    def __init__(self, message: str = "not permitted", rule: str = ""):
        self.rule = rule
        super().__init__(message)


class InvalidInput(DomainError):
    """Submitted data failed validation; ``field_errors`` maps field to message."""

    def __init__(self, field_errors: dict[str, str]):
        self.field_errors = field_errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))


class TaskNoLongerAvailable(DomainError):
    """The task was completed, cancelled or overtaken by a deadline meanwhile."""

    def __init__(self, bpmn_id: str = "", state: str = ""):
        self.bpmn_id, self.state = bpmn_id, state
        super().__init__(f"task {bpmn_id} is no longer available ({state})")


class IdempotencyConflict(DomainError):
    """The same Idempotency-Key was used with a different request body."""


class DeployRejected(DomainError):
    """A BPMN/DMN bundle was refused; ``problems`` name file, element id and reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ProcessIncident(DomainError):
    """An engine step failed (an expression, an operation): nothing was saved, the instance is
    in status 'incident' and the supervisors were notified (``workflows.casework.incidents``)."""

    def __init__(self, case_no: str | None, element_id: str | None = None):
        self.case_no, self.element_id = case_no, element_id  # case_no None: no case was saved
        super().__init__(f"process step {element_id or '?'} of case {case_no or '-'} failed")
