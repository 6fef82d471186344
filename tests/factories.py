"""Test data builders: departments, users with roles, cases started through the intake service."""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import select

from workflows.actors import SYSTEM, Actor
from workflows.departments import seed_reference_data
from workflows.deploy import deploy_bundle, read_directory
from workflows.models import Department, Role, User, UserRole
from workflows.policy import actor_for_user

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
_counter = itertools.count(1)

# Valid (GB 11643 check digit) fictional resident ID numbers for the sample parties.
IDS = {
    "刘淑芬": "110101196203150020", "陈立伟": "110101198507200030", "马德顺": "510102197803040015",
    "韦春生": "450102198001010015", "杨光荣": "520102198211110039", "郑雅琪": "440301199405060024",
    "孙永福": "320102195809090019", "罗建平": "32010219671212001X", "周海燕": "310101196306060025",
}


def seed(services) -> None:
    """Roles and the default departments, committed."""
    uow = services.new_uow()
    with uow:
        seed_reference_data(uow.session)
        uow.commit()


def department(session, code: str) -> Department:
    return session.scalars(select(Department).where(Department.code == code)).one()


def make_department(services, code: str, name: str = "", tier: str = "district") -> int:
    uow = services.new_uow()
    with uow:
        dept = Department(code=code, name=name or code, tier=tier, responsibilities=[])
        uow.session.add(dept)
        uow.session.flush()
        ident = dept.id
        uow.commit()
    return ident


def make_user(services, roles: str | list[str], department_code: str | None = None,
              username: str | None = None) -> Actor:
    """A user holding ``roles`` in ``department_code``; returns the Actor services take."""
    roles = [roles] if isinstance(roles, str) else roles
    username = username or f"u{next(_counter)}_{roles[0]}"
    uow = services.new_uow()
    with uow:
        session = uow.session
        dept = department(session, department_code) if department_code else None
        user = User(username=username, display_name=username, password_hash="x",
                    department_id=dept.id if dept else None)
        session.add(user)
        session.flush()
        for code in roles:
            role = session.scalars(select(Role).where(Role.code == code)).one()
            session.add(UserRole(user_id=user.id, role_id=role.id,
                                 department_id=dept.id if dept else None))
        session.flush()
        session.refresh(user)
        actor = actor_for_user(user)
        uow.commit()
    return actor


def deploy_library(services) -> None:
    """Deploy the shipped bpmn/ library."""
    deploy_bundle(services.new_uow(), SYSTEM, read_directory(BPMN_DIR))


def deploy_files(services, files: dict[str, bytes]) -> None:
    deploy_bundle(services.new_uow(), SYSTEM, files)
