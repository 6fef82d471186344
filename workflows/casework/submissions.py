"""What the citizen said again: the submissions linked to a case after the one that opened it
(a duplicate, a second complaint), for the case page; their summaries are the intake's, free of
personal data."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.models import Case, Submission, SubmissionLink

SHOWN = 50   # a group dispute may bring many; the newest are listed, the count says the rest


def later_submissions(session: Session, case: Case) -> tuple[list[dict], int]:
    """(the newest linked submissions, newest first: when, channel, how linked, summary; how many
    there are in all), in two queries."""
    linked = (Submission.case_id == case.id, Submission.linked_as != SubmissionLink.NEW)
    total = session.scalar(select(func.count()).select_from(Submission).where(*linked)) or 0
    if not total:
        return [], 0
    rows = session.scalars(select(Submission).where(*linked)
                           .order_by(Submission.received_at.desc(), Submission.id.desc())
                           .limit(SHOWN))
    return [{"id": s.id, "received_at": s.received_at, "channel": s.channel,
             "linked_as": s.linked_as, "summary": s.summary} for s in rows], total
