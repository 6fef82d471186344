"""`jiefen process list|diff` and `jiefen migrate` against a database with real commits."""

from __future__ import annotations

import pytest
from click.testing import Result

from tests.cli_support import jiefen
from tests.process_fixtures import PROCESSES, complete_step, start_case


@pytest.fixture
def cli(tmp_path, committed_services, settings):
    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": committed_services.settings.database}

    def run(*args: str) -> Result:
        return jiefen(env, *args)

    return run


def _deploy(cli, tmp_path, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "mediation.bpmn").write_bytes((PROCESSES / f"{name}.bpmn").read_bytes())
    done = cli("deploy", str(folder))
    assert done.exit_code == 0, done.stderr


def test_list_diff_and_migrate_a_case(cli, tmp_path, committed_services):
    _deploy(cli, tmp_path, "mediation_v1")
    start_case(committed_services, "mediation", "JF-CLI")
    complete_step(committed_services, "JF-CLI", "register", {"category": "labour"})
    _deploy(cli, tmp_path, "mediation_v2")

    listed = cli("process", "list")
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "mediation  人民调解  live: v2"
    assert lines[1].startswith("  v2 ") and "running 0" in lines[1] and lines[1].endswith("*live")
    assert lines[2].startswith("  v1 ") and "running 1" in lines[2]

    diff = cli("process", "diff", "mediation", "1", "2")
    assert diff.exit_code == 0, diff.stderr
    assert "+ userTask record_agreement 制作调解协议书 (mediation.bpmn)" in diff.stdout
    assert "~ userTask mediate 组织调解 (mediation.bpmn)  [outgoing]" in diff.stdout

    dry = cli("migrate", "JF-CLI", "--to-version", "2", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.startswith("JF-CLI: v1 -> v2  safe")
    assert "added: record_agreement" in dry.stdout
    assert "due: 2025-03-18T01:00:00+00:00" in dry.stdout

    no_reason = cli("migrate", "JF-CLI", "--to-version", "2")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    moved = cli("migrate", "JF-CLI", "--to-version", "2", "--reason", "新增协议书步骤")
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout.strip().endswith("migrated JF-CLI v1 -> v2")
    again = cli("migrate", "JF-CLI", "--to-version", "2", "--reason", "x")
    assert again.exit_code == 1 and "已在版本 2" in again.stderr
    assert cli("audit", "verify").exit_code == 0
