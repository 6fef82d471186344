"""The editable mapping of a channel's 诉求类型 texts to jiefen's categories (admins)."""

from __future__ import annotations

from sqlalchemy import select

from engine.input_rules import text_error
from workflows.access.policy import user_id
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import Category, CategoryMapping
from workflows.people.admin import require_admin
from workflows.runtime.unit_of_work import UnitOfWork

MAX_TEXT = 100


def list_mappings(uow: UnitOfWork, actor: Actor, channel: str) -> list[dict]:
    require_admin(actor, uow.services)
    with uow:
        rows = uow.session.scalars(select(CategoryMapping).where(
            CategoryMapping.channel == channel).order_by(CategoryMapping.source_text)).all()
        return [{"id": r.id, "source_text": r.source_text, "category": r.category,
                 "updated_at": r.updated_at} for r in rows]


def save_mapping(uow: UnitOfWork, actor: Actor, channel: str, source_text: str,
                 category: str) -> None:
    """Map ``source_text`` (as the channel sends it, trimmed) to ``category``; a text mapped
    before gets the new category. Audited."""
    require_admin(actor, uow.services)
    text = (source_text or "").strip()
    errors = {}
    if not text:
        errors["source_text"] = FieldError(FieldCode.REQUIRED)
    elif (error := text_error(text, max_length=MAX_TEXT)) is not None:
        errors["source_text"] = error
    if category not in {str(c) for c in Category}:
        errors["category"] = FieldError(FieldCode.NOT_AN_OPTION)
    if errors:
        raise InvalidInput(errors)
    with uow:
        row = uow.session.scalars(select(CategoryMapping).where(
            CategoryMapping.channel == channel, CategoryMapping.source_text == text)).first()
        before = row.category if row is not None else None
        if row is None:
            row = CategoryMapping(channel=channel, source_text=text, category=category)
            uow.session.add(row)
        row.category, row.updated_at, row.updated_by = category, uow.clock.now(), user_id(actor)
        uow.audit.record(AuditAction.CATEGORY_MAPPING_CHANGED, actor, object_type="category_mapping",
                         object_id=text, channel=channel, before=before, after=category)
        uow.commit()


def delete_mapping(uow: UnitOfWork, actor: Actor, mapping_id: int) -> None:
    require_admin(actor, uow.services)
    with uow:
        row = uow.session.get(CategoryMapping, mapping_id)
        if row is None:
            raise NotFound(ErrorCode.NOT_FOUND, category_mapping=mapping_id)
        uow.audit.record(AuditAction.CATEGORY_MAPPING_CHANGED, actor, object_type="category_mapping",
                         object_id=row.source_text, channel=row.channel, before=row.category,
                         after=None)
        uow.session.delete(row)
        uow.commit()
