"""Users, roles and departments administration (no case content here)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access.sign_in import hash_password, revoke_sessions
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.models import Department, RoleCode, User, UserRole
from workflows.people.departments import seed_roles
from workflows.runtime.unit_of_work import UnitOfWork

# separation of duties: no account is both administrator and auditor
EXCLUSIVE = frozenset({RoleCode.ADMIN, RoleCode.AUDITOR})


@dataclass(frozen=True)
class UserSummary:
    """A user as the CLI and the admin pages list them."""

    id: int
    username: str
    display_name: str
    department_code: str | None
    roles: tuple[str, ...]
    active: bool


def _department(session: Session, code: str | None) -> Department | None:
    if not code:
        return None
    department = session.scalars(select(Department).where(Department.code == code)).first()
    if department is None:
        raise InvalidInput({"department": FieldError(ErrorCode.UNKNOWN_DEPARTMENT, {"code": code})})
    return department


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in {c.value for c in RoleCode}]
    if unknown or not roles:
        raise InvalidInput({"role": FieldError(
            ErrorCode.UNKNOWN_ROLE, {"roles": ", ".join(unknown)})})
    if EXCLUSIVE.issubset(set(roles)):
        raise InvalidInput({"role": FieldError(ErrorCode.ADMIN_NOT_AUDITOR)})
    return list(dict.fromkeys(roles))


def create_user(uow: UnitOfWork, actor: Actor, *, username: str, password: str,
                roles: list[str], department_code: str | None = None,
                display_name: str | None = None, locale: str = "") -> int:
    """Create an active account with roles (scoped to its department); returns the user id.

    ``locale`` empty = no preference yet: the pages follow the session choice or the browser.
    """
    roles = _check_roles(roles)
    if not username or len(username) > 64 or not username.isprintable() or " " in username:
        raise InvalidInput({"username": FieldError(ErrorCode.BAD_USERNAME)})
    with uow:
        if uow.session.scalars(select(User).where(User.username == username)).first():
            raise InvalidInput({"username": FieldError(
                ErrorCode.USER_EXISTS, {"username": username})})
        department = _department(uow.session, department_code)
        role_rows = seed_roles(uow.session)
        user = User(username=username, display_name=display_name or username,
                    password_hash=hash_password(uow.services.settings, password),
                    locale=locale, active=True,
                    department_id=department.id if department else None,
                    created_at=uow.clock.now())
        uow.session.add(user)
        uow.session.flush()
        for code in roles:
            uow.session.add(UserRole(user_id=user.id, role_id=role_rows[code].id,
                                     department_id=user.department_id,
                                     granted_by=_actor_user_id(actor),
                                     granted_at=uow.clock.now()))
        uow.audit.record(AuditAction.USER_CREATED, actor, object_type="user", object_id=user.id,
                         username=username, roles=roles, department=department_code)
        uow.commit()
        return user.id


def disable_user(uow: UnitOfWork, actor: Actor, *, username: str) -> int:
    """Disable an account and end all its sessions now; returns sessions revoked."""
    with uow:
        user = uow.session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, username=username)
        user.active = False
        revoked = revoke_sessions(uow.session, user.id, uow.clock.now())
        uow.audit.record(AuditAction.USER_DISABLED, actor, object_type="user", object_id=user.id,
                         sessions_revoked=revoked)
        uow.commit()
        return revoked


def set_locale(uow: UnitOfWork, actor: Actor, locale: str) -> None:
    """Remember a user's interface language."""
    with uow:
        user = uow.session.get(User, int(actor.id or 0))
        if user is not None and user.locale != locale:
            user.locale = locale
            uow.commit()


def list_departments(uow: UnitOfWork, *, active_only: bool = True) -> list[tuple[str, str]]:
    """(code, name) of every department, by code."""
    with uow:
        query = select(Department.code, Department.name).order_by(Department.code)
        if active_only:
            query = query.where(Department.active.is_(True))
        return [(code, name) for code, name in uow.session.execute(query)]


def list_users(uow: UnitOfWork) -> list[UserSummary]:
    """Every account with its roles and department code."""
    with uow:
        out = []
        for user in uow.session.scalars(select(User).order_by(User.username)):
            dept = uow.session.get(Department, user.department_id) if user.department_id else None
            out.append(UserSummary(user.id, user.username, user.display_name,
                                   dept.code if dept else None,
                                   tuple(sorted(link.role.code for link in user.roles)),
                                   user.active))
        return out


def _actor_user_id(actor: Actor) -> int | None:
    return int(actor.id) if actor.type == "user" and actor.id and actor.id.isdigit() else None
