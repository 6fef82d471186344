"""Rows appended under a head row in one statement on PostgreSQL: the head's UPDATE as a CTE and
the INSERT of the rows joined to what it returns (the audit chains, the case event log).

Both are written at every commit, each one UPDATE and one INSERT otherwise; on PostgreSQL that is
a network round trip saved per pair. With the head matching nothing (moved meanwhile, or no head
row) nothing is inserted either, and the caller takes its slower path. SQLite keeps the two
statements: embedded, a statement is a function call, and it runs no DML in a CTE."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Table,
    column,
    insert,
    literal,
    select,
    true,
    values,
)
from sqlalchemy.orm import Session

# a step appends a handful of rows; a bulk job's thousands take the two statements (an executemany:
# no limit on bound parameters, and no cached statement per number of rows)
MOST_ROWS = 100


def one_statement(session: Session, rows: Sequence[object]) -> bool:
    """Whether ``rows`` go in one statement with their head's UPDATE."""
    return session.get_bind().dialect.name == "postgresql" and len(rows) <= MOST_ROWS


def insert_under(head: CTE, table: Table, rows: Sequence[Mapping[str, Any]], *,
                 plus: Mapping[str, ColumnElement[Any]] | None = None) -> Insert:
    """INSERT INTO ``table`` the ``rows`` (one VALUES list, each value bound with its column's
    type, NULL included) once per row of ``head``, a CTE of one row or none. ``plus``: columns
    whose value is the row's plus an expression of ``head`` (a position counted from where the
    head's UPDATE left it). Its rowcount is the number of rows inserted."""
    names = list(rows[0])
    listed = values(*[column(name, table.c[name].type) for name in names], name="listed").data(
        [tuple(literal(row[name], table.c[name].type) for name in names) for row in rows])
    added = plus or {}
    picked = [listed.c[name] + added[name] if name in added else listed.c[name] for name in names]
    return (insert(table)
            .from_select(names, select(*picked).select_from(head).join(listed, true()))
            .execution_options(preserve_rowcount=True))
