"""The directory stamp: one row that changes in the same transaction as any write to the units,
places or roles, so a process may keep what it read of them while the stamp it sees is unchanged
(workflows/district/directory_cache.py).

Database triggers move it (migration 0043): every INSERT, UPDATE, DELETE (and on PostgreSQL
TRUNCATE) of those tables, from the admin pages, the imports, a migration's SQL or psql by hand,
draws a new token in the writing statement itself, so no writer needs to know of the stamp and
no statement is sent for it. This process also counts its own writes (``bumps_seen``): a stamp
its transaction noted before its latest write to the directory is no longer that transaction's.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, Integer, TextClause, event
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from engine.db import Base

DIRECTORY_TABLES = ("department", "place", "role")
STAMP_ID = 1
# a directory write in SQL text (rare: tests, scripts); a false match only costs a stamp read
_TEXT_WRITE = re.compile(
    r"\b(?:insert(?:\s+or\s+\w+)?\s+into|replace\s+into|update(?:\s+or\s+\w+)?|delete\s+from"
    r"|truncate(?:\s+table)?)\s+(?:only\s+)?(?:\"?\w+\"?\.)?\"?(?:department|place|role)\b",
    re.IGNORECASE)


class DirectoryStamp(Base):
    """``version`` counts the committed directory writes; ``token`` is drawn anew with each, so a
    bump that was rolled back is never mistaken for a later one that reached the same count."""

    __tablename__ = "directory_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    token: Mapped[int] = mapped_column(BigInteger)


def new_token() -> int:
    """A fresh stamp token (positive, fits a BIGINT), as the triggers draw them."""
    return secrets.randbits(62)


def bumps_seen() -> int:
    """How many directory writes this process has sent: a stamp noted before the last one may be
    older than this process's own transaction's latest write to the directory."""
    return _bumps


_bumps = 0
_BUMPS_LOCK = threading.Lock()


@event.listens_for(Engine, "before_execute")
def _count_directory_write(_conn: Connection, clause: Any, *_args: Any) -> None:
    if isinstance(clause, UpdateBase):
        if getattr(clause.table, "name", None) not in DIRECTORY_TABLES:
            return
    elif not (isinstance(clause, TextClause) and _TEXT_WRITE.search(clause.text)):
        return
    _bump()


@event.listens_for(Engine, "before_cursor_execute")
def _count_driver_write(_conn: Connection, _cursor: Any, statement: str, _parameters: Any,
                        context: Any, _many: bool) -> None:
    # exec_driver_sql sends its string without ``before_execute``; compiled statements are
    # counted there
    if getattr(context, "compiled", None) is None and _TEXT_WRITE.search(statement):
        _bump()


def _bump() -> None:
    global _bumps
    with _BUMPS_LOCK:
        _bumps += 1


# The triggers of migration 0043, for a database made from the models (tests); the migration
# keeps its own copy, as migrations do.
_PG_BUMP = """
CREATE FUNCTION directory_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_stamp
       SET version = version + 1, token = floor(random() * 4611686018427387904)::bigint
     WHERE id = 1;
    RETURN NULL;
END $$"""
_PG_TRIGGER = ("CREATE TRIGGER directory_stamp_{table} BEFORE INSERT OR UPDATE OR DELETE OR "
               "TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION directory_stamp_bump()")
_SQLITE_TRIGGER = ("CREATE TRIGGER directory_stamp_{table}_{op} AFTER {op} ON {table} BEGIN "
                   "UPDATE directory_stamp SET version = version + 1, "
                   "token = random() & 4611686018427387903 WHERE id = 1; END")


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the stamp's triggers on ``dialect`` ("postgresql", "sqlite")."""
    if dialect == "postgresql":
        return [_PG_BUMP] + [_PG_TRIGGER.format(table=t) for t in DIRECTORY_TABLES]
    return [_SQLITE_TRIGGER.format(table=t, op=op) for t in DIRECTORY_TABLES
            for op in ("insert", "update", "delete")]


@event.listens_for(DirectoryStamp.__table__, "after_create")
def _seed(table: Any, connection: Connection, **_kw: Any) -> None:
    # a database made from the models (not the migrations) starts with its row too
    connection.execute(table.insert().values(id=STAMP_ID, version=1, token=new_token()))


@event.listens_for(Base.metadata, "after_create")
def _triggers(_metadata: Any, connection: Connection, tables: Any = (), **_kw: Any) -> None:
    names = {table.name for table in tables}
    if {"directory_stamp", *DIRECTORY_TABLES} <= names:
        for statement in trigger_ddl(connection.dialect.name):
            connection.exec_driver_sql(statement)
