"""Engine-level fixtures: compiled fixture bundles and a restricted script engine (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import FrozenClock, use_clock
from engine.deadlines import WorkingCalendar, check_spec
from engine.instance import WorkflowInstance
from engine.operations import OperationRegistry
from engine.script_engine import make_script_engine
from engine.serializer import make_serializer
from engine.specs import compile_bundle
from tests.conftest import fixture_bytes


@pytest.fixture
def calls() -> list:
    return []


@pytest.fixture
def script_engine(calls):
    registry = OperationRegistry({"notify": lambda ctx, data, **p: calls.append(p) or {"ok": True}})
    return make_script_engine(WorkingCalendar(), registry)


@pytest.fixture
def paths_bundle():
    return compile_bundle(fixture_bytes("paths.bpmn", "route.dmn"), check_spec=check_spec)


@pytest.fixture
def engine_clock():
    clock = FrozenClock(datetime(2025, 3, 3, 1, 0, tzinfo=UTC))
    with use_clock(clock):
        yield clock


@pytest.fixture
def start(paths_bundle, script_engine, engine_clock):
    """Start the 'paths' fixture process with the given data."""

    def _start(**data):
        return WorkflowInstance.start(paths_bundle, "paths", script_engine=script_engine, data=data)

    return _start


@pytest.fixture
def serializer(paths_bundle, script_engine):
    return make_serializer(script_engine, lambda version: (paths_bundle.spec("paths"),
                                                           paths_bundle.subprocess_specs("paths")))
