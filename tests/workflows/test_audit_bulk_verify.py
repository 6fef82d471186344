"""Verifying every chain in parallel streams, and incrementally from signed verified positions."""

from __future__ import annotations

from sqlalchemy import event, select, text

from engine.models import AuditChainVerified
from tests.audit_support import CaseDriver, deploy, drop_audit_triggers
from workflows.audit import bulk_verify
from workflows.audit.log import AuditAction, verify_chains
from workflows.audit.verification import run_verification
from workflows.core.actors import SYSTEM
from workflows.replay.access_log import chain_status


def _cases(services, count: int, prefix: str = "TEST-B") -> list[CaseDriver]:
    deploy(services, "simple.bpmn")
    drivers = []
    for number in range(count):
        driver = CaseDriver(services, f"{prefix}-{number:03d}", "simple").open()
        driver.complete("mediate", {"amount": number, "outcome": "agreed"})
        drivers.append(driver)
    return drivers


def _tamper(services, chain: str, seq: int) -> None:
    with services.db.begin() as conn:
        if conn.dialect.name == "sqlite":
            for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger' "
                                          "AND tbl_name='audit_event'")).scalars().all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("UPDATE audit_event SET payload = payload || ' ' "
                          "WHERE chain_key = :c AND seq = :s"),
                     {"c": chain, "s": seq})


def test_two_processes_find_what_one_finds(committed_services, monkeypatch):
    services = committed_services
    drivers = _cases(services, 6)
    monkeypatch.setattr(bulk_verify, "MIN_CHAINS_PER_WORKER", 1)
    broken = f"case:{drivers[4].case_id}"
    _tamper(services, broken, 3)

    with services.session_factory() as session:
        bounds = bulk_verify._ranges(session.connection(), 2)
        one = verify_chains(session, services.keyring, workers=1)
        two = verify_chains(session, services.keyring, workers=2)

    assert len(bounds) == 2   # the chains really were split between two processes
    assert (two.chains, two.events) == (one.chains, one.events) and one.chains >= 7
    assert [(b.chain_key, b.seq) for b in two.breaks] == [(b.chain_key, b.seq) for b in one.breaks]
    assert [(b.chain_key, b.seq) for b in one.breaks] == [(broken, 3)]


def test_incremental_rehashes_only_what_was_appended(services):
    _cases(services, 2, "TEST-I")
    full = run_verification(services, SYSTEM)
    assert full.ok and full.chains >= 3

    nothing_new = run_verification(services, SYSTEM, incremental=True)
    assert nothing_new.ok
    # only the system chain moved: the previous run's own audit_verified event
    assert (nothing_new.chains, nothing_new.events) == (1, 1)

    later = CaseDriver(services, "TEST-I-NEW", "simple").open()
    later.complete("mediate", {"amount": 9, "outcome": "agreed"})
    appended = run_verification(services, SYSTEM, incremental=True)
    with services.session_factory() as session:
        new_chain = session.get(AuditChainVerified, f"case:{later.case_id}")
        head_seq = session.scalar(text("SELECT last_seq FROM audit_chain_head WHERE chain_key = :c"),
                                  {"c": f"case:{later.case_id}"})
    assert appended.ok and appended.chains == 2      # the new case and the system chain
    assert new_chain is not None and new_chain.seq == head_seq


def test_incremental_names_a_rewritten_new_event_and_a_forged_position(services):
    drivers = _cases(services, 2, "TEST-F")
    assert run_verification(services, SYSTEM).ok
    later = CaseDriver(services, "TEST-F-NEW", "simple").open()
    later.complete("mediate", {"amount": 9, "outcome": "agreed"})
    chain = f"case:{later.case_id}"
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET payload = payload || ' ' "
                             "WHERE chain_key = :c AND seq = 3"), {"c": chain})
    forged = f"case:{drivers[0].case_id}"
    services.db.execute(text("UPDATE audit_chain_verified SET seq = seq - 1 WHERE chain_key = :c"),
                        {"c": forged})

    status = chain_status(services, incremental=True)

    found = {(b["chain"], b["seq"]): b["reason"] for b in status["breaks"]}
    assert not status["ok"]
    assert "hash mismatch" in found[(chain, 3)]
    assert any(c == forged and "MAC" in reason for (c, _), reason in found.items())


def test_incremental_names_a_deleted_tail_below_the_verified_position(services):
    drivers = _cases(services, 1, "TEST-D")
    assert run_verification(services, SYSTEM).ok
    chain = f"case:{drivers[0].case_id}"
    drop_audit_triggers(services)
    last = services.db.execute(text("SELECT max(seq) FROM audit_event WHERE chain_key = :c"),
                               {"c": chain}).scalar()
    services.db.execute(text("DELETE FROM audit_event WHERE chain_key = :c AND seq = :s"),
                        {"c": chain, "s": last})
    services.db.execute(text("UPDATE audit_chain_head SET last_seq = :s, last_hash = "
                             "(SELECT hash FROM audit_event WHERE chain_key = :c AND seq = :s) "
                             "WHERE chain_key = :c"), {"c": chain, "s": last - 1})

    report = run_verification(services, SYSTEM, incremental=True, save=False)

    assert [(b.chain_key, "deleted" in b.reason) for b in report.breaks] == [(chain, True)]


def test_a_broken_chain_keeps_its_old_position(services):
    drivers = _cases(services, 1, "TEST-K")
    assert run_verification(services, SYSTEM).ok
    chain = f"case:{drivers[0].case_id}"
    with services.session_factory() as session:
        before = session.scalar(select(AuditChainVerified.seq).where(
            AuditChainVerified.chain_key == chain))
    with services.new_uow() as uow:   # the chain moves on after the verified position
        uow.audit.record(AuditAction.CASE_UPDATED, SYSTEM, case=drivers[0].case_id, note="补充")
        uow.commit()
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET payload = payload || ' ' "
                             "WHERE chain_key = :c AND seq = 2"), {"c": chain})

    report = run_verification(services, SYSTEM)

    with services.session_factory() as session:
        after = session.scalar(select(AuditChainVerified.seq).where(
            AuditChainVerified.chain_key == chain))
    assert not report.ok and after == before


def _note(services, chains: list[str], note: str) -> None:
    with services.new_uow() as uow:
        for chain in chains:
            uow.audit.record_copy(AuditAction.CASE_UPDATED, SYSTEM, {"note": note}, chain_key=chain)
        uow.commit()


def _statements_of_incremental_run(services, monkeypatch, moved: int) -> tuple[int, int]:
    chains = [f"test:{moved}-{number:03d}" for number in range(moved)]
    _note(services, chains, "开始")
    assert run_verification(services, SYSTEM).ok
    _note(services, chains, "又一次")
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    streamed = bulk_verify._driver_batches

    def stream(conn, query):   # the event stream runs on the driver's cursor: one statement
        seen.append("stream")
        return streamed(conn, query)

    monkeypatch.setattr(bulk_verify, "_driver_batches", stream)
    engine = services.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        report = run_verification(services, SYSTEM, incremental=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert report.ok and report.chains == moved + 1 and report.events == moved + 1   # + system
    return len(seen), report.chains


def test_the_incremental_run_sends_as_many_statements_for_30_moved_chains_as_for_3(
        services, monkeypatch):
    few, _ = _statements_of_incremental_run(services, monkeypatch, 3)
    many, _ = _statements_of_incremental_run(services, monkeypatch, 30)

    assert many == few      # reading, checking and saving positions: per batch, not per chain


def test_incremental_names_a_rewritten_event_at_the_verified_position(services):
    _note(services, ["test:anchor"], "开始")
    assert run_verification(services, SYSTEM).ok
    _note(services, ["test:anchor"], "又一次")
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET hash = :h WHERE chain_key = 'test:anchor' "
                             "AND seq = 1"), {"h": "0" * 64})

    report = run_verification(services, SYSTEM, incremental=True, save=False)

    assert [(b.chain_key, b.seq, b.reason) for b in report.breaks] == [
        ("test:anchor", 1, "the event verified last time was removed or rewritten")]
