"""`jiefen replay`, `jiefen audit export` and `jiefen audit verify-export` as an operator runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from tests.audit_support import CaseDriver, deploy, drop_audit_triggers, run_joint_case
from web.commands import audit_tools, core


@pytest.fixture
def cli(services, monkeypatch):
    monkeypatch.setattr(audit_tools, "cli_services", lambda: services)
    monkeypatch.setattr(core, "cli_services", lambda: services)
    runner = CliRunner()

    def run(*args):
        from web.cli import cli as group

        return runner.invoke(group, list(args), catch_exceptions=False)

    return run


def test_replay_verify_passes_and_prints_the_summary(services, cli):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)

    result = cli("replay", "TEST-J-001", "--verify")

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("verified: 9 events reproduce")
    assert "timer_fired" in result.output


def test_replay_json_until_seq(services, cli):
    deploy(services, "simple.bpmn")
    CaseDriver(services, "TEST-S-CLI", "simple").open()

    # seq 1 is the start's engine step, recorded before its input (case_opened)
    result = cli("replay", "TEST-S-CLI", "--verify", "--until-seq", "1", "--json")

    report = json.loads(result.output)
    assert report["until_seq"] == 1 and report["inputs"] == 0


def test_replay_names_the_diverging_event(services, cli):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-DIV", "simple").open()
    for was in ('"case_no": "TEST-S-DIV"', '"case_no":"TEST-S-DIV"'):   # either spacing
        services.db.execute(text("UPDATE workflow_instance SET state = replace(state, :was, "
                                 "'\"case_no\": \"X\"') WHERE id = :i"),
                            {"was": was, "i": driver.instance_id})
    driver.complete("mediate", {"amount": 3, "outcome": "agreed"})

    result = cli("replay", "TEST-S-DIV", "--verify")

    assert result.exit_code == 1
    assert "diverged at seq" in result.output and "task_completed" in result.output
    assert "data case_no" in result.output


def test_tampered_chain_is_refused_and_named(services, cli):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-TAM", "simple").open()
    drop_audit_triggers(services)
    services.db.execute(text("DELETE FROM audit_event WHERE chain_key = :c AND seq = 2"),
                        {"c": f"case:{driver.case_id}"})

    replayed = cli("replay", "TEST-S-TAM", "--verify")
    verified = cli("audit", "verify", "--case", "TEST-S-TAM")

    assert replayed.exit_code == 1 and "refused: audit chain broken at seq 2" in replayed.output
    assert verified.exit_code == 1 and "seq 2" in verified.output


def test_export_then_verify_offline_and_one_changed_byte_fails(services, cli, tmp_path, keyring):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)
    target = tmp_path / "TEST-J-001.json"
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(json.loads((services.settings.keys_path).read_text())))
    keys.chmod(0o600)

    exported = cli("audit", "export", "TEST-J-001", "-o", str(target))
    good = cli("audit", "verify-export", str(target), "--keys", str(keys))
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    bad = cli("audit", "verify-export", str(target), "--keys", str(keys))

    assert exported.exit_code == 0 and (tmp_path / "TEST-J-001.html").exists()
    assert good.exit_code == 0 and good.output.startswith("OK case TEST-J-001")
    assert bad.exit_code == 1 and "FAILED" in bad.output


def test_unknown_case(cli):
    result = cli("replay", "NOPE", "--verify")
    assert result.exit_code == 1 and "no case NOPE" in result.output


def test_reordered_rows_are_named_by_audit_verify(services, cli):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-ORD", "simple").open()
    driver.complete("mediate", {"amount": 3, "outcome": "agreed"})
    drop_audit_triggers(services)
    chain = f"case:{driver.case_id}"
    for old, new in ((3, 1000), (4, 3), (1000, 4)):  # swap two events (UNIQUE(chain, seq))
        services.db.execute(text("UPDATE audit_event SET seq = :n WHERE chain_key = :c AND seq = :o"),
                            {"c": chain, "o": old, "n": new})

    verified = cli("audit", "verify")
    replayed = cli("replay", "TEST-S-ORD", "--verify")

    assert verified.exit_code == 1 and "case TEST-S-ORD seq 3" in verified.output
    assert replayed.exit_code == 1 and "broken at seq 3" in replayed.output


def test_incremental_verify_checks_only_what_came_after_the_full_run(services, cli):
    deploy(services, "simple.bpmn")
    CaseDriver(services, "TEST-S-INC", "simple").open()

    full = cli("audit", "verify")
    incremental = cli("audit", "verify", "--incremental")

    assert full.exit_code == 0 and full.output.startswith("OK ")
    # only the system chain moved since: the full run's own audit_verified event
    assert incremental.exit_code == 0
    assert incremental.output.strip() == "OK incremental: 1 chains, 1 events"
