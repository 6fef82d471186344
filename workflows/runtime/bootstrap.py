"""Composition root: builds the services every entry point (web, CLI, jobs, tests) uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import sessionmaker

from engine.clock import Clock, SystemClock
from engine.crypto import FieldCipher, Keyring
from engine.db import make_engine, make_session_factory
from engine.instance_cache import InstanceCache
from engine.models import ProcessVersion
from engine.operations import OperationRegistry
from engine.script_engine import JiefenScriptEngine, make_script_engine
from engine.serializer import Serializer, make_serializer
from engine.specs import SpecLibrary
from workflows.core.settings import Settings
from workflows.core.working_calendar import CalendarProvider
from workflows.library.operations import build_registry
from workflows.runtime.unit_of_work import UnitOfWork


@dataclass
class Services:
    """Everything services need, built once per process (or per test)."""

    settings: Settings
    db: Engine | Connection
    session_factory: sessionmaker
    clock: Clock
    keyring: Keyring
    cipher: FieldCipher
    calendar: CalendarProvider
    operations: OperationRegistry
    script_engine: JiefenScriptEngine
    specs: SpecLibrary
    serializer: Serializer
    channels: dict
    # parsed states as last committed (engine/instance_cache.py)
    instances: InstanceCache = field(default_factory=InstanceCache)

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self)


def bootstrap(settings: Settings, *, connection: Connection | None = None,
              clock: Clock | None = None, keyring: Keyring | None = None,
              channels: dict | None = None) -> Services:
    """Wire settings, database, keys, calendar, operations, engine and serializer together."""
    db = connection if connection is not None else make_engine(settings.database)
    session_factory = make_session_factory(db)
    keyring = keyring or Keyring.load(settings.keys_path)
    calendar = CalendarProvider(session_factory, settings.timezone)
    operations = _operations()
    script_engine = make_script_engine(calendar, operations, settings.max_cardinality)

    def load_files(version_id: str) -> dict:
        with session_factory() as session:
            files = session.scalar(select(ProcessVersion.engine_files)
                                   .where(ProcessVersion.id == int(version_id)))
        if files is None:
            raise KeyError(f"process version {version_id} not found")
        return files

    specs = SpecLibrary(load_files)
    serializer = make_serializer(script_engine, specs.lookup)
    return Services(settings, db, session_factory, clock or SystemClock(), keyring,
                    FieldCipher(keyring), calendar, operations, script_engine, specs, serializer,
                    channels or {})


def _operations() -> OperationRegistry:
    return build_registry()
