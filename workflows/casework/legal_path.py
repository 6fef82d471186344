"""A case entering a followed statutory channel (依法导入): one ``case_legal_path`` row per case
(the cockpit counts cases per path; a petition's row remembers its final 复核 answer) and an
audited ``legal_path_entered`` event. Three ways in: screening's route (R4), a failed mediation's
route (R5) and intake, when the case's type starts it on a path's own process (a petition)."""

from __future__ import annotations

from sqlalchemy import select

from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.models import Case, CaseLegalPath
from workflows.runtime.unit_of_work import UnitOfWork


def enter_path(uow: UnitOfWork, actor: Actor, case: Case, path: str, *, via: str,
               outcome: str | None) -> CaseLegalPath:
    """Record that ``case`` is followed on ``path`` from now on (``via``: the step or "intake";
    ``outcome``: R4, R5 or None). A case routed again (reopened) keeps its one row, moved to
    the latest path."""
    row = uow.session.scalar(select(CaseLegalPath).where(CaseLegalPath.case_id == case.id))
    before = row.path if row is not None else None
    if row is None:
        row = CaseLegalPath(case_id=case.id)
        uow.session.add(row)
    row.path, row.entered_at = path, uow.clock.now()
    uow.audit.record(AuditAction.LEGAL_PATH_ENTERED, actor, case=case, object_type="case",
                     object_id=case.case_no, path=path, before=before, task=via,
                     outcome=outcome)
    return row
