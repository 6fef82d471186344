"""A user's own display preferences (not administration): the text size of every page.

Older staff read the pages at a larger size (适老化); the choice lives on the account so it follows
the user to any computer, and each change is audited like other account changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import User

if TYPE_CHECKING:
    from workflows.runtime.unit_of_work import UnitOfWork

# standard (16 px), large, extra large: the pages scale from the root font size (docs/frontend.md)
TEXT_SIZES = ("standard", "large", "xlarge")
DEFAULT_TEXT_SIZE = "standard"


def set_text_size(uow: UnitOfWork, actor: Actor, size: str) -> bool:
    """Store the signed-in user's text size; False when it was already that size."""
    if size not in TEXT_SIZES:
        raise InvalidInput({"text_size": FieldError(FieldCode.NOT_AN_OPTION)})
    with uow:
        user = uow.session.get(User, int(actor.id or 0))
        if user is None:
            raise NotFound()
        if user.text_size == size:
            return False
        previous, user.text_size = user.text_size, size
        uow.audit.record(AuditAction.USER_UPDATED, actor, object_type="user", object_id=user.id,
                         change="text_size", text_size=size, previous=previous)
        uow.commit()
        return True
