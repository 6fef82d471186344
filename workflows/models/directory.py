"""The directory stamp: one row that changes in the same transaction as any write to the units,
places or roles, so a process may keep what it read of them while the stamp it sees is unchanged
(workflows/district/directory_cache.py).

The bump is a listener on every engine's statements, not a call in each writer: the admin pages,
the CSV imports, the demo seeding and any Core insert or update of those tables (ORM flush,
bulk or plain connection) move the stamp without knowing of it. Plain SQL text is not seen: a
migration or script that edits the directory in SQL text bumps the stamp itself (``BUMP``).
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, Integer, bindparam, event, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from engine.db import Base

DIRECTORY_TABLES = frozenset({"department", "place", "role"})
STAMP_ID = 1


class DirectoryStamp(Base):
    """``version`` counts the committed directory writes; ``token`` is drawn anew with each, so a
    bump that was rolled back is never mistaken for a later one that reached the same count."""

    __tablename__ = "directory_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    token: Mapped[int] = mapped_column(BigInteger)


def new_token() -> int:
    """A fresh stamp token (positive, fits a BIGINT)."""
    return secrets.randbits(62)


BUMP = (update(DirectoryStamp).where(DirectoryStamp.id == STAMP_ID)
        .values(version=DirectoryStamp.version + 1, token=bindparam("token")))


def bump(connection: Connection) -> None:
    """Move the stamp in ``connection``'s transaction (which also locks its row until the end)."""
    global _bumps
    connection.execute(BUMP, {"token": new_token()})
    with _BUMPS_LOCK:
        _bumps += 1


def bumps_seen() -> int:
    """How many bumps this process has sent: a stamp noted before the last one may be older
    than this process's own transaction's latest write to the directory."""
    return _bumps


_bumps = 0
_BUMPS_LOCK = threading.Lock()


@event.listens_for(Engine, "before_execute")
def _bump_on_directory_write(conn: Connection, clause: Any, *_args: Any) -> None:
    """Before each INSERT, UPDATE or DELETE of a directory table the stamp moves (each, not once
    per transaction: the writing transaction's own later reads then never match a value it kept
    before its latest write)."""
    if isinstance(clause, UpdateBase) and getattr(clause.table, "name", None) in DIRECTORY_TABLES:
        bump(conn)


@event.listens_for(DirectoryStamp.__table__, "after_create")
def _seed(table: Any, connection: Connection, **_kw: Any) -> None:
    # a database made from the models (not the migrations) starts with its row too
    connection.execute(table.insert().values(id=STAMP_ID, version=1, token=new_token()))
