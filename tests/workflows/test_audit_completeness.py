"""Nothing can go from the audit record unnoticed once a later head export exists: a suffix of a
chain, a whole chain, a chain with its head row (also with the case row), a rebuilt chain, the
system chain with the creation events of users and processes. Heads are exported after every
sweep and every `--once` run, and the verifier reads the configured sinks (file and HTTP)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from tests.audit_support import CaseDriver, deploy, drop_audit_triggers
from tests.conftest import PG
from workflows.access.policy import Denied, deny
from workflows.audit.checkpoints import HeadExporter, HttpSink, heads_path, shipped_copies
from workflows.audit.log import verify_chains
from workflows.core.actors import SYSTEM, Actor
from workflows.core.errors import ErrorCode
from workflows.people import admin
from workflows.people.departments import seed_reference_data
from workflows.scheduler import jobs

AUDITOR = Actor(type="user", id="99", username="auditor", roles=frozenset({"auditor"}))


@pytest.fixture
def case(services):
    """A process, a user created through the service, and one case of three steps."""
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    admin.create_user(services.new_uow(), SYSTEM, username="clerk1", password="a-strong-pass-9",
                      roles=["intake_clerk"])
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-A-001", "simple").open()
    driver.complete("mediate", {"amount": 5000, "outcome": "agreed"})   # on to review
    return driver


def _sql(services, statement: str, **params) -> None:
    """Tamper like a superuser inside the test transaction (the append-only triggers off)."""
    drop_audit_triggers(services)
    if not PG:
        services.db.execute(text("DROP TRIGGER IF EXISTS audit_checkpoint_no_delete"))
    services.db.execute(text(statement), params)


def _verify(services, **kwargs):
    with services.session_factory() as session:
        return verify_chains(session, services.keyring, shipped=shipped_copies(services.settings),
                             objects=True, **kwargs)


def _last_seq(services, chain: str) -> int:
    with services.session_factory() as session:
        return session.scalar(text("SELECT max(seq) FROM audit_event WHERE chain_key = :c"),
                              {"c": chain})


def _truncate(services, chain: str, keep: int) -> None:
    """Delete every event after ``keep`` and rewind the head row to it (``keep`` 0: all)."""
    _sql(services, "DELETE FROM audit_event WHERE chain_key = :c AND seq > :k", c=chain, k=keep)
    if keep:
        _sql(services, "UPDATE audit_chain_head SET last_seq = :k, last_hash = (SELECT hash FROM "
                       "audit_event WHERE chain_key = :c AND seq = :k) WHERE chain_key = :c",
             c=chain, k=keep)


def test_an_untouched_database_verifies_with_every_object_recorded(services, case):
    HeadExporter().export(services, full=True)
    report = _verify(services)
    assert report.ok, report.breaks


@pytest.mark.parametrize("keep_from_end", [1, 3, 0])
def test_a_deleted_suffix_with_a_rewound_head_is_caught_by_an_export_after_it(services, case,
                                                                              keep_from_end):
    chain = f"case:{case.case_id}"
    HeadExporter().export(services, full=True)
    last = _last_seq(services, chain)
    keep = 1 if keep_from_end == 0 else last - keep_from_end   # 0: all but the first event
    _truncate(services, chain, keep)
    report = _verify(services)
    assert (chain, last) in [(b.chain_key, b.seq) for b in report.breaks]


def test_a_deleted_whole_chain_is_caught_by_its_head_row(services, case):
    chain = f"case:{case.case_id}"
    _sql(services, "DELETE FROM audit_event WHERE chain_key = :c", c=chain)
    assert chain in {b.chain_key for b in _verify(services).breaks}


def test_a_chain_deleted_with_its_head_row_is_caught_while_the_case_exists(services, case):
    """No export at all: the case row itself says a chain must be there."""
    chain = f"case:{case.case_id}"
    _sql(services, "DELETE FROM audit_event WHERE chain_key = :c", c=chain)
    _sql(services, "DELETE FROM audit_chain_head WHERE chain_key = :c", c=chain)
    breaks = [b for b in _verify(services).breaks if b.chain_key == chain]
    assert breaks and "no audit chain" in breaks[0].reason


def test_a_chain_deleted_with_its_head_and_case_rows_is_caught_by_an_export(services, case):
    chain = f"case:{case.case_id}"
    HeadExporter().export(services, full=True)
    _sql(services, "DELETE FROM audit_event WHERE chain_key = :c", c=chain)
    _sql(services, "DELETE FROM audit_chain_head WHERE chain_key = :c", c=chain)
    _sql(services, "DELETE FROM dispute_case WHERE id = :i", i=case.case_id)
    breaks = [b for b in _verify(services).breaks if b.chain_key == chain]
    assert breaks and "exported head" in breaks[0].reason


def test_a_chain_begun_anew_after_deletion_is_caught(services, case):
    """Later activity on the case starts a fresh, internally valid chain at seq 1."""
    chain = f"case:{case.case_id}"
    _sql(services, "DELETE FROM audit_event WHERE chain_key = :c", c=chain)
    _sql(services, "DELETE FROM audit_chain_head WHERE chain_key = :c", c=chain)
    deny(services, AUDITOR, Denied(ErrorCode.NOT_PERMITTED, "view_case.scope",
                                   case_id=case.case_id, object_type="case"))
    breaks = [b for b in _verify(services).breaks if b.chain_key == chain]
    assert breaks and "registration" in breaks[0].reason


def test_a_deleted_system_chain_is_caught_by_the_users_and_processes_it_recorded(services, case):
    _sql(services, "DELETE FROM audit_event WHERE chain_key = 'system'")
    _sql(services, "DELETE FROM audit_chain_head WHERE chain_key = 'system'")
    reasons = [b.reason for b in _verify(services).breaks if b.chain_key == "system"]
    assert any("user" in r and "user_created" in r for r in reasons)
    assert any("process_version" in r and "process_deployed" in r for r in reasons)


def test_the_checkpoint_rows_and_file_gone_the_http_copy_still_catches_a_deleted_tail(
        services, case, sink):
    services = replace(services, settings=replace(services.settings, audit_heads_url=sink.url))
    chain = f"case:{case.case_id}"
    HeadExporter().export(services, full=True)
    assert HttpSink(services.settings, sleep=lambda _s: None).drain() == 1
    last = _last_seq(services, chain)
    _truncate(services, chain, last - 1)
    _sql(services, "DELETE FROM audit_checkpoint")
    heads_path(services.settings).unlink()
    breaks = [(b.chain_key, b.seq) for b in _verify(services).breaks]
    assert (chain, last) in breaks


def test_the_http_sink_is_retried_and_keeps_the_spool_until_accepted(services, case, sink):
    services = replace(services, settings=replace(services.settings, audit_heads_url=sink.url,
                                                  audit_heads_retries=2))
    waits: list[float] = []
    sink.refuse = 5                                   # more than one round of 1 + 2 attempts
    HeadExporter().export(services, full=True)
    http = HttpSink(services.settings, sleep=waits.append)
    assert http.drain() == 0 and waits == [0.5, 1.0] and sink.records == []
    assert http.drain() == 1 and len(sink.records) == 1   # third attempt of the second round
    assert http.drain() == 0                              # the spool is empty now
    assert json.loads(sink.records[0])["full"] is True


def test_heads_are_exported_after_a_sweep_and_after_once(services, case, monkeypatch):
    monkeypatch.setattr(jobs, "_exporter", HeadExporter())   # this process's scheduler
    chain = f"case:{case.case_id}"
    jobs.timers_sweep(services)                            # the process's first export: full
    before = _records(services)
    case.complete("review", {})                            # a web request moves the head
    jobs.timers_sweep(services)
    after = _records(services)
    assert after[-1]["reason"] == "sweep" and chain in after[-1]["heads"]
    assert len(after) == len(before) + 1
    jobs.timers_sweep(services)                            # nothing new: no record
    assert len(_records(services)) == len(after)
    jobs.run_once(services)
    assert _records(services)[-1]["reason"] == "once" and _records(services)[-1]["full"]


def test_after_a_once_run_a_deleted_tail_is_caught(services, case):
    chain = f"case:{case.case_id}"
    jobs.run_once(services)
    last = _last_seq(services, chain)
    _truncate(services, chain, last - 1)
    assert (chain, last) in [(b.chain_key, b.seq) for b in _verify(services).breaks]


def _records(services) -> list[dict]:
    return [json.loads(line) for line in
            heads_path(services.settings).read_text(encoding="utf-8").splitlines()]


class _Sink(BaseHTTPRequestHandler):
    """An off-machine heads store: POST appends a record, GET returns them as JSON lines."""

    def do_POST(self):  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
        if self.server.refuse > 0:
            self.server.refuse -= 1
            self.send_response(503)
        else:
            self.server.records.append(body)
            self.send_response(201)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        payload = "".join(f"{line}\n" for line in self.server.records).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def sink():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.records, server.refuse = [], 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}/heads"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def cli(services, monkeypatch):
    from click.testing import CliRunner

    from web.cli import cli as group
    from web.commands import core

    def run(settings, *args):
        monkeypatch.setattr(core, "cli_services", lambda: replace(services, settings=settings))
        return CliRunner().invoke(group, list(args), catch_exceptions=False)

    return run


def test_audit_verify_reads_the_configured_sinks_by_default(services, case, cli, sink, tmp_path):
    settings = replace(services.settings, audit_heads_file=tmp_path / "offsite" / "heads.jsonl",
                       audit_heads_url=sink.url)
    services = replace(services, settings=settings)
    chain = f"case:{case.case_id}"
    HeadExporter().export(services, full=True)
    HttpSink(settings, sleep=lambda _s: None).drain()
    assert cli(settings, "audit", "verify").exit_code == 0
    _truncate(services, chain, _last_seq(services, chain) - 1)
    _sql(services, "DELETE FROM audit_checkpoint")
    settings.audit_heads_file.unlink()                   # only the HTTP copy is left
    broken = cli(settings, "audit", "verify")
    assert broken.exit_code == 1 and "case TEST-A-001" in broken.output
    unreachable = replace(settings, audit_heads_url="http://127.0.0.1:9/heads")
    refused = cli(unreachable, "audit", "verify")
    assert refused.exit_code == 2 and "无法读取导出的审计链头" in refused.output
