"""The pool pings a connection before handing it out only when it has been idle for a while: a
request checks out twice (its sign-in check, then its unit of work), and a ping is a round trip
each time. A connection that died while idle is replaced at checkout and the caller never sees
it; one that died within the last second fails one statement, and the pool then replaces it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import engine.db as db
from tests.conftest import PG

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(db, "_seconds", lambda: now[0])
    return now


@pytest.fixture
def pool(database_url, db_engine):
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    pings = []
    inner = engine.dialect.do_ping

    def ping(dbapi_connection) -> bool:
        pings.append(dbapi_connection)
        return inner(dbapi_connection)

    engine.dialect.do_ping = ping   # type: ignore[method-assign]
    yield engine, pings
    engine.dispose()


def _backend(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(db_engine, pid: int) -> None:
    with db_engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()


def test_a_connection_back_a_moment_ago_is_not_pinged_one_idle_for_a_while_is(pool, clock):
    engine, pings = pool
    first = _backend(engine)              # a new connection: nothing to ping
    clock[0] += 0.2
    assert _backend(engine) == first and pings == []
    clock[0] += db.PING_AFTER_IDLE + 0.1
    assert _backend(engine) == first and len(pings) == 1


def test_a_connection_that_died_while_idle_is_replaced_before_anyone_uses_it(pool, clock, db_engine):
    engine, pings = pool
    dead = _backend(engine)
    _terminate(db_engine, dead)
    clock[0] += db.PING_AFTER_IDLE + 0.1
    fresh = _backend(engine)              # no error reaches the caller
    assert fresh != dead and len(pings) == 1


def test_a_connection_that_died_just_after_use_fails_once_then_is_replaced(pool, clock, db_engine):
    engine, _pings = pool
    dead = _backend(engine)
    _terminate(db_engine, dead)
    clock[0] += 0.2
    with pytest.raises(OperationalError):
        _backend(engine)
    assert _backend(engine) != dead
