"""``jiefen assistant retrain``: train on the labelled set plus the district's closed cases,
cross-validate, and replace the active model only when the new one is not worse.

The comparison is between cross-validated top-1 accuracies: the candidate's on today's data
against the figure recorded when the current model was trained (the shipped model's is in its
file). A refused candidate is not stored; both outcomes are audited on the system chain.
Closed cases' descriptions are decrypted in memory for training and never written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from workflows.assistant import training
from workflows.assistant.model import shipped
from workflows.assistant.training import Accuracy, Sample
from workflows.audit.log import AuditAction
from workflows.cases.lookup import decrypt_narrative
from workflows.core.actors import Actor
from workflows.models import AssistantModel, Case, CaseStatus, Category
from workflows.runtime.unit_of_work import UnitOfWork

MIN_CLOSED = 50        # fewer closed cases than this: the labelled set alone
MAX_CLOSED = 20_000    # the newest closed cases, at most


@dataclass(frozen=True)
class RetrainResult:
    """What training found and whether the model was replaced."""

    labelled: int
    closed: int                 # closed cases used (0 when fewer than the minimum)
    closed_found: int
    candidate: Accuracy         # cross-validated
    current_top1: float
    current_top3: float
    replaced: bool
    model_id: int | None
    sha256: str | None


def closed_samples(uow: UnitOfWork, limit: int = MAX_CLOSED) -> list[Sample]:
    """(final category, description) of the newest closed cases with a known category."""
    codes = [str(c) for c in Category]
    cases = uow.session.scalars(
        select(Case).where(Case.status == CaseStatus.CLOSED, Case.category.in_(codes),
                           Case.narrative_enc.is_not(None))
        .order_by(Case.id.desc()).limit(limit)).all()
    out = []
    for row in cases:
        text = decrypt_narrative(uow.services, row)
        if text.strip() and row.category:
            out.append((row.category, text))
    return out


def current_figures(uow: UnitOfWork) -> tuple[float, float]:
    """Cross-validated (top-1, top-3) recorded for the model serving now."""
    row = uow.session.scalars(select(AssistantModel).where(AssistantModel.active.is_(True))
                              .order_by(AssistantModel.id.desc()).limit(1)).first()
    if row is not None:
        return row.cv_top1, row.cv_top3
    meta = shipped().meta
    return float(meta.get("cv_top1", 0.0)), float(meta.get("cv_top3", 0.0))


def retrain(uow: UnitOfWork, actor: Actor, *, labelled: Path | None = None,
            min_closed: int = MIN_CLOSED, folds: int = training.FOLDS) -> RetrainResult:
    """Train, cross-validate, compare, and store the candidate as active when not worse."""
    samples = training.read_labelled(labelled)
    with uow:
        found = closed_samples(uow)
        current_top1, current_top3 = current_figures(uow)
    used = found if len(found) >= min_closed else []
    data = samples + used
    candidate = training.cross_validate(data, folds)
    replaced = candidate.top1 >= current_top1
    model_id = sha = None
    with uow:
        if replaced:
            model = training.train(data, {"closed_cases": len(used), "cv_top1": candidate.top1,
                                          "cv_top3": candidate.top3, "folds": folds})
            uow.session.execute(update(AssistantModel).where(AssistantModel.active.is_(True))
                                .values(active=False))
            row = AssistantModel(trained_at=uow.clock.now(), active=True, sha256=model.sha256,
                                 samples=len(data), closed_cases=len(used),
                                 cv_top1=candidate.top1, cv_top3=candidate.top3,
                                 body=model.to_bytes())
            uow.session.add(row)
            uow.session.flush()
            model_id, sha = row.id, model.sha256
        uow.audit.record(AuditAction.ASSISTANT_RETRAINED, actor, object_type="assistant_model",
                         object_id=model_id, replaced=replaced, labelled=len(samples),
                         closed=len(used), cv_top1=round(candidate.top1, 4),
                         cv_top3=round(candidate.top3, 4), current_top1=round(current_top1, 4),
                         folds=folds, sha256=sha)
        uow.commit()
    return RetrainResult(len(samples), len(used), len(found), candidate, current_top1,
                         current_top3, replaced, model_id, sha)
