"""Users, roles and units administration (no case content here); every change is audited.

The command line acts as the system actor; the web pages act as a signed-in administrator, and
every service here refuses anyone else (``require_admin``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from engine.crypto import field_aad, normalize_phone
from engine.errors import FieldRefused
from engine.input_rules import name_error
from workflows.access.policy import Denied, deny
from workflows.access.sign_in import (
    enrolled,
    hash_password,
    is_throttled,
    revoke_sessions,
    username_hash,
)
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.core.masking import mask_phone
from workflows.models import (
    Department,
    LoginAttempt,
    Place,
    PlaceLevel,
    RecoveryCode,
    Role,
    RoleCode,
    Tier,
    User,
    UserRole,
)
from workflows.people.departments import seed_roles
from workflows.people.directory_import import (
    CODE,
    ROUTING_KINDS,
    SEED_RESPONSIBILITIES,
    TIER_OF_LEVEL,
    UNIT_CODE_MAX,
    UNIT_ROLES,
    one_time_password,
)
from workflows.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

# separation of duties: no account is both administrator and auditor
EXCLUSIVE = frozenset({RoleCode.ADMIN, RoleCode.AUDITOR})
USERS_PAGE = 50


def require_admin(actor: Actor, services: Services | None = None) -> None:
    """Accounts, units and places are the administrators' (and the command line's); anyone
    else is denied, audited when ``services`` is given (call it before opening a unit of work)."""
    if actor.type == "system" or actor.has(RoleCode.ADMIN):
        return
    error = Denied(ErrorCode.ADMIN_ONLY, "directory.admin.role", object_type="directory")
    if services is not None:
        deny(services, actor, error)
    raise error


# -- users ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserSummary:
    """A user as the CLI and the admin pages list them."""

    id: int
    username: str
    display_name: str
    department_code: str | None
    roles: tuple[str, ...]
    active: bool
    unit_name: str | None = None
    last_login_at: datetime | None = None
    mobile_masked: str | None = None


@dataclass(frozen=True)
class UserDetail:
    """One account on its admin page; ``locked``: too many failed sign-ins right now."""

    summary: UserSummary
    created_at: datetime | None
    locked: bool
    unit_places: tuple[str, ...] = ()
    second_factor_at: datetime | None = None   # when the second factor was enrolled


@dataclass(frozen=True)
class UserPage:
    """One page of the user list."""

    rows: list[UserSummary]
    total: int
    page: int
    pages: int


def _department(session: Session, code: str | None, field: str = "department") -> Department | None:
    if not code:
        return None
    department = session.scalars(select(Department).where(Department.code == code)).first()
    if department is None:
        error = ErrorCode.UNKNOWN_DEPARTMENT if field == "department" else ErrorCode.UNKNOWN_UNIT
        raise InvalidInput({field: FieldError(error, {"code": code})})
    return department


def _check_roles(roles: list[str]) -> list[str]:
    if not roles:
        raise InvalidInput({"role": FieldError(ErrorCode.ROLE_REQUIRED)})
    unknown = [r for r in roles if r not in {c.value for c in RoleCode}]
    if unknown:
        raise InvalidInput({"role": FieldError(
            ErrorCode.UNKNOWN_ROLE, {"roles": ", ".join(unknown)})})
    if EXCLUSIVE.issubset(set(roles)):
        raise InvalidInput({"role": FieldError(ErrorCode.ADMIN_NOT_AUDITOR)})
    return list(dict.fromkeys(roles))


def _check_username(username: str) -> None:
    if not username or len(username) > 64 or not username.isprintable() or " " in username \
            or name_error(username) is not None:
        raise InvalidInput({"username": FieldError(ErrorCode.BAD_USERNAME)})


def _check_display_name(display_name: str) -> None:
    """One line, something visible, at most 100 characters (engine/input_rules.py)."""
    if (error := name_error(display_name, max_length=100)) is not None:
        raise InvalidInput({"display_name": error})


def create_user(uow: UnitOfWork, actor: Actor, *, username: str, password: str,
                roles: list[str], department_code: str | None = None,
                display_name: str | None = None, locale: str = "") -> int:
    """Create an active account with roles (scoped to its department); returns the user id.

    ``locale`` empty = no preference yet: the pages follow the session choice or the browser.
    """
    require_admin(actor, uow.services)
    roles = _check_roles(roles)
    _check_username(username)
    _check_display_name(display_name or "")
    with uow:
        user = _insert_user(uow, actor, username=username, password=password, roles=roles,
                            unit_code=department_code, display_name=display_name or username,
                            locale=locale, unit_field="department")
        uow.commit()
        return user.id


def _insert_user(uow: UnitOfWork, actor: Actor, *, username: str, password: str,
                 roles: list[str], unit_code: str | None, display_name: str, locale: str,
                 unit_field: str) -> User:
    if uow.session.scalars(select(User).where(User.username == username)).first():
        raise InvalidInput({"username": FieldError(ErrorCode.USER_EXISTS, {"username": username})})
    department = _department(uow.session, unit_code, unit_field)
    role_rows = seed_roles(uow.session)
    user = User(username=username, display_name=display_name,
                password_hash=hash_password(uow.services.settings, password), locale=locale, active=True,
                department_id=department.id if department else None,
                created_at=uow.clock.now())
    uow.session.add(user)
    uow.session.flush()
    for code in roles:
        uow.session.add(UserRole(user_id=user.id, role_id=role_rows[code].id,
                                 department_id=user.department_id,
                                 granted_by=_actor_user_id(actor), granted_at=uow.clock.now()))
    uow.audit.record(AuditAction.USER_CREATED, actor, object_type="user", object_id=user.id,
                     username=username, roles=roles, department=unit_code or None)
    return user


def _check_profile(*, display_name: str, roles: list[str], unit_code: str | None,
                   mobile: str | None, username: str | None = None) -> tuple[list[str], str | None]:
    """Every field of the account form at once: (roles without repeats, normalised mobile)."""
    errors: dict[str, FieldError] = {}
    checks = [lambda: _check_display_name(display_name)]
    if username is not None:
        checks.append(lambda: _check_username(username))
    for check in checks:
        try:
            check()
        except InvalidInput as exc:
            errors.update(exc.field_errors)
    if not display_name:
        errors["display_name"] = FieldError(ErrorCode.DISPLAY_NAME_REQUIRED)
    try:
        roles = _check_roles(roles)
    except InvalidInput as exc:
        errors.update(exc.field_errors)
    if not unit_code and UNIT_ROLES.intersection(roles):
        errors["unit"] = FieldError(ErrorCode.CHOOSE_UNIT)   # a list on the form
    number = None
    if mobile:
        try:
            number = normalize_phone(mobile)   # a mainland mobile; landlines are refused
        except FieldRefused as exc:
            errors["mobile"] = exc.error
    if errors:
        raise InvalidInput(errors)
    return roles, number


def _set_mobile(uow: UnitOfWork, user: User, number: str | None) -> None:
    # encrypted like a party's phone; pages show only the mask
    user.mobile_enc = None if number is None else uow.services.cipher.encrypt(
        number, aad=field_aad("user_account", "mobile_enc", user.id))
    user.mobile_masked = None if number is None else mask_phone(number)


def invite_user(uow: UnitOfWork, actor: Actor, *, username: str, display_name: str,
                roles: list[str], unit_code: str | None,
                mobile: str | None = None) -> tuple[int, str]:
    """Create an account with a one-time password; returns (user id, password). Only the hash
    is stored: the caller shows the password once and the user changes it after signing in.
    Accounts acting for a unit (every role but process owner, auditor and administrator) need
    one."""
    require_admin(actor, uow.services)
    username, display_name = username.strip(), display_name.strip()
    roles, number = _check_profile(display_name=display_name, roles=roles, unit_code=unit_code,
                                   mobile=mobile, username=username)
    password = one_time_password()
    with uow:
        user = _insert_user(uow, actor, username=username, password=password, roles=roles,
                            unit_code=unit_code or None, display_name=display_name, locale="",
                            unit_field="unit")
        _set_mobile(uow, user, number)
        uow.commit()
        return user.id, password


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, username=username)
    return user


def update_user(uow: UnitOfWork, actor: Actor, *, username: str, display_name: str,
                roles: list[str], unit_code: str | None, mobile: str | None = None,
                clear_mobile: bool = False) -> bool:
    """Change an account's display name, roles, unit and mobile (empty: kept as it is);
    True when anything changed.

    Sessions stay open: every request reads the roles and the unit afresh, so the new rights
    apply from the user's next request."""
    require_admin(actor, uow.services)
    display_name = display_name.strip()
    roles, number = _check_profile(display_name=display_name, roles=roles, unit_code=unit_code,
                                   mobile=None if clear_mobile else mobile)
    with uow:
        user = _user(uow.session, username)
        if user.id == _actor_user_id(actor) and RoleCode.ADMIN not in roles:
            raise InvalidInput({"role": FieldError(ErrorCode.OWN_ACCOUNT)})
        unit = _department(uow.session, unit_code, "unit")
        unit_id = unit.id if unit else None
        before_unit = user.department.code if user.department else None
        before_roles = sorted(link.role.code for link in user.roles)
        changes: dict[str, Any] = {}
        if user.display_name != display_name:
            changes["display_name"] = "changed"   # the new name itself stays out of the log
        if before_roles != sorted(roles):
            changes["roles"] = {"from": before_roles, "to": sorted(roles)}
        if before_unit != (unit.code if unit else None):
            changes["unit"] = {"from": before_unit, "to": unit.code if unit else None}
        if clear_mobile and user.mobile_enc is not None:
            changes["mobile"] = "removed"
        elif number is not None and number != _mobile(uow, user):
            changes["mobile"] = "changed"
        if not changes:
            return False
        _regrant(uow, actor, user, roles, unit_id)
        user.display_name = display_name
        user.department_id = unit_id
        if "mobile" in changes:
            _set_mobile(uow, user, None if clear_mobile else number)
        uow.audit.record(AuditAction.USER_UPDATED, actor, object_type="user", object_id=user.id,
                         change="profile", **changes)
        uow.commit()
        return True


def _regrant(uow: UnitOfWork, actor: Actor, user: User, roles: list[str],
             unit_id: int | None) -> None:
    """Roles dropped are revoked, kept ones follow the unit, new ones are granted by the actor."""
    role_rows = seed_roles(uow.session)
    held = set()
    for link in list(user.roles):
        if link.role.code not in roles:
            user.roles.remove(link)
        else:
            link.department_id = unit_id
            held.add(link.role.code)
    for code in roles:
        if code not in held:
            user.roles.append(UserRole(role_id=role_rows[code].id, department_id=unit_id,
                                       granted_by=_actor_user_id(actor),
                                       granted_at=uow.clock.now()))


def _mobile(uow: UnitOfWork, user: User) -> str | None:
    if user.mobile_enc is None:
        return None
    return uow.services.cipher.decrypt(user.mobile_enc,
                                       aad=field_aad("user_account", "mobile_enc", user.id))


def disable_user(uow: UnitOfWork, actor: Actor, *, username: str) -> int:
    """Disable an account and end all its sessions now; returns sessions revoked."""
    require_admin(actor, uow.services)
    with uow:
        user = _user(uow.session, username)
        if user.id == _actor_user_id(actor):
            # the last administrator could lock everybody out of these pages
            raise InvalidInput({"account": FieldError(ErrorCode.OWN_ACCOUNT)})
        user.active = False
        revoked = revoke_sessions(uow.session, user.id, uow.clock.now())
        uow.audit.record(AuditAction.USER_DISABLED, actor, object_type="user", object_id=user.id,
                         sessions_revoked=revoked)
        uow.commit()
        return revoked


def enable_user(uow: UnitOfWork, actor: Actor, *, username: str) -> None:
    """Let a disabled account sign in again (with its old password)."""
    require_admin(actor, uow.services)
    with uow:
        user = _user(uow.session, username)
        if user.active:
            return
        user.active = True
        uow.audit.record(AuditAction.USER_ENABLED, actor, object_type="user", object_id=user.id)
        uow.commit()


def reset_password(uow: UnitOfWork, actor: Actor, *, username: str) -> str:
    """Give an account a new one-time password and end its sessions; returns the password
    (shown once by the caller, never stored or audited in clear)."""
    require_admin(actor, uow.services)
    password = one_time_password()
    with uow:
        user = _user(uow.session, username)
        user.password_hash = hash_password(uow.services.settings, password)
        revoked = revoke_sessions(uow.session, user.id, uow.clock.now())
        uow.audit.record(AuditAction.PASSWORD_RESET, actor, object_type="user",
                         object_id=user.id, sessions_revoked=revoked)
        uow.commit()
    return password


def reset_second_factor(uow: UnitOfWork, actor: Actor, *, username: str) -> int:
    """Remove an account's second factor (a lost phone): secret, recovery codes and every open
    session go; a privileged account enrols a new one at its next sign-in. Returns the number
    of sessions ended."""
    require_admin(actor, uow.services)
    with uow:
        user = _user(uow.session, username)
        had = enrolled(user)
        user.totp_secret_enc = None
        user.totp_enrolled_at = None
        user.totp_last_step = None
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        ended = revoke_sessions(uow.session, user.id, uow.clock.now())
        uow.audit.record(AuditAction.SECOND_FACTOR_RESET, actor, object_type="user",
                         object_id=user.id, was_enrolled=had, sessions_revoked=ended)
        uow.commit()
    return ended


def is_locked(uow: UnitOfWork, username: str) -> bool:
    """True while the sign-in throttle refuses this username (failures since the last success)."""
    with uow:
        return is_throttled(uow, name_hash=username_hash(uow.services.keyring, username), ip=None)


def unlock_user(uow: UnitOfWork, actor: Actor, *, username: str) -> bool:
    """Clear the sign-in throttle of a username; False when it was not locked.

    The throttle counts failures since the username's last successful sign-in, so the unlock
    writes a success row for the username (no address: the per-address limit, which guards
    against guessing many accounts from one machine, stays as it is) and audits who did it."""
    require_admin(actor, uow.services)
    with uow:
        user = _user(uow.session, username)
        name_hash = username_hash(uow.services.keyring, user.username)
        if not is_throttled(uow, name_hash=name_hash, ip=None):
            return False
        uow.session.add(LoginAttempt(username_hash=name_hash, ip=None, at=uow.clock.now(),
                                     success=True))
        uow.audit.record(AuditAction.USER_UNLOCKED, actor, object_type="user", object_id=user.id)
        uow.commit()
        return True


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


def _summary(user: User) -> UserSummary:
    unit = user.department
    return UserSummary(user.id, user.username, user.display_name,
                       unit.code if unit else None,
                       tuple(sorted(link.role.code for link in user.roles)), user.active,
                       unit.name if unit else None, user.last_login_at, user.mobile_masked)


def search_users(uow: UnitOfWork, actor: Actor, *, text: str = "", unit_code: str = "",
                 role: str = "", state: str = "", page: int = 1) -> UserPage:
    """Accounts matching a username or display-name fragment, a unit, a role and a state
    (``active`` | ``disabled``), by username, one page at a time."""
    require_admin(actor, uow.services)
    query = select(User)
    if text.strip():
        pattern = f"%{_escape_like(text.strip())}%"
        query = query.where(or_(User.username.ilike(pattern, escape="\\"),
                                User.display_name.ilike(pattern, escape="\\")))
    if unit_code:
        query = query.join(Department, Department.id == User.department_id).where(
            Department.code == unit_code)
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).join(
            Role, Role.id == UserRole.role_id).where(Role.code == role)))
    if state in ("active", "disabled"):
        query = query.where(User.active.is_(state == "active"))
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(1, -(-total // USERS_PAGE))
        page = min(max(page, 1), pages)
        rows = uow.session.scalars(query.order_by(User.username)
                                   .offset((page - 1) * USERS_PAGE).limit(USERS_PAGE))
        return UserPage([_summary(user) for user in rows.unique()], total, page, pages)


def user_detail(uow: UnitOfWork, actor: Actor, username: str) -> UserDetail:
    """One account: roles, unit with its place, last sign-in, and whether it is locked out."""
    require_admin(actor, uow.services)
    with uow:
        user = _user(uow.session, username)
        locked = is_throttled(uow, name_hash=username_hash(uow.services.keyring, user.username),
                              ip=None)
        places: tuple[str, ...] = ()
        if user.department is not None and user.department.place_id is not None:
            place = uow.session.get(Place, user.department.place_id)
            places = tuple(place_names(uow.session, [place.path]).get(place.path, ())) \
                if place is not None else ()
        return UserDetail(_summary(user), user.created_at, locked, places,
                          user.totp_enrolled_at if enrolled(user) else None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- units ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitRow:
    """A unit as the units page lists it; ``place_names`` from the district down."""

    id: int
    code: str
    name: str
    kind: str
    tier: str
    place_code: str | None
    place_level: str | None
    place_names: tuple[str, ...]
    responsibilities: tuple[str, ...]
    user_count: int
    active: bool


def place_names(session: Session, paths: list[str]) -> dict[str, list[str]]:
    """The names along each place path, root first (a city root is left out), in one query."""
    ids = {int(part) for path in paths for part in (path or "").split("/") if part}
    if not ids:
        return {}
    rows = {row.id: row for row in session.execute(
        select(Place.id, Place.name, Place.level).where(Place.id.in_(ids)))}
    out = {}
    for path in paths:
        chain = [rows[int(p)] for p in (path or "").split("/") if p and int(p) in rows]
        out[path] = [row.name for row in chain if row.level != PlaceLevel.CITY]
    return out


def unit_kinds(uow: UnitOfWork) -> list[str]:
    """Every kind a unit may have: the routing table's and any already in use, sorted."""
    with uow:
        used = set(uow.session.scalars(select(Department.kind).distinct()))
    return sorted(used | ROUTING_KINDS)


def list_units(uow: UnitOfWork, actor: Actor, *, text: str = "", kind: str = "",
               place_code: str = "") -> list[UnitRow]:
    """Units matching a code or name fragment, a kind and a place (the units placed exactly
    there), by place and code; each with its place path and number of accounts."""
    require_admin(actor, uow.services)
    query = (select(Department, Place)
             .outerjoin(Place, Place.id == Department.place_id))
    if text.strip():
        pattern = f"%{_escape_like(text.strip())}%"
        query = query.where(or_(Department.code.ilike(pattern, escape="\\"),
                                Department.name.ilike(pattern, escape="\\")))
    if kind:
        query = query.where(Department.kind == kind)
    if place_code:
        query = query.where(Place.code == place_code)
    with uow:
        found = uow.session.execute(query.order_by(Place.path.is_not(None), Place.path,
                                                   Department.code)).all()
        return _unit_rows(uow.session, found)


def _unit_rows(session: Session, found) -> list[UnitRow]:
    counts = dict(session.execute(
        select(User.department_id, func.count()).where(
            User.department_id.in_([unit.id for unit, _ in found]))
        .group_by(User.department_id)).all()) if found else {}
    names = place_names(session, [place.path for _, place in found if place is not None])
    return [UnitRow(unit.id, unit.code, unit.name, unit.kind, unit.tier,
                    place.code if place else None, place.level if place else None,
                    tuple(names.get(place.path, ())) if place else (),
                    tuple(unit.responsibilities or ()), counts.get(unit.id, 0), unit.active)
            for unit, place in found]


def unit_detail(uow: UnitOfWork, actor: Actor, code: str) -> UnitRow:
    """One unit by code; NotFound when there is none."""
    require_admin(actor, uow.services)
    with uow:
        found = uow.session.execute(select(Department, Place)
                                    .outerjoin(Place, Place.id == Department.place_id)
                                    .where(Department.code == code)).all()
        if not found:
            raise NotFound(ErrorCode.UNIT_NOT_FOUND, unit=code)
        return _unit_rows(uow.session, found)[0]


def _unit_fields(session: Session, *, name: str, kind: str,
                 place_code: str | None) -> tuple[str, Place | None]:
    errors: dict[str, FieldError] = {}
    if not name:
        errors["name"] = FieldError(FieldCode.REQUIRED)
    elif len(name) > 100:
        errors["name"] = FieldError(FieldCode.TOO_LONG, {"limit": 100})
    known = ROUTING_KINDS | set(session.scalars(select(Department.kind).distinct()))
    if not kind:
        errors["kind"] = FieldError(FieldCode.REQUIRED)
    elif kind not in known:
        errors["kind"] = FieldError(ErrorCode.UNKNOWN_KIND, {"kind": kind})
    place = None
    if place_code:
        place = session.scalars(select(Place).where(Place.code == place_code)).first()
        if place is None:
            errors["place"] = FieldError(ErrorCode.UNKNOWN_PLACE, {"code": place_code})
    if errors:
        raise InvalidInput(errors)
    tier = TIER_OF_LEVEL.get(place.level, Tier.DISTRICT) if place else Tier.DISTRICT
    return str(tier), place


def create_unit(uow: UnitOfWork, actor: Actor, *, code: str, name: str, kind: str,
                place_code: str | None = None) -> int:
    """A new unit of a kind at a place (none: the district level); its tier follows the place's
    level and its responsibilities start as those of the kind's seed unit. Returns its id."""
    require_admin(actor, uow.services)
    code, name, kind = code.strip(), name.strip(), kind.strip()
    if not CODE.fullmatch(code) or len(code) > UNIT_CODE_MAX:
        raise InvalidInput({"code": FieldError(ErrorCode.BAD_CODE)})
    with uow:
        if uow.session.scalar(select(Department.id).where(Department.code == code)):
            raise InvalidInput({"code": FieldError(ErrorCode.UNIT_EXISTS, {"code": code})})
        tier, place = _unit_fields(uow.session, name=name, kind=kind, place_code=place_code)
        unit = Department(code=code, name=name, kind=kind, tier=tier,
                          place_id=place.id if place else None, active=True,
                          responsibilities=list(SEED_RESPONSIBILITIES.get(kind, ())))
        uow.session.add(unit)
        uow.session.flush()
        uow.audit.record(AuditAction.UNIT_CREATED, actor, object_type="unit", object_id=unit.id,
                         code=code, name=name, kind=kind, tier=tier,
                         place=place.code if place else None)
        uow.commit()
        return unit.id


def update_unit(uow: UnitOfWork, actor: Actor, *, code: str, name: str, kind: str,
                place_code: str | None, active: bool) -> bool:
    """Rename a unit, change its kind or place (the tier follows), or (de)activate it; its code
    stays, since routing and past work orders refer to the unit. True when anything changed."""
    require_admin(actor, uow.services)
    name, kind = name.strip(), kind.strip()
    with uow:
        unit = uow.session.scalars(select(Department).where(Department.code == code)).first()
        if unit is None:
            raise NotFound(ErrorCode.UNIT_NOT_FOUND, unit=code)
        tier, place = _unit_fields(uow.session, name=name, kind=kind, place_code=place_code)
        place_id = place.id if place else None
        before = {"name": unit.name, "kind": unit.kind, "tier": unit.tier,
                  "place_id": unit.place_id, "active": unit.active}
        after = {"name": name, "kind": kind, "tier": tier, "place_id": place_id,
                 "active": active}
        if before == after:
            return False
        old_place = uow.session.get(Place, unit.place_id) if unit.place_id else None
        unit.name, unit.kind, unit.tier, unit.place_id, unit.active = (
            name, kind, tier, place_id, active)
        changes: dict[str, Any] = {key: {"from": before[key], "to": after[key]}
                   for key in ("name", "kind", "tier", "active") if before[key] != after[key]}
        if before["place_id"] != place_id:
            changes["place"] = {"from": old_place.code if old_place else None,
                                "to": place.code if place else None}
        uow.audit.record(AuditAction.UNIT_UPDATED, actor, object_type="unit", object_id=unit.id,
                         code=code, **changes)
        uow.commit()
        return True


def _actor_user_id(actor: Actor) -> int | None:
    return int(actor.id) if actor.type == "user" and actor.id and actor.id.isdigit() else None


# -- places ---------------------------------------------------------------------------------------
PLACES_SHOWN = 300   # children or search hits on one page; more: narrow the search


@dataclass(frozen=True)
class PlaceRow:
    """A place in the browser: its name path, and how many places and units sit directly under
    or at it."""

    code: str
    name: str
    level: str
    names: tuple[str, ...]
    address: str | None
    children: int
    units: int


@dataclass(frozen=True)
class PlaceView:
    """A place (None: the roots) with the way up, its children and the units placed there."""

    place: PlaceRow | None
    ancestors: list[PlaceRow]
    children: list[PlaceRow]
    more: bool                     # more children than shown
    units: list[UnitRow]


def _place_rows(session: Session, places: list[Place]) -> list[PlaceRow]:
    ids = [place.id for place in places]
    if not ids:
        return []
    children = dict(session.execute(select(Place.parent_id, func.count())
                                    .where(Place.parent_id.in_(ids))
                                    .group_by(Place.parent_id)).all())
    units = dict(session.execute(select(Department.place_id, func.count())
                                 .where(Department.place_id.in_(ids))
                                 .group_by(Department.place_id)).all())
    names = place_names(session, [place.path for place in places])
    return [PlaceRow(place.code, place.name, place.level, tuple(names.get(place.path, ())),
                     place.address, children.get(place.id, 0), units.get(place.id, 0))
            for place in places]


def place_view(uow: UnitOfWork, actor: Actor, code: str | None = None) -> PlaceView:
    """One level of the place tree: a place (or the roots), the way up and its children."""
    require_admin(actor, uow.services)
    with uow:
        session = uow.session
        place = None
        if code:
            place = session.scalars(select(Place).where(Place.code == code)).first()
            if place is None:
                raise NotFound(ErrorCode.PLACE_NOT_FOUND, place_code=code)
        parent_id = place.id if place is not None else None
        children = list(session.scalars(
            select(Place).where(Place.parent_id.is_(None) if parent_id is None
                                else Place.parent_id == parent_id)
            .order_by(Place.code).limit(PLACES_SHOWN + 1)))
        ancestors: list[PlaceRow] = []
        units: list[UnitRow] = []
        row = None
        if place is not None:
            up_ids = [int(p) for p in place.path.split("/") if p and int(p) != place.id]
            up = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(up_ids)))}
            ancestors = _place_rows(session, [up[i] for i in up_ids if i in up])
            row = _place_rows(session, [place])[0]
            units = _unit_rows(session, session.execute(
                select(Department, Place).join(Place, Place.id == Department.place_id)
                .where(Department.place_id == place.id).order_by(Department.code)).all())
        return PlaceView(row, ancestors, _place_rows(session, children[:PLACES_SHOWN]),
                         len(children) > PLACES_SHOWN, units)


def search_places(uow: UnitOfWork, actor: Actor, text: str) -> tuple[list[PlaceRow], bool]:
    """Places whose name, code or standard address contains the text, shallow ones first;
    (hits, more than shown)."""
    require_admin(actor, uow.services)
    text = text.strip()
    if not text:
        return [], False
    pattern = f"%{_escape_like(text)}%"
    with uow:
        found = list(uow.session.scalars(
            select(Place).where(or_(Place.name.ilike(pattern, escape="\\"),
                                    Place.code.ilike(pattern, escape="\\"),
                                    Place.address.ilike(pattern, escape="\\")))
            .order_by(func.length(Place.path), Place.code).limit(PLACES_SHOWN + 1)))
        return _place_rows(uow.session, found[:PLACES_SHOWN]), len(found) > PLACES_SHOWN


def find_place(uow: UnitOfWork, actor: Actor, code: str) -> PlaceRow | None:
    """One place by code with its name path, or None."""
    require_admin(actor, uow.services)
    with uow:
        place = uow.session.scalars(select(Place).where(Place.code == code)).first()
        return _place_rows(uow.session, [place])[0] if place is not None else None
