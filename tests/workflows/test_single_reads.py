"""A request's checks before its service call (the API token) run outside a transaction: no
BEGIN, and no COMMIT or ROLLBACK after, each a round trip on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from engine.db import single_reads
from workflows.models import Role


def _in_transaction(session) -> bool:
    dbapi = session.connection().connection.dbapi_connection
    info = getattr(dbapi, "info", None)
    if info is not None and hasattr(info, "transaction_status"):   # psycopg
        return info.transaction_status.name != "IDLE"
    return dbapi.in_transaction                                   # sqlite3


def test_a_single_read_leaves_no_transaction_open(committed_services):
    with single_reads(committed_services.session_factory()) as session:
        session.scalars(select(Role.code)).all()
        assert not _in_transaction(session)
        session.scalars(select(Role.code)).all()   # and the next read opens none either
        assert not _in_transaction(session)
    with committed_services.session_factory() as session:   # a plain session holds one
        session.scalars(select(Role.code)).all()
        assert _in_transaction(session)


def test_a_connection_given_back_after_single_reads_is_as_it_was(committed_services):
    """On SQLite pysqlite's own transaction handling stays off (the engine emits BEGIN itself):
    SQLAlchemy's AUTOCOMMIT level would switch it back on when the connection is checked in."""
    for _ in range(2):
        with single_reads(committed_services.session_factory()) as session:
            session.scalars(select(Role.code)).all()
    with committed_services.session_factory() as session:
        dbapi = session.connection().connection.dbapi_connection
        if committed_services.db.dialect.name == "sqlite":
            assert dbapi.isolation_level is None
        else:
            assert dbapi.autocommit is False
        session.scalars(select(Role.code)).all()
        assert _in_transaction(session)


def test_a_session_inside_a_test_transaction_stays_in_it(services):
    session = single_reads(services.session_factory())
    session.scalars(select(Role.code)).all()
    assert session.in_transaction()
    session.close()
