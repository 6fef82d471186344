"""`jiefen process list|diff` and `jiefen migrate` against a real database (subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.process_fixtures import PROCESSES, complete_step, start_case

JIEFEN = str(Path(sys.executable).with_name("jiefen"))


@pytest.fixture
def cli(tmp_path, committed_services, settings):
    env = {**os.environ, "JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": committed_services.settings.database}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([JIEFEN, *args], env=env, capture_output=True, text=True,
                              check=False)

    return run


def _deploy(cli, tmp_path, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "mediation.bpmn").write_bytes((PROCESSES / f"{name}.bpmn").read_bytes())
    done = cli("deploy", str(folder))
    assert done.returncode == 0, done.stderr


def test_list_diff_and_migrate_a_case(cli, tmp_path, committed_services):
    _deploy(cli, tmp_path, "mediation_v1")
    start_case(committed_services, "mediation", "JF-CLI")
    complete_step(committed_services, "JF-CLI", "register", {"category": "labour"})
    _deploy(cli, tmp_path, "mediation_v2")

    listed = cli("process", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "mediation  人民调解  live: v2"
    assert lines[1].startswith("  v2 ") and "running 0" in lines[1] and lines[1].endswith("*live")
    assert lines[2].startswith("  v1 ") and "running 1" in lines[2]

    diff = cli("process", "diff", "mediation", "1", "2")
    assert diff.returncode == 0, diff.stderr
    assert "+ userTask record_agreement 制作调解协议书 (mediation.bpmn)" in diff.stdout
    assert "~ userTask mediate 组织调解 (mediation.bpmn)  [outgoing]" in diff.stdout

    dry = cli("migrate", "JF-CLI", "--to-version", "2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("JF-CLI: v1 -> v2  safe")
    assert "added: record_agreement" in dry.stdout
    assert "due: 2025-03-18T01:00:00+00:00" in dry.stdout

    no_reason = cli("migrate", "JF-CLI", "--to-version", "2")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    moved = cli("migrate", "JF-CLI", "--to-version", "2", "--reason", "新增协议书步骤")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip().endswith("migrated JF-CLI v1 -> v2")
    again = cli("migrate", "JF-CLI", "--to-version", "2", "--reason", "x")
    assert again.returncode == 1 and "已在版本 2" in again.stderr
    assert cli("audit", "verify").returncode == 0
