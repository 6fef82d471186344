"""A supervisor checks a warning and decides: 已核实 (confirmed) or 误报 (false alarm), with a note.

Only supervisors decide, and only warnings they may see (their unit's place subtree; a warning
without a place: supervisors of a unit without a place). The note is required, at most
NOTE_LIMIT characters, and may not hold personal data (workflows/core/pii_text.py). A warning
is decided once: the update only applies to an open warning, so of two supervisors deciding at
the same moment the second gets ``AlreadyDecided`` and nothing changes for them.
"""

from __future__ import annotations

from sqlalchemy import CursorResult, select, update

from workflows.access.policy import Denied, denials_audited, user_id
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import (
    DomainError,
    ErrorCode,
    FieldCode,
    FieldError,
    InvalidInput,
    NotFound,
)
from workflows.early_warning.listing import may_decide
from workflows.models import EarlyWarning, Place, RoleCode, WarningState
from workflows.runtime.unit_of_work import UnitOfWork

NOTE_LIMIT = 500
DECISIONS = (WarningState.CONFIRMED, WarningState.FALSE_ALARM)


class AlreadyDecided(DomainError):
    """The warning was decided by someone else meanwhile (409)."""

    def __init__(self, warning_id: int, state: str):
        self.warning_id, self.state = warning_id, state
        super().__init__(f"warning {warning_id} is already {state}")


def decide_warning(uow: UnitOfWork, actor: Actor, warning_id: int, *, decision: str,
                   note: str) -> EarlyWarning:
    """Mark an open warning confirmed or a false alarm; audited ``warning_decided``."""
    with denials_audited(uow.services, actor, object_type="early_warning",
                         object_id=warning_id), uow:
        if not actor.has(RoleCode.SUPERVISOR):   # the role first: no answer says an id exists
            raise Denied(ErrorCode.NOT_PERMITTED, "warning.decide.role",
                         object_type="early_warning", object_id=warning_id)
        found = uow.session.execute(
            select(EarlyWarning, Place.path).outerjoin(Place, Place.id == EarlyWarning.place_id)
            .where(EarlyWarning.id == warning_id)).first()
        if found is None:
            raise NotFound(ErrorCode.NOT_FOUND, warning_id=warning_id)
        warning, path = found
        if not may_decide(actor, path):
            raise Denied(ErrorCode.PLACE_SCOPE, "warning.decide.scope",
                         object_type="early_warning", object_id=warning_id)
        text = (note or "").strip()
        errors: dict[str, FieldError] = {}
        if decision not in DECISIONS:
            errors["decision"] = FieldError(FieldCode.NOT_AN_OPTION)
        if not text:
            errors["note"] = FieldError(FieldCode.REQUIRED)
        elif len(text) > NOTE_LIMIT:
            errors["note"] = FieldError(FieldCode.TOO_LONG, {"limit": NOTE_LIMIT})
        errors.update(pii_text.field_errors({"note": text}))
        if errors:
            raise InvalidInput(errors)
        now = uow.clock.now()
        changed = uow.session.execute(
            update(EarlyWarning)
            .where(EarlyWarning.id == warning_id, EarlyWarning.state == WarningState.OPEN)
            .values(state=decision, decided_by_id=user_id(actor), decided_at=now,
                    decision_note=text)
            .execution_options(synchronize_session=False))
        if not isinstance(changed, CursorResult) or changed.rowcount != 1:
            uow.session.refresh(warning)
            raise AlreadyDecided(warning_id, warning.state)
        uow.audit.record(AuditAction.WARNING_DECIDED, actor, object_type="early_warning",
                         object_id=warning_id, kind=warning.kind, decision=decision, note=text)
        uow.commit()
        uow.session.refresh(warning)
        return warning
