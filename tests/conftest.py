"""Shared fixtures: settings, keys, a migrated database, a frozen clock and services per test.

Every test runs on SQLite by default; with DATABASE_URL set (CI) the same tests run on PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, make_url, text
from werkzeug.routing import Rule

from engine import specs
from engine.clock import FrozenClock
from engine.crypto import Keyring
from engine.db import make_engine
from engine.specs import CompiledBundle
from workflows.core.schema import upgrade
from workflows.core.settings import Settings
from workflows.processes import deploy
from workflows.runtime.bootstrap import bootstrap

FIXTURES = Path(__file__).parent / "fixtures"
PG = os.environ.get("DATABASE_URL", "").startswith("postgresql")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ... under pytest-xdist
# argon2id at its lowest cost: the same code paths, about a millisecond a hash instead of ~100 ms
# (tests of the hashing itself set the production cost again)
CHEAP_HASHING = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
CHEAP_HASHING_ENV = {f"JIEFEN_{name.upper()}": str(value) for name, value in CHEAP_HASHING.items()}


def fixture_bytes(*names: str) -> dict[str, bytes]:
    """BPMN/DMN fixture files by logical name."""
    return {name: (FIXTURES / "bpmn" / name).read_bytes() for name in names}


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept in memory for the run: every test's app would otherwise
    compile each page template again (the bucket checks the source's checksum)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


REAL_COMPILE = specs.compile_bundle   # before compile_once shares bundles across the run


@pytest.fixture
def fresh_compiles(monkeypatch):
    """Every bundle the test's services need from now on compiled anew, as in a server process
    just started (the run's shared bundles carry what earlier tests did to their specs)."""
    monkeypatch.setattr(specs, "compile_bundle", REAL_COMPILE)


def _compile_once(compile_bundle: Callable[..., CompiledBundle]) -> Callable[..., CompiledBundle]:
    """compile_bundle remembered by content for the run. The services of every test compile the
    same few bundles (the shipped library, the fixtures) at deploy and on first use; production
    keeps compiled bundles too (SpecLibrary) and shares them between instances the same way.
    Failures are not remembered; each caller gets its own lists and dicts around the shared specs."""
    done: dict[tuple, CompiledBundle] = {}

    def compiled(files: Mapping[str, bytes | str], **options) -> CompiledBundle:
        key = (tuple(sorted((name, data.encode() if isinstance(data, str) else data)
                            for name, data in files.items())),
               tuple(sorted(options.items(), key=lambda item: item[0])))
        if key not in done:
            done[key] = compile_bundle(files, **options)
        bundle = done[key]
        return replace(bundle, source_files=dict(bundle.source_files),
                       engine_files=dict(bundle.engine_files), process_ids=list(bundle.process_ids),
                       top_process_ids=list(bundle.top_process_ids),
                       decision_ids=list(bundle.decision_ids), warnings=list(bundle.warnings))

    return compiled


def _build_once(compile_builder: Callable) -> Callable:
    """Werkzeug's Rule._compile_builder remembered for the run. Every test's app adds the same
    ~150 URL rules, and each rule generates and compiles Python source for its URL builder: about
    two thirds of create_app's time. The builder is a plain function of what the key holds (the
    rule as written, its domain part, its parsed trace, its defaults); the rule binds it to
    itself, so each app's rules keep their own converters."""
    done: dict[tuple, Callable] = {}

    def compiled(rule: Rule, append_unknown: bool = True) -> Callable:
        domain = rule.host if rule.map.host_matching else rule.subdomain
        key = (rule.rule, domain, rule.merge_slashes, tuple(rule._trace),
               repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in done:
            done[key] = compile_builder(rule, append_unknown)
        return done[key]

    return compiled


@pytest.fixture(scope="session", autouse=True)
def compile_once():
    """Templates, URL builders and BPMN bundles compiled once per run (see the helpers above);
    the tests of compiling itself call engine.specs.compile_bundle directly and are not affected."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "jinja_options", {**Flask.jinja_options,
                                               "bytecode_cache": _CompiledTemplates()})
        patch.setattr(Rule, "_compile_builder", _build_once(Rule._compile_builder))
        compiled = _compile_once(specs.compile_bundle)
        patch.setattr(specs, "compile_bundle", compiled)      # SpecLibrary (instances)
        patch.setattr(deploy, "compile_bundle", compiled)     # deploy validation
        yield


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def keyring(instance_dir) -> Keyring:
    return Keyring.generate(instance_dir / "keys.json")


@pytest.fixture(scope="session")
def settings(instance_dir, keyring, database_url) -> Settings:
    return Settings.from_env(instance_path=instance_dir, testing=True, secret_key="test-secret",
                             keys_file=instance_dir / "keys.json", database_url=database_url,
                             **CHEAP_HASHING)


def _reset_postgres(url: str, schema: str = "public") -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server():
    """PostgreSQL: an autocommit connection pool for CREATE/DROP DATABASE (on DATABASE_URL's
    database, which is only used to reach the server)."""
    if not PG:
        yield None
        return
    server = create_engine(os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    yield server
    server.dispose()


def _create_database(server, name: str, template: str | None = None) -> None:
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"'
                             + (f' TEMPLATE "{template}"' if template else ""))


def _drop_database(server, name: str) -> None:
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(pg_server, instance_dir) -> str:
    """This run's database: SQLite in the instance folder, or DATABASE_URL's PostgreSQL database;
    under pytest-xdist each worker has its own (``<name>_gw0``, ...), created when missing."""
    if not PG:
        return f"sqlite:///{instance_dir / 'jiefen.sqlite3'}"
    url = os.environ["DATABASE_URL"]
    if not WORKER:
        return url
    name = f"{make_url(url).database}_{WORKER}"
    with pg_server.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s",
                                    {"n": name}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return _with_database(url, name)


@pytest.fixture(scope="session")
def db_engine(settings, committed_template, pg_server):
    """The migrated database of this test run: a copy of the template (which exercised the
    Alembic revisions). On PostgreSQL without xdist it is DATABASE_URL's own database, which
    the server connection is on and so cannot be recreated: its schema is reset and migrated."""
    if PG and not WORKER:
        _reset_postgres(settings.database)
        upgrade(settings.database)
    elif PG:
        _create_database(pg_server, make_url(settings.database).database, committed_template)
    else:
        _copy_sqlite(committed_template, Path(make_url(settings.database).database))
    engine = make_engine(settings.database)
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


@pytest.fixture(scope="session")
def committed_template(pg_server, settings, tmp_path_factory):
    """A database migrated once per run that every ``committed_services`` starts from a copy of
    (Alembic takes seconds; copying a SQLite file or a PostgreSQL template takes milliseconds)."""
    if PG:
        name = f"{make_url(settings.database).database}_tpl"
        _create_database(pg_server, name)
        upgrade(_with_database(settings.database, name))  # NullPool: no connection stays open
        yield name
        _drop_database(pg_server, name)
    else:
        path = tmp_path_factory.mktemp("template") / "committed.sqlite3"
        upgrade(f"sqlite:///{path}")
        yield path


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy whatever is still in the source's write-ahead log."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture
def committed_services(tmp_path, settings, clock, keyring, committed_template, pg_server):
    """Services on a private database where commits are real (concurrency, crash, CLI tests)."""
    if PG:
        name = f"{committed_template[:-len('_tpl')]}_c{uuid.uuid4().hex[:10]}"
        _create_database(pg_server, name, template=committed_template)
        url = _with_database(settings.database, name)
    else:
        name, path = None, tmp_path / "committed.sqlite3"
        _copy_sqlite(committed_template, path)
        url = f"sqlite:///{path}"
    own = Settings.from_env(instance_path=tmp_path, testing=True, database_url=url,
                            secret_key="test-secret", keys_file=settings.keys_path,
                            **CHEAP_HASHING)
    services = bootstrap(own, clock=clock, keyring=keyring)
    yield services
    services.db.dispose()
    if name:
        _drop_database(pg_server, name)
