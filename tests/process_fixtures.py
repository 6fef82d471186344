"""Shared helpers for the process-owner tests: fixture bundles and an in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine.deadlines import WorkingCalendar
from engine.script_engine import make_script_engine
from engine.serializer import make_serializer
from engine.specs import compile_bundle

PROCESSES = Path(__file__).parent / "fixtures" / "bpmn" / "processes"
MONDAY_9 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def process_files(name: str, logical: str | None = None) -> dict[str, bytes]:
    """One fixture version under its logical name: ``mediation_v2`` -> {'mediation.bpmn': ...}."""
    logical = logical or name.split("_v")[0] + ".bpmn"
    return {logical: (PROCESSES / f"{name}.bpmn").read_bytes()}


def bundle(name: str):
    return compile_bundle(process_files(name))


def calendar() -> WorkingCalendar:
    return WorkingCalendar({})


def script_engine():
    return make_script_engine(calendar())


def serializer(engine=None, lookup=None):
    return make_serializer(engine or script_engine(), lookup or (lambda version: (None, None)))
