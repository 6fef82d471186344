"""What the assistant suggested at each registration and what the clerk chose; red-flag reviews;
the accuracy figures supervisors see.

Nothing here stores text: a row holds category codes, scores, flag codes and the amount read
from the description (the description itself is stored encrypted by intake, after the
personal-data check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, case, func, select

from engine.errors import ConcurrentUpdate
from workflows.access.policy import Permission, denials_audited, require, user_id, visible_cases
from workflows.assistant.flags import FLAG_LABELS
from workflows.assistant.suggest import Suggestion, current_model, suggest_text
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import Case, IntakeSuggestion, ReviewState, RoleCode, Submission
from workflows.notify.delivery import notify_role
from workflows.runtime.unit_of_work import UnitOfWork

MAX_DAYS = 3660
REVIEW_OUTCOMES = (ReviewState.CONFIRMED, ReviewState.DISMISSED)


def record(uow: UnitOfWork, actor: Actor, case: Case, submission: Submission | None,
           description: str, final: str, *, shown: bool = False) -> IntakeSuggestion:
    """Inside the registration's unit of work: what the current model suggests for the
    description, next to the category the clerk chose; a flag raises a red-flag review for
    the triage officers (never a routing change)."""
    found = suggest_text(description, current_model(uow.session))
    return _store(uow, actor, case, submission, found, final, shown)


def _store(uow: UnitOfWork, actor: Actor, case: Case, submission: Submission | None,
           found: Suggestion, final: str, shown: bool) -> IntakeSuggestion:
    codes = [str(f.code) for f in found.flags]
    row = IntakeSuggestion(case_id=case.id, submission_id=getattr(submission, "id", None),
                           clerk_id=user_id(actor), created_at=uow.clock.now(),
                           suggested=found.best,
                           ranked=[[c, round(s, 4)] for c, s in found.categories[:3]],
                           final_category=final, accepted=found.best == final,
                           in_top3=final in found.top(), shown=shown, flags=codes,
                           amount=found.points.amount, model_sha=found.model_sha,
                           review_state=ReviewState.PENDING if codes else None)
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(AuditAction.ASSISTANT_SUGGESTED, actor, case=case,
                     object_type="intake_suggestion", object_id=row.id,
                     suggested=row.suggested, ranked=row.ranked, final_category=final,
                     accepted=row.accepted, shown=shown, flags=codes,
                     model=found.model_sha[:12])
    if codes:
        uow.audit.record(AuditAction.RED_FLAG_RAISED, actor, case=case,
                         object_type="intake_suggestion", object_id=row.id, flags=codes)
        notify_role(uow, case, role=RoleCode.TRIAGE_OFFICER, template="red_flag",
                    params={"case_no": case.case_no,
                            "flags": "、".join(FLAG_LABELS[c] for c in codes)},
                    key=f"red_flag:{row.id}")
    return row


def review(uow: UnitOfWork, actor: Actor, suggestion_id: int, outcome: str) -> dict:
    """A person's decision on a red flag: confirmed (handle as urgent) or dismissed; a flag
    reviewed meanwhile is a conflict (409)."""
    with denials_audited(uow.services, actor, object_type="intake_suggestion",
                         object_id=suggestion_id):
        require(actor, Permission.REVIEW_RED_FLAG)
        with uow:
            row = uow.session.get(IntakeSuggestion, suggestion_id)
            if row is None:
                raise NotFound(ErrorCode.NOT_FOUND)
            case_row = uow.session.get(Case, row.case_id)
            assert case_row is not None
            require(actor, Permission.VIEW_CASE, case_row)
            if outcome not in REVIEW_OUTCOMES:
                raise InvalidInput({"outcome": FieldError(FieldCode.NOT_AN_OPTION)})
            if row.review_state != ReviewState.PENDING:
                raise ConcurrentUpdate("red flag already reviewed")
            row.review_state, row.reviewed_by = str(outcome), user_id(actor)
            row.reviewed_at = uow.clock.now()
            uow.audit.record(AuditAction.RED_FLAG_REVIEWED, actor, case=case_row,
                             object_type="intake_suggestion", object_id=row.id,
                             outcome=str(outcome), flags=row.flags)
            uow.commit()
            return {"id": row.id, "state": row.review_state, "case_no": case_row.case_no}


def case_flags(uow: UnitOfWork, actor: Actor, case_no: str) -> list[dict]:
    """The case's red flags for its page (the caller may see the case)."""
    with uow:
        case_row = load_case(uow, actor, case_no)
        rows = uow.session.scalars(select(IntakeSuggestion).where(
            IntakeSuggestion.case_id == case_row.id, IntakeSuggestion.review_state.is_not(None))
            .order_by(IntakeSuggestion.id)).all()
        may_review = actor.has(RoleCode.TRIAGE_OFFICER, RoleCode.SUPERVISOR)
        return [{"id": r.id, "flags": list(r.flags), "state": r.review_state,
                 "raised_at": r.created_at, "reviewed_at": r.reviewed_at,
                 "may_review": may_review and r.review_state == ReviewState.PENDING}
                for r in rows]


def pending_reviews(uow: UnitOfWork, actor: Actor, *, limit: int = 50) -> list[dict]:
    """Red flags waiting for a person, oldest first, in the actor's case scope."""
    with denials_audited(uow.services, actor, object_type="intake_suggestion"):
        require(actor, Permission.REVIEW_RED_FLAG)
    with uow:
        rows = uow.session.execute(
            select(IntakeSuggestion.id, IntakeSuggestion.flags, IntakeSuggestion.created_at,
                   Case.case_no, Case.category, Case.urgency)
            .join(Case, Case.id == IntakeSuggestion.case_id)
            .where(IntakeSuggestion.review_state == ReviewState.PENDING, visible_cases(actor))
            .order_by(IntakeSuggestion.created_at, IntakeSuggestion.id).limit(limit)).all()
        return [{"id": r.id, "flags": list(r.flags), "raised_at": r.created_at,
                 "case_no": r.case_no, "category": r.category, "urgency": r.urgency}
                for r in rows]


@dataclass(frozen=True)
class CategoryFigures:
    """One final category: registrations, how often the suggestion was it (top-1, top-3)."""

    category: str
    total: int
    accepted: int
    in_top3: int
    shown: int

    @property
    def top1(self) -> float | None:
        """Share of registrations whose suggestion was the final category."""
        return self.accepted / self.total if self.total else None

    @property
    def top3(self) -> float | None:
        """Share whose final category was among the three suggested."""
        return self.in_top3 / self.total if self.total else None


@dataclass(frozen=True)
class AccuracyPage:
    """Suggested against final category over a window, by final category."""

    since: datetime
    days: int
    overall: CategoryFigures
    rows: list[CategoryFigures]
    confusions: list[tuple[str, str, int]]     # (suggested, final, count), most frequent first
    flags_raised: int
    flags_confirmed: int
    flags_dismissed: int


def accuracy(uow: UnitOfWork, actor: Actor, *, days: int = 90) -> AccuracyPage:
    """Figures over the registrations of the last ``days`` days that the actor may see
    (aggregated in SQL)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput({"days": FieldError(FieldCode.TOO_LARGE if days > MAX_DAYS
                                               else FieldCode.TOO_SMALL,
                                               {"limit": MAX_DAYS if days > MAX_DAYS else 1})})
    with denials_audited(uow.services, actor, object_type="assistant_accuracy"):
        require(actor, Permission.VIEW_ASSISTANT_ACCURACY)
    with uow:
        since = uow.clock.now() - timedelta(days=days)
        scope = (IntakeSuggestion.created_at >= since, visible_cases(actor))
        base = select().select_from(IntakeSuggestion).join(
            Case, Case.id == IntakeSuggestion.case_id).where(*scope)
        rows = uow.session.execute(base.add_columns(
            IntakeSuggestion.final_category, func.count(), _count(IntakeSuggestion.accepted),
            _count(IntakeSuggestion.in_top3), _count(IntakeSuggestion.shown))
            .group_by(IntakeSuggestion.final_category)
            .order_by(IntakeSuggestion.final_category)).all()
        figures = [CategoryFigures(r[0], r[1], r[2] or 0, r[3] or 0, r[4] or 0) for r in rows]
        confusions = uow.session.execute(base.add_columns(
            IntakeSuggestion.suggested, IntakeSuggestion.final_category, func.count())
            .where(IntakeSuggestion.accepted.is_(False))
            .group_by(IntakeSuggestion.suggested, IntakeSuggestion.final_category)
            .order_by(func.count().desc(), IntakeSuggestion.suggested).limit(10)).all()
        states: dict[str, int] = dict(uow.session.execute(base.add_columns(
            IntakeSuggestion.review_state, func.count())
            .where(IntakeSuggestion.review_state.is_not(None))
            .group_by(IntakeSuggestion.review_state)).all())
    overall = CategoryFigures("", sum(f.total for f in figures),
                              sum(f.accepted for f in figures),
                              sum(f.in_top3 for f in figures), sum(f.shown for f in figures))
    return AccuracyPage(since, days, overall, figures,
                        [(r[0], r[1], r[2]) for r in confusions], sum(states.values()),
                        states.get(ReviewState.CONFIRMED, 0), states.get(ReviewState.DISMISSED, 0))


def _count(column):
    return func.sum(case((column.is_(True), 1), else_=0)).cast(Integer)
