"""What the assistant suggests for a description: categories, urgency flags, points of dispute.

``suggest_text`` is pure (the CLI and tests call it); ``suggest`` is the intake page's service:
only those who register cases may ask, the text passes the same checks as the description it
will become, and nothing is stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.input_rules import text_error
from workflows.access.policy import Permission, denials_audited, require
from workflows.assistant import flags as flag_rules
from workflows.assistant.model import LinearModel, cached, from_bytes, shipped
from workflows.assistant.points import Points, extract
from workflows.cases.field_limits import MAX_LENGTH
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import FieldCode, FieldError, InvalidInput
from workflows.models import AssistantModel, Urgency
from workflows.runtime.unit_of_work import UnitOfWork

SHOWN = 3   # categories shown to the clerk (and printed by the CLI)


@dataclass(frozen=True)
class Suggestion:
    """Categories best first with their scores, flags, points, and which model said so."""

    categories: list[tuple[str, float]]
    flags: list[flag_rules.FoundFlag]
    points: Points
    model_sha: str

    @property
    def best(self) -> str:
        """The category suggested."""
        return self.categories[0][0]

    @property
    def urgency(self) -> str:
        """Urgent when any flag was raised (a hint: the clerk decides)."""
        return Urgency.URGENT if self.flags else Urgency.GENERAL

    def top(self, count: int = SHOWN) -> list[str]:
        """The codes of the first ``count`` categories."""
        return [code for code, _ in self.categories[:count]]

    def as_json(self, count: int = SHOWN) -> dict:
        """The answer of the JSON endpoint and ``jiefen assistant suggest --json``."""
        return {"categories": [{"code": code, "score": round(score, 4)}
                               for code, score in self.categories[:max(count, SHOWN)]],
                "flags": [{"code": str(f.code), "words": list(f.words)} for f in self.flags],
                "urgency": str(self.urgency), "points": self.points.as_json(),
                "model": self.model_sha[:12]}


def suggest_text(text: str, model: LinearModel | None = None) -> Suggestion:
    """The suggestion for ``text`` by ``model`` (default: the shipped one)."""
    model = model or shipped()
    points = extract(text)
    return Suggestion(model.scores(text), flag_rules.find(text, points.people), points,
                      model.sha256)


def current_model(session: Session) -> LinearModel:
    """The active trained model, else the shipped one (one small query; loaded once per
    process)."""
    row = session.execute(select(AssistantModel.id, AssistantModel.sha256)
                          .where(AssistantModel.active.is_(True))
                          .order_by(AssistantModel.id.desc()).limit(1)).first()
    if row is None:
        return shipped()
    model_id = row.id
    return cached(row.sha256, lambda: from_bytes(session.scalars(
        select(AssistantModel.body).where(AssistantModel.id == model_id)).one()))


def suggest(uow: UnitOfWork, actor: Actor, text: str) -> Suggestion:
    """The intake page's suggestion: for those who register cases; field errors for an empty,
    over-long or unprintable text and for personal data typed into it."""
    with denials_audited(uow.services, actor, object_type="intake"):
        require(actor, Permission.REGISTER_CASE)
    check_text(text)
    with uow:
        model = current_model(uow.session)
    return suggest_text(text, model)


def check_text(text: object) -> None:
    """InvalidInput (field ``description``) unless ``text`` could be stored as a description."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput({"description": FieldError(FieldCode.REQUIRED)})
    error = text_error(text, multiline=True, max_length=MAX_LENGTH["description"])
    if error is not None:
        raise InvalidInput({"description": error})
    pii_text.refuse(description=text)
