"""Tamper evidence: changing, deleting or reordering an audit row breaks verification at that place."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.conftest import PG
from tests.workflows.engine_helpers import complete, deploy_simple, start_simple
from workflows.audit.log import verify_chains


@pytest.fixture
def chain(services):
    deploy_simple(services)
    instance_id = start_simple(services, case_id=42)
    complete(services, instance_id, "mediate", {"amount": 5000})
    return "case:42"


def verify(services):
    with services.session_factory() as session:
        return verify_chains(session, services.keyring)


def raw(services, sql: str, **params) -> None:
    """Run SQL on the test connection with the append-only triggers out of the way."""
    connection = services.db
    if PG:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
    connection.execute(text(sql), params)


def test_untouched_chains_verify(services, chain):
    report = verify(services)
    # case:42 (two engine steps, the start and the completion) and system
    assert report.ok and report.events >= 4 and report.chains == 2


def test_changed_payload_is_named(services, chain):
    raw(services, "UPDATE audit_event SET payload = replace(payload, '5000', '50') "
                  "WHERE chain_key = :c AND payload LIKE '%5000%'", c=chain)
    report = verify(services)
    assert not report.ok
    first = report.breaks[0]
    assert first.chain_key == chain and "altered" in first.reason


def test_deleted_event_is_named(services, chain):
    raw(services, "DELETE FROM audit_event WHERE chain_key = :c AND seq = 2", c=chain)
    first = verify(services).breaks[0]
    assert (first.chain_key, first.seq) == (chain, 2)


def test_deleted_newest_events_are_caught_by_the_head(services, chain):
    raw(services, "DELETE FROM audit_event WHERE chain_key = :c AND seq > 2", c=chain)
    first = verify(services).breaks[0]
    assert first.chain_key == chain and "head" in first.reason


def test_reordered_events_are_named(services, chain):
    raw(services, "UPDATE audit_event SET seq = -1 WHERE chain_key = :c AND seq = 2", c=chain)
    raw(services, "UPDATE audit_event SET seq = 2 WHERE chain_key = :c AND seq = 3", c=chain)
    raw(services, "UPDATE audit_event SET seq = 3 WHERE chain_key = :c AND seq = -1", c=chain)
    first = verify(services).breaks[0]
    assert (first.chain_key, first.seq) == (chain, 2)


def test_the_database_refuses_updates_and_deletes_of_audit_rows(services, chain):
    connection = services.db
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        savepoint = connection.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            connection.execute(text(statement))
        savepoint.rollback()


def test_deleted_tail_with_rewound_head_and_checkpoint_is_caught_by_the_heads_file(services, chain,
                                                                                  tmp_path):
    """A DBA deletes the newest events, rewinds the head row and deletes the checkpoint row: the
    heads file shipped off the database still names the chain and the missing event."""
    from workflows.audit.checkpoints import HeadExporter

    services = replace(services, settings=replace(services.settings, instance_path=tmp_path))
    HeadExporter().export(services, full=True)
    heads_file = tmp_path / "audit" / "heads.jsonl"
    last = events_of(services, chain)[-1]
    raw(services, "DELETE FROM audit_event WHERE chain_key = :c AND seq >= :s", c=chain,
        s=last.seq - 1)
    raw(services, "UPDATE audit_chain_head SET last_seq = :s, last_hash = (SELECT hash FROM "
                  "audit_event WHERE chain_key = :c AND seq = :s) WHERE chain_key = :c",
        c=chain, s=last.seq - 2)
    if not PG:
        services.db.execute(text("DROP TRIGGER IF EXISTS audit_checkpoint_no_delete"))
    services.db.execute(text("DELETE FROM audit_checkpoint"))
    with services.session_factory() as session:
        assert verify_chains(session, services.keyring).ok is True    # the database alone: fooled
        report = verify_chains(session, services.keyring, heads_file=heads_file)
    messages = [(b.chain_key, b.seq) for b in report.breaks]
    assert (chain, last.seq) in messages
    assert any(b.chain_key == "checkpoint" and "deleted" in b.reason for b in report.breaks)


def test_forged_heads_file_line_is_refused(services, chain, tmp_path):
    from workflows.audit.checkpoints import HeadExporter

    services = replace(services, settings=replace(services.settings, instance_path=tmp_path))
    HeadExporter().export(services, full=True)
    heads_file = tmp_path / "audit" / "heads.jsonl"
    heads_file.write_text(heads_file.read_text().replace('"case:42": [', '"case:42": [1'))
    with services.session_factory() as session:
        report = verify_chains(session, services.keyring, heads_file=heads_file)
    assert any(b.chain_key == "heads-file" and "MAC invalid" in b.reason for b in report.breaks)


def test_checkpoint_rows_are_append_only(services, chain):
    from workflows.audit.checkpoints import HeadExporter

    HeadExporter().export(services, full=True)
    connection = services.db
    for statement in ("UPDATE audit_checkpoint SET mac = 'x'", "DELETE FROM audit_checkpoint"):
        savepoint = connection.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            connection.execute(text(statement))
        savepoint.rollback()


def events_of(services, chain):
    from tests.workflows.engine_helpers import events

    return events(services, chain)
