"""A verification reads the chain heads, then the events: an event appended in between (by a
colleague's commit) must not look like a break. On PostgreSQL each statement of a READ
COMMITTED transaction sees the commits made before it, so the run reads in one REPEATABLE READ
snapshot; these tests commit an append between the two reads."""

from __future__ import annotations

import pytest

from tests.conftest import PG
from workflows.audit import bulk_verify, stream_verify
from workflows.audit.log import AuditAction, verify_chains
from workflows.audit.verification import run_verification
from workflows.core.actors import SYSTEM

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def _note(services, chains: list[str], note: str) -> None:
    with services.new_uow() as uow:
        for chain in chains:
            uow.audit.record_copy(AuditAction.CASE_UPDATED, SYSTEM, {"note": note}, chain_key=chain)
        uow.commit()


def _append_before_the_events_are_read(services, monkeypatch) -> list[int]:
    """Every verify_stream call first commits one more event to test:a and a new chain's
    first event (test:new-N), then reads the events; returns how often it did."""
    real, done = stream_verify.verify_stream, []

    def interleaved(*args, **kwargs):
        done.append(1)
        _note(services, ["test:a", f"test:new-{len(done)}"], "期间追加")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk_verify, "verify_stream", interleaved)
    return done


def test_a_full_run_in_one_process_takes_no_append_meanwhile_for_a_break(committed_services,
                                                                        monkeypatch):
    services = committed_services
    _note(services, ["test:a", "test:b"], "开始")
    done = _append_before_the_events_are_read(services, monkeypatch)

    with services.session_factory() as session:
        report = verify_chains(session, services.keyring, workers=1)

    assert done == [1]                      # the append really fell between the reads
    assert report.ok, report.breaks
    with services.session_factory() as session:   # and a run afterwards sees it, intact
        assert verify_chains(session, services.keyring, workers=1).ok


def test_an_incremental_run_takes_no_append_meanwhile_for_a_break(committed_services,
                                                                  monkeypatch):
    services = committed_services
    _note(services, ["test:a", "test:b"], "开始")
    assert run_verification(services, SYSTEM).ok
    _note(services, ["test:a", "test:b"], "又一次")
    done = _append_before_the_events_are_read(services, monkeypatch)

    report = run_verification(services, SYSTEM, incremental=True)

    assert done == [1]
    assert report.ok, report.breaks
    assert run_verification(services, SYSTEM, incremental=True).ok   # from the saved positions
