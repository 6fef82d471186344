"""Helpers shared by the workflows tests."""

from __future__ import annotations

from tests.conftest import fixture_bytes
from tests.factories import deploy_files


def deploy_fixture(services, *names: str) -> None:
    """Deploy fixture BPMN/DMN files from tests/fixtures/bpmn."""
    deploy_files(services, fixture_bytes(*names))
