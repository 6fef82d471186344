"""依法导入 by legal path: how many cases the centre follows on each statutory channel after
screening (docs/legal-windows.md), for the cockpit and the reports."""

from __future__ import annotations

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.models import Case, CaseLegalPath, CaseStatus, LegalPath
from workflows.reports import kpi_cases as kc


def cases_per_path(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, dict[str, int]]:
    """Per path: ``entered`` (routed to it within the period) and ``following`` (still followed
    now, whenever routed), over the cases of the scope. Every path is listed, zeros included."""
    out = {str(path): {"entered": 0, "following": 0} for path in LegalPath}
    in_period = CaseLegalPath.entered_at.between(period.start, period.end) \
        & (CaseLegalPath.entered_at < period.end)
    rows = session.execute(
        select(CaseLegalPath.path,
               func.sum(sql_case((in_period, 1), else_=0)),
               func.sum(sql_case((Case.status != CaseStatus.CLOSED, 1), else_=0)))
        .join(Case, Case.id == CaseLegalPath.case_id)
        .where(kc.case_scope(scope)).group_by(CaseLegalPath.path))
    for path, entered, following in rows:
        if path in out:
            out[path] = {"entered": int(entered or 0), "following": int(following or 0)}
    return out
