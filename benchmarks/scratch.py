"""A database for one benchmark run: a SQLite file in the run's folder, or with a PostgreSQL URL
a schema of its own on that database (dropped afterwards), so a run never touches real data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from engine.db import make_engine


@contextmanager
def scratch_database(url: str | None, folder: Path, name: str) -> Iterator[str]:
    """Yield the URL to run on; ``name`` prefixes the SQLite file or the schema."""
    if not url or not url.startswith("postgresql"):
        yield f"sqlite:///{folder / f'{name}.sqlite3'}"
        return
    schema = f"{name}_{uuid.uuid4().hex[:8]}"
    _execute(url, f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        _execute(url, f'DROP SCHEMA "{schema}" CASCADE')


def _execute(url: str, statement: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()
