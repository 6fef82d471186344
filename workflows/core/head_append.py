"""Rows appended under a head row in one statement on PostgreSQL: the head's UPDATE as a CTE and
the INSERT of the rows joined to what it returns (the audit chains, the case event log).

Both are written at every commit, each one UPDATE and one INSERT otherwise; on PostgreSQL that is
a network round trip saved per pair. With the head matching nothing (moved meanwhile, or no head
row) nothing is inserted either, and the caller takes its slower path. SQLite keeps the two
statements: embedded, a statement is a function call, and it runs no DML in a CTE.

The rows travel as one JSON parameter spread by ``json_to_recordset`` into the columns' own
types: the statement's text is the same whatever the number of rows, so SQLAlchemy compiles it
once (a ``VALUES`` list of bound rows has no cache key and was compiled at every commit) and
psycopg keeps it prepared on the server. One JSON text costs the client less than an array per
column (psycopg dumps arrays in Python)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    JSON,
    ColumnElement,
    Insert,
    Table,
    Text,
    column,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.orm import Session

# a step appends a handful of rows; a bulk job's thousands take the two statements (an
# executemany, no JSON text of megabytes)
MOST_ROWS = 100


def one_statement(session: Session, rows: Sequence[object]) -> bool:
    """Whether ``rows`` go in one statement with their head's UPDATE."""
    return session.get_bind().dialect.name == "postgresql" and len(rows) <= MOST_ROWS


def insert_under(head: CTE, table: Table, rows: Sequence[Mapping[str, Any]], *,
                 plus: Mapping[str, ColumnElement[Any]] | None = None) -> Insert:
    """INSERT INTO ``table`` the ``rows`` (one JSON parameter, each value read back as its
    column's type: text exactly as given, an instant with its offset, a JSON column's value as
    JSON, None as SQL NULL, in a JSON column too) once per row of ``head``, a CTE of one row or
    none. ``plus``: columns whose value is the row's plus an expression of ``head`` (a position
    counted from where the head's UPDATE left it). Its rowcount is the number of rows inserted."""
    names = list(rows[0])
    text = json.dumps([{name: _plain(value) for name, value in row.items()} for row in rows],
                      ensure_ascii=False)
    listed = (func.json_to_recordset(literal(text, Text()).cast(JSON))
              .table_valued(*[column(name, table.c[name].type) for name in names])
              .render_derived(name="listed", with_types=True))
    added = plus or {}
    picked = [listed.c[name] + added[name] if name in added else listed.c[name] for name in names]
    return (insert(table)
            .from_select(names, select(*picked).select_from(head).join(listed, true()))
            .execution_options(preserve_rowcount=True))


def _plain(value: object) -> object:
    """A column's value as JSON reads it back: a datetime as ISO text with its offset
    (microseconds kept; a naive one refused, as the column's own type refuses it)."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    return value.isoformat()
