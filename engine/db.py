"""SQLAlchemy base, portable column types and engine/session factories."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, MetaData, String, TypeDecorator, create_engine, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeEngine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every jiefen table (engine and workflows)."""

    metadata = MetaData(naming_convention=NAMING)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes: timestamptz on PostgreSQL, ISO text on SQLite.

    ISO text with a fixed format sorts correctly, so range queries on SQLite work.
    """

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import TIMESTAMP

            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(32))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "postgresql":
            return value
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        # the fixed format written above ("…Z"); fromisoformat reads it about ten times faster than
        # strptime, and text with another offset (written by hand) is converted, not relabelled
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


WRITE_OPTION = "jiefen_write"
SINGLE_READS_OPTION = "jiefen_single_reads"


# a pooled connection idle for longer than this is pinged before it is handed out
PING_AFTER_IDLE = 1.0   # seconds


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5,
                ping_after_idle: float = PING_AFTER_IDLE) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and BEGIN IMMEDIATE transactions.

    ``hide_parameters``: a failing statement's bound values (serialized task data, free text)
    never reach exception messages and so never the error log."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                           hide_parameters=True)
    _ping_when_idle(engine, ping_after_idle)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _keep_prepared_statements(engine)
    return engine


_RETURNED = "jiefen_returned_at"
_seconds = time.monotonic   # the pool's clock (tests move it)


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """The pool's pre-ping, for connections idle longer than ``idle`` seconds only.

    A ping is a round trip at every checkout, and a request checks out twice (its sign-in
    check, then its unit of work): two of the sixteen round trips of a task completion on
    PostgreSQL. A connection handed back less than ``idle`` ago was working then; one that
    died since (the server restarted within that second) fails its request once, and that
    failure invalidates the pool's older connections as a failed ping would."""
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = _seconds()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or _seconds() - returned < idle:
            return   # a new connection, or one at work a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # the pool replaces it (and every older one) and checks out again
                raise exc.InvalidatePoolError() from error
            raise


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling is off; we emit BEGIN IMMEDIATE ourselves
        # so writers queue on the lock instead of failing on a read->write upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: no fsync per commit; an application crash loses nothing, a power cut
            # may lose the last commits but never corrupts (docs/operations.md). PostgreSQL is
            # the production database.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # writers (units of work) take the lock up front; plain reads use a WAL snapshot and
        # never wait behind a writer; single reads (single_reads) open nothing: with pysqlite's
        # own handling off, each statement then commits by itself
        options = connection.get_execution_options()
        if options.get(SINGLE_READS_OPTION):
            return
        if options.get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


# NULL until the transaction writes anything (a row, a temp table, DDL, a row lock); PostgreSQL 13+
WROTE_NOTHING = "SELECT pg_current_xact_id_if_assigned() IS NULL"


def _keep_prepared_statements(engine: Engine) -> None:
    """End transactions that wrote nothing with COMMIT instead of ROLLBACK.

    psycopg prepares a statement at its fifth use on a connection but forgets (and deallocates)
    every prepared statement at each ROLLBACK, and each read-only session ends with one: nothing
    would ever stay prepared, and PostgreSQL would plan every statement anew (planning costs
    about as much as running most of ours). A transaction without a transaction id changed
    nothing, so COMMIT ends it as ROLLBACK would and the prepared statements stay. They differ
    only for a session-level SET, NOTIFY or LISTEN inside it, which the application never sends.
    A transaction in error, or one that wrote, is rolled back as before.
    """
    from psycopg.pq import TransactionStatus

    open_and_well = TransactionStatus.INTRANS

    def end_if_read_only(dbapi_connection: Any) -> None:
        # status is known locally: only an open, healthy transaction costs the one check
        if dbapi_connection is None or dbapi_connection.info.transaction_status != open_and_well:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(WROTE_NOTHING, prepare=True)
                row = cursor.fetchone()
            if row is not None and row[0]:
                dbapi_connection.commit()    # the rollback that follows then has nothing to do
        except Exception:  # noqa: BLE001 - that rollback ends the transaction and reports errors
            return

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Connection) -> None:
        if not (connection.invalidated or connection.closed):
            end_if_read_only(connection.connection.dbapi_connection)

    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
        # a connection given back to the pool with its transaction still open
        if not (state.transaction_was_reset or state.terminate_only):
            end_if_read_only(dbapi_connection)


def single_reads(session: Session) -> Session:
    """``session`` set to run each read on its own, outside a transaction: for a request's one
    or two checks before its service call (the API token, say). On PostgreSQL that saves the
    BEGIN, and the COMMIT or ROLLBACK after, each a round trip; on SQLite the read runs on the
    last committed state as in a transaction of its own. A session joined to an outer
    transaction (tests) stays in it.

    SQLite: not SQLAlchemy's AUTOCOMMIT level, whose reset at check-in would hand pysqlite its
    own transaction handling back (``_configure_sqlite`` turns it off for good); the connection
    just skips the BEGIN (``SINGLE_READS_OPTION``) and is left as it was."""
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return session
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={SINGLE_READS_OPTION: True})
    else:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


def make_session_factory(bind: Engine | Connection) -> sessionmaker:
    """Session factory; in tests ``bind`` is a connection inside an outer transaction."""
    kwargs: dict[str, Any] = {"expire_on_commit": False}
    if not isinstance(bind, Engine):
        kwargs["join_transaction_mode"] = "create_savepoint"
    return sessionmaker(bind=bind, **kwargs)
