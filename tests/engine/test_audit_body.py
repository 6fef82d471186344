"""The hashed body of an audit event is the canonical (sorted-key) JSON of its header and payload."""

from datetime import UTC, datetime, timedelta, timezone

from engine.audit_chain import HEADER_FIELDS, canonical_json, chain_hash, event_body


def test_the_hashed_body_is_the_sorted_canonical_text_of_header_and_payload():
    payload = canonical_json({"名称": "调解", "b": [1, 2], "a": None})
    header = {"chain_key": "case:7", "seq": 3, "case_id": 7, "key_id": "k1", "action": "x",
              "occurred_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=8))),
              "actor_type": "user", "actor_id": "5", "actor_role": None,
              "actor_department_id": "12", "object_type": "task", "object_id": "任务",
              "not_hashed": "left out"}
    sorted_text = canonical_json({**{k: header.get(k) for k in HEADER_FIELDS}, "payload": payload})
    assert event_body(header, payload) == sorted_text
    assert '"occurred_at":"2026-01-01T19:04:05.000006Z"' in sorted_text
    key = b"k" * 32
    assert chain_hash(key, "0" * 64, event_body(header, payload)) == \
        chain_hash(key, "0" * 64, sorted_text)


def test_a_header_missing_fields_hashes_them_as_null():
    body = event_body({"chain_key": "system", "seq": 1,
                       "occurred_at": datetime(2026, 1, 1, tzinfo=UTC)}, "{}")
    assert body == canonical_json({**dict.fromkeys(HEADER_FIELDS), "chain_key": "system",
                                   "seq": 1, "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
                                   "payload": "{}"})
