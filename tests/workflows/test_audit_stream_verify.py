"""The full run's fast loop: it accepts exactly the chains the reference code accepts, and every
break is found and named as the reference (one chain at a time) names it."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime

from sqlalchemy import event, insert, text

from engine.audit_chain import GENESIS, canonical_json, chain_hash, event_body
from engine.crypto import KeyPurpose
from engine.models import AuditChainHead, AuditEvent
from tests.audit_support import CaseDriver, deploy, drop_audit_triggers
from workflows.audit import bulk_verify, stream_verify
from workflows.audit.log import AuditAction, verify_chains
from workflows.core.actors import Actor

AWKWARD = {"amount": 1234.5678, "tiny": 1e-7, "huge": 2 ** 70, "negative": -17, "none": None,
           "nested": {"b": [1, {"c": "引号\"与\\反斜杠"}], "a": {"z": [], "y": {}}},
           "text": "换行\n制表\t控制\x01\x1f 行分隔\u2028 表情😀 斜杠/", "flag": True}
ODD_ACTOR = Actor(type="user", id="用户\"7\"", username="x", roles=frozenset({"mediator"}),
                  department_id=3)


def _awkward_events(services) -> str:
    """A case whose later events carry floats, big integers, escapes, control characters and
    non-ASCII text, in the payload and in the header columns; returns its chain."""
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-W-001", "simple").open()
    with services.new_uow() as uow:
        uow.audit.record(AuditAction.CASE_UPDATED, ODD_ACTOR, case=driver.case_id, **AWKWARD)
        uow.audit.record(AuditAction.CASE_UPDATED, ODD_ACTOR, case=driver.case_id,
                         object_type="附件", object_id="a\\b\"c\td\ne", note="第二条 \\u0041")
        uow.commit()
    return f"case:{driver.case_id}"


def _archived_chain(services) -> str:
    """A chain written straight with the reference encoder, as a restored archive holds it."""
    key_id = services.keyring.primary_id(KeyPurpose.AUDIT_HMAC)
    key = services.keyring.key(KeyPurpose.AUDIT_HMAC, key_id)
    chain, prev, rows = "archive:old", GENESIS, []
    for seq in (1, 2, 3):
        header = {"chain_key": chain, "seq": seq, "case_id": None,
                  "occurred_at": datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
                  "actor_type": "system", "actor_id": None, "actor_role": None,
                  "actor_department_id": None, "action": "imported", "object_type": None,
                  "object_id": "旧\x7f", "key_id": key_id}
        payload = canonical_json({"seq": seq, **AWKWARD})
        digest = chain_hash(key, prev, event_body(header, payload))
        rows.append({**header, "payload": payload, "prev_hash": prev, "hash": digest})
        prev = digest
    services.db.execute(insert(AuditEvent), rows)
    services.db.execute(insert(AuditChainHead), [{"chain_key": chain, "last_seq": 3,
                                                  "last_hash": prev}])
    return chain


def _breaks(report) -> list[tuple[str, int, str]]:
    return [(b.chain_key, b.seq, b.reason) for b in report.breaks]


def test_hmac_from_padded_states_equals_hmac():
    message = bytes.fromhex("ab" * 32) + "审计 body".encode()
    for length in (1, 16, 32, 64, 65, 100):
        key = bytes(range(length))
        inner, outer = (state.copy() for state in stream_verify.hmac_pads(key))
        inner.update(message)
        outer.update(inner.digest())
        assert outer.hexdigest() == hmac.digest(key, message, "sha256").hex()


def test_orjson_writes_every_character_as_canonical_json_does():
    """Why the fast loop's bodies match: any difference would only send chains to the
    reference code, but every chain of a real database should pass at full speed."""
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    values = {"big": 2 ** 64 - 1, "int": -(2 ** 63), "none": None, "text": every}   # sorted
    assert stream_verify._encode(values) == canonical_json(values).encode("utf-8")


def test_awkward_and_archived_events_verify(services):
    awkward, archived = _awkward_events(services), _archived_chain(services)
    statements: list[str] = []
    with services.session_factory() as session:
        full = verify_chains(session, services.keyring, workers=1)
        one_by_one = verify_chains(session, services.keyring, [awkward, archived])
        conn = session.connection()
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        streamed = bulk_verify.verify_range(conn, bulk_verify.audit_keys(services.keyring))

    assert full.ok and one_by_one.ok and one_by_one.events >= 3 + 3
    assert {p[0] for p in streamed.positions} >= {awkward, archived}
    assert (streamed.chains, streamed.events) == (full.chains, full.events)
    # the fast loop accepted every chain itself: none was read again for the reference code
    # (the heads and the stream come from the driver's cursor, past SQLAlchemy's events)
    assert [s for s in statements if s.startswith("SELECT")] == []


def test_a_rewritten_awkward_event_is_named_as_the_reference_names_it(services):
    awkward, archived = _awkward_events(services), _archived_chain(services)
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET payload = replace(payload, '1234.5678', "
                             "'1234.5679') WHERE chain_key = :a"), {"a": awkward})
    services.db.execute(text("DELETE FROM audit_event WHERE chain_key = :a AND seq = 2"),
                        {"a": archived})

    with services.session_factory() as session:
        full = verify_chains(session, services.keyring, workers=1)
        one_by_one = verify_chains(session, services.keyring, [awkward, archived])

    assert sorted(_breaks(full)) == sorted(_breaks(one_by_one))
    assert {(c, "hash mismatch" in r) for c, _, r in _breaks(full)} == {(awkward, True),
                                                                        (archived, False)}


def test_a_fast_encoding_that_differs_is_no_break(services, monkeypatch):
    """Where the fast encoder writes a body differently, the reference decides: same verdict."""
    awkward = _awkward_events(services)
    with services.session_factory() as session:
        before = verify_chains(session, services.keyring, workers=1)
    monkeypatch.setattr(stream_verify, "_encode",
                        lambda body: json.dumps(body, separators=(",", ":")).encode())

    with services.session_factory() as session:
        after = verify_chains(session, services.keyring, workers=1)
        drop_audit_triggers(services)
        services.db.execute(text("UPDATE audit_event SET object_id = 'x' "
                                 "WHERE chain_key = :c AND seq = 2"), {"c": awkward})
        broken = verify_chains(session, services.keyring, workers=1)

    assert before.ok and after.ok and (after.chains, after.events) == (before.chains, before.events)
    assert _breaks(broken) == [(awkward, 2, "hash mismatch (event content altered)")]


def test_two_processes_report_what_one_reports(committed_services, monkeypatch):
    services = committed_services
    awkward = _awkward_events(services)
    drivers = [CaseDriver(services, f"TEST-P-{n}", "simple").open() for n in range(4)]
    monkeypatch.setattr(bulk_verify, "MIN_CHAINS_PER_WORKER", 1)
    with services.db.begin() as conn:
        if conn.dialect.name == "sqlite":
            for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger' "
                                          "AND tbl_name='audit_event'")).scalars().all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("UPDATE audit_event SET payload = payload || ' ' "
                          "WHERE chain_key = :c AND seq = 3"), {"c": awkward})
        conn.execute(text("UPDATE audit_chain_head SET last_seq = last_seq + 1 "
                          "WHERE chain_key = :c"), {"c": f"case:{drivers[2].case_id}"})

    with services.session_factory() as session:
        one = bulk_verify.verify_all(session, services.keyring, workers=1)
        two = bulk_verify.verify_all(session, services.keyring, workers=2)

    assert (two.chains, two.events) == (one.chains, one.events)
    assert [(b.chain_key, b.seq, b.reason) for b in two.breaks] == \
        [(b.chain_key, b.seq, b.reason) for b in one.breaks]
    assert {b.chain_key for b in one.breaks} == {awkward, f"case:{drivers[2].case_id}"}
    assert sorted(two.positions) == sorted(one.positions) and two.facts == one.facts


def test_with_the_audit_key_missing_every_chain_is_named_after_one_read(services):
    _awkward_events(services)
    archived = _archived_chain(services)
    statements: list[str] = []
    with services.session_factory() as session:
        conn = session.connection()
        heads = conn.execute(text("SELECT count(*) FROM audit_chain_head")).scalar()
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        part = bulk_verify.verify_range(conn, {})      # a keyring without the audit key

    assert part.chains == heads >= 3 and part.events == 0
    assert [b.seq for b in part.breaks] == [1] * heads
    assert all("unknown audit key" in b.reason for b in part.breaks)
    assert archived in {b.chain_key for b in part.breaks}
    # every chain went back to the reference code, all of them in one query
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
