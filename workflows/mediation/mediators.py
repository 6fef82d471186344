"""The mediators a handler may assign to a case (指派调解员), grouped by unit.

人民调解法 Art 19 lets the committee designate the mediator or the parties choose one, and the
routing table (docs/mediation.md, *Who can be assigned*) hands a case to the units that handle
it jointly. So the choice is not only the handler's own unit: it is the active mediators of

* the handler's own unit;
* every unit holding a work order on the case (the lead and its co-departments);
* the mediation bodies over the case's place: its community's and its street's people's
  mediation committees (SQTJ, JDTJ) and the district centre for conflict resolution (ZZ).

The same set is checked again when the step is completed (``require_choosable``): a mediator
outside it is refused with a field error, whatever the form sent.
"""

from __future__ import annotations

from sqlalchemy import select

from workflows.access.policy import INTERNAL_ACTORS
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.district.units import UnitResolver
from workflows.models import Case, Department, Role, RoleCode, User, UserRole, WorkOrder
from workflows.runtime.unit_of_work import UnitOfWork

MEDIATION_BODIES = ("SQTJ", "JDTJ", "ZZ")   # community, street committee; district centre


def choosable_units(uow: UnitOfWork, actor: Actor, case: Case) -> set[int]:
    """The units whose mediators the actor may assign to the case."""
    units = {actor.department_id} if actor.department_id is not None else set()
    units.update(uow.session.scalars(select(WorkOrder.department_id).where(
        WorkOrder.case_id == case.id).distinct()))
    resolver = UnitResolver.cached(uow.session, case.place_path)
    for kind in MEDIATION_BODIES:
        body = resolver.unit_of_kind(kind)
        if body is not None:
            units.add(body.id)
    return units


def mediator_choices(uow: UnitOfWork, actor: Actor, case_no: str) -> list[tuple[str, list]]:
    """``mediator_groups`` for the case's assign step page (the case read within scope)."""
    with uow:
        return mediator_groups(uow, actor, load_case(uow, actor, case_no))


def mediator_groups(uow: UnitOfWork, actor: Actor, case: Case) -> list[tuple[str, list]]:
    """(unit name, [(username, name)]) for the select: the actor's own unit first, then the
    others by name; mediators by name within a unit."""
    units = choosable_units(uow, actor, case)
    query = (select(Department.id, Department.name, User.username, User.display_name)
             .join(User, User.department_id == Department.id)
             .join(UserRole, UserRole.user_id == User.id)
             .join(Role, Role.id == UserRole.role_id)
             .where(Department.id.in_(units), User.active.is_(True),
                    Role.code == RoleCode.MEDIATOR)
             .distinct().order_by(Department.name, User.display_name, User.username))
    groups: dict[int, tuple[str, list]] = {}
    for unit, unit_name, username, name in uow.session.execute(query):
        groups.setdefault(unit, (unit_name, []))[1].append((username, name))
    own = groups.pop(actor.department_id, None) if actor.department_id is not None else None
    return ([own] if own else []) + list(groups.values())


def require_choosable(uow: UnitOfWork, actor: Actor, case: Case, user: User, field: str) -> None:
    """Refuse a mediator of a unit outside the case's choosable set (a field error)."""
    if actor.type in INTERNAL_ACTORS:
        return
    if user.department_id not in choosable_units(uow, actor, case):
        unit = uow.session.get(Department, user.department_id) if user.department_id else None
        raise InvalidInput({field: FieldError(ErrorCode.MEDIATOR_OUT_OF_SCOPE, {
            "name": user.display_name, "unit": unit.name if unit else "—"})})
