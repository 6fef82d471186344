"""Upgrading to 0010: the case code counter starts after the codes already issued, and tokens
without an expiry (or with one beyond the longest lifetime) get one 90 days out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.orm import Session

from engine.db import make_engine
from workflows.core.schema import upgrade
from workflows.models import ApiToken, CaseNumber


def test_upgrade_seeds_the_counter_and_bounds_token_lifetimes(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, revision="0009_user_mobile")
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:   # the tables as they were then, not today's models
        cases = Table("dispute_case", MetaData(), autoload_with=connection)
        for code in ("JF-2024-000310", "JF-2025-000007", "JF-2025-000012", "JF-2025-000009"):
            connection.execute(insert(cases).values(_row(cases, case_no=code, channel="counter",
                                                          summary="", opened_at=now)))
    with Session(engine) as session:
        for prefix, expires in (("aaaa0001", None), ("aaaa0002", now + timedelta(days=30)),
                                ("aaaa0003", now + timedelta(days=36500))):
            session.add(ApiToken(channel="portal", name=prefix, prefix=prefix, token_hash="h",
                                 scopes=[], created_at=now, expires_at=expires))
        session.commit()
    upgrade(url)
    with Session(engine) as session:
        counters = {c.year: c.last_no for c in session.scalars(select(CaseNumber))}
        assert counters == {2024: 310, 2025: 12}
        left = {t.prefix: (t.expires_at - now).days
                for t in session.scalars(select(ApiToken))}
        assert left == {"aaaa0001": 90, "aaaa0002": 30, "aaaa0003": 90}
    engine.dispose()


def _row(table: Table, **given) -> dict:
    """Given values plus a plain value for every other required column of an old table."""
    row = dict(given)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key \
                or column.server_default is not None:
            continue
        python_type = column.type.python_type
        row[column.name] = {bool: False, int: 1, str: "general"}.get(python_type, given["opened_at"])
    return row

