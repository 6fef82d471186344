"""Deploying bundles: versions are content-addressed; a refused bundle stores nothing; CLI exit codes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, ProcessVersion
from tests.cli_support import jiefen
from tests.conftest import FIXTURES, fixture_bytes
from workflows.core.actors import SYSTEM
from workflows.core.errors import DeployRejected
from workflows.processes.deploy import deploy_bundle


def versions(services) -> list[tuple[str, int]]:
    with services.session_factory() as session:
        rows = session.scalars(select(ProcessVersion).order_by(ProcessVersion.id))
        return [(v.process_id, v.version) for v in rows]


def test_same_content_is_one_version_and_changed_content_the_next(services):
    deploy_bundle(services.new_uow(), SYSTEM, fixture_bytes("simple.bpmn"))
    deploy_bundle(services.new_uow(), SYSTEM, fixture_bytes("simple.bpmn"))
    changed = fixture_bytes("simple.bpmn")["simple.bpmn"].replace("复核".encode(), "复核二".encode())
    deploy_bundle(services.new_uow(), SYSTEM, {"simple.bpmn": changed})
    assert versions(services) == [("simple", 1), ("simple", 2)]


def test_refused_bundle_stores_nothing_and_is_audited(services):
    bad = fixture_bytes("simple.bpmn")["simple.bpmn"].replace(b"amount &gt; 1000",
                                                              b"__import__('os') == 1")
    with pytest.raises(DeployRejected) as info:
        deploy_bundle(services.new_uow(), SYSTEM, {"simple.bpmn": bad})
    assert info.value.problems[0].element_id == "f_big"
    assert versions(services) == []
    with services.session_factory() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.chain_key == "system"))
        assert list(actions) == ["process_rejected"]


@pytest.fixture
def cli_env(tmp_path, committed_services, settings):
    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": committed_services.settings.database}
    assert jiefen(env, "keys", "init").exit_code == 0
    return env



def test_cli_deploy_and_verify(cli_env, tmp_path):
    ok = jiefen(cli_env, "deploy", str(FIXTURES / "bpmn" / "simple.bpmn"))
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.strip().startswith("simple version 1")
    bad = tmp_path / "evil.bpmn"
    bad.write_text((FIXTURES / "bpmn" / "simple.bpmn").read_text(encoding="utf-8")
                   .replace('<bpmn:userTask id="review" name="复核"/>',
                            '<bpmn:scriptTask id="review"><bpmn:script>x=1</bpmn:script>'
                            '</bpmn:scriptTask>'), encoding="utf-8")
    refused = jiefen(cli_env, "deploy", str(bad))
    assert refused.exit_code == 1
    assert "evil.bpmn#review: scripts are not allowed" in refused.stderr
    verified = jiefen(cli_env, "audit", "verify")
    assert verified.exit_code == 0 and verified.stdout.startswith("OK 1 chains")


def test_cli_audit_verify_names_the_broken_place(cli_env, committed_services):
    from tests.workflows.engine_helpers import complete, start_simple

    assert jiefen(cli_env, "deploy", str(FIXTURES / "bpmn" / "simple.bpmn")).exit_code == 0
    instance_id = start_simple(committed_services, case_id=42)
    complete(committed_services, instance_id, "mediate", {"amount": 5000})
    with committed_services.db.begin() as conn:
        from sqlalchemy import text

        if committed_services.db.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        row = conn.execute(text("SELECT seq, payload FROM audit_event WHERE chain_key = 'case:42' "
                                "AND payload LIKE '%5000%' ORDER BY seq LIMIT 1")).one()
        conn.execute(text("UPDATE audit_event SET payload = :p WHERE chain_key = 'case:42' "
                          "AND seq = :s"), {"p": json.dumps({"forged": True}), "s": row.seq})
    result = jiefen(cli_env, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN case:42 seq {row.seq}" in result.stderr
