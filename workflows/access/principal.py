"""Who a request acts as, read in one statement: the user, their unit and their role codes.

A token check or a session resume needs its own row (token, login session), the user, the unit
(code, name, place path) and the role codes. Read one by one that was four statements and a
write-locked transaction per request; here the caller's row is joined to the rest, one result
row per role, in a plain read (only a due ``last used`` stamp writes, in its own short unit of
work). The directory stamp comes along (workflows/district/directory_cache.py): the request's
service call then finds the units and lane roles kept in this process without reading it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

from engine.db import single_reads
from workflows.district.directory_cache import Stamp, stamp_column, stamp_read
from workflows.models import Department, Place, Role, User, UserRole

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

# the user's columns, then the unit's, the directory stamp and the role code (NULL for a user
# without roles)
COLUMNS = (User.id, User.username, User.display_name, User.locale, User.text_size, User.active,
           User.department_id, User.totp_enrolled_at, User.totp_secret_enc,
           Department.code, Department.name, Place.path, stamp_column(), Role.code)


@dataclass(frozen=True)
class Principal:
    """An account as a request needs it."""

    user_id: int
    username: str
    display_name: str
    locale: str | None
    text_size: str
    active: bool
    department_id: int | None
    unit_code: str | None
    unit_name: str | None
    unit_path: str | None
    roles: frozenset[str]
    enrolled: bool          # a confirmed second factor
    directory_stamp: Stamp | None = None    # as this read saw it


def joined(query: Select, user_id: Any) -> Select:
    """``query`` (selecting the caller's row) with the user behind ``user_id``, their unit and
    role codes added: one row per role."""
    return (query.add_columns(*COLUMNS)
            .join(User, User.id == user_id)
            .outerjoin(Department, Department.id == User.department_id)
            .outerjoin(Place, Place.id == Department.place_id)
            .outerjoin(UserRole, UserRole.user_id == User.id)
            .outerjoin(Role, Role.id == UserRole.role_id))


def principal(rows: Sequence[Row]) -> Principal:
    """The account of rows from ``joined`` that share one caller row (its columns first)."""
    tail = rows[0][-len(COLUMNS):]
    (uid, username, display_name, locale, text_size, active, department_id, enrolled_at,
     secret, unit_code, unit_name, unit_path, stamp, _role) = tail
    roles = frozenset(row[-1] for row in rows if row[-1] is not None)
    return Principal(uid, username, display_name, locale, text_size or "standard", bool(active),
                     department_id, unit_code, unit_name, unit_path, roles,
                     enrolled_at is not None and secret is not None, stamp_read(stamp))


@contextmanager
def reading(services: Services, session: Session | None = None) -> Iterator[Session]:
    """``session`` (the request's reads) or a read session of its own, closed afterwards; its
    reads run each on its own (``single_reads``: one statement, no transaction around it)."""
    if session is not None:
        yield session
        return
    own = single_reads(services.session_factory())
    try:
        yield own
    finally:
        own.close()
