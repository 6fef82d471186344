"""The mediators a unit's handler may assign (指派调解员): the active accounts with the mediator
role in the handler's own unit, for the select of the assign-mediator step (the step stores the
chosen account; ``task_effects.before_complete`` checks it is a mediator)."""

from __future__ import annotations

from sqlalchemy import select

from workflows.core.actors import Actor
from workflows.models import Role, RoleCode, User, UserRole
from workflows.runtime.unit_of_work import UnitOfWork


def mediator_choices(uow: UnitOfWork, actor: Actor) -> list[tuple[str, str]]:
    """(username, name) of the active mediators of the actor's unit, by name; none outside a unit."""
    if actor.department_id is None:
        return []
    with uow:
        query = (select(User.username, User.display_name)
                 .join(UserRole, UserRole.user_id == User.id)
                 .join(Role, Role.id == UserRole.role_id)
                 .where(User.department_id == actor.department_id, User.active.is_(True),
                        Role.code == RoleCode.MEDIATOR)
                 .distinct().order_by(User.display_name, User.username))
        return [(username, name) for username, name in uow.session.execute(query)]
