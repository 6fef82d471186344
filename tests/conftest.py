"""Shared fixtures: settings, keys, a migrated database, a frozen clock and services per test.

Every test runs on SQLite by default; with DATABASE_URL set (CI) the same tests run on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.clock import FrozenClock
from engine.crypto import Keyring
from engine.db import make_engine
from workflows.core.schema import upgrade
from workflows.core.settings import Settings
from workflows.runtime.bootstrap import bootstrap

FIXTURES = Path(__file__).parent / "fixtures"
PG = os.environ.get("DATABASE_URL", "").startswith("postgresql")
# argon2id at its lowest cost: the same code paths, about a millisecond a hash instead of ~100 ms
# (tests of the hashing itself set the production cost again)
CHEAP_HASHING = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
CHEAP_HASHING_ENV = {f"JIEFEN_{name.upper()}": str(value) for name, value in CHEAP_HASHING.items()}


def fixture_bytes(*names: str) -> dict[str, bytes]:
    """BPMN/DMN fixture files by logical name."""
    return {name: (FIXTURES / "bpmn" / name).read_bytes() for name in names}


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def keyring(instance_dir) -> Keyring:
    return Keyring.generate(instance_dir / "keys.json")


@pytest.fixture(scope="session")
def settings(instance_dir, keyring) -> Settings:
    return Settings.from_env(instance_path=instance_dir, testing=True, secret_key="test-secret",
                             keys_file=instance_dir / "keys.json", **CHEAP_HASHING)


def _reset_postgres(url: str, schema: str = "public") -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def db_engine(settings):
    """The migrated database of this test run (exercises the Alembic revisions)."""
    if PG:
        _reset_postgres(settings.database)
    engine = make_engine(settings.database)
    upgrade(settings.database)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2025-03-03 09:00 in Beijing."""
    return FrozenClock(datetime(2025, 3, 3, 1, 0, tzinfo=UTC))


@pytest.fixture
def services(db_engine, settings, clock, keyring, tmp_path):
    """Services bound to one outer transaction that is rolled back after the test; files the
    services write (outbox file channel, exported audit heads) go to the test's own folder."""
    settings = replace(settings, instance_path=tmp_path)
    with db_engine.connect() as connection:
        outer = connection.begin()
        yield bootstrap(settings, connection=connection, clock=clock, keyring=keyring)
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def committed_services(tmp_path, settings, clock, keyring):
    """Services on a private database where commits are real (concurrency, crash, CLI tests)."""
    if PG:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        _reset_postgres(settings.database, schema)
        url = settings.database
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}options=-csearch_path%3D{schema}"
    else:
        schema, url = None, f"sqlite:///{tmp_path / 'committed.sqlite3'}"
    upgrade(url)
    own = Settings.from_env(instance_path=tmp_path, testing=True, database_url=url,
                            secret_key="test-secret", keys_file=settings.keys_path,
                            **CHEAP_HASHING)
    services = bootstrap(own, clock=clock, keyring=keyring)
    yield services
    services.db.dispose()
    if schema:
        engine = make_engine(settings.database)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
