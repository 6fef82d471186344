"""Audit hash-chain maths: canonical JSON, HMAC links and verification."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

GENESIS = "0" * 64
HEADER_FIELDS = ("chain_key", "seq", "occurred_at", "actor_type", "actor_id", "actor_role",
                 "actor_department_id", "action", "object_type", "object_id", "case_id", "key_id")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    return str(value)


# one encoder for every call: json.dumps with options builds a new one each time
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            default=_default)


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the exact bytes that get hashed."""
    return _ENCODER.encode(obj)


def event_body(header: Mapping[str, Any], payload_text: str) -> str:
    """What the HMAC covers: every header column plus the stored payload text."""
    # built in sorted key order for the encoder that does not sort: the same text, no sort per event
    return _IN_ORDER.encode({k: payload_text if k == "payload" else header.get(k) for k in BODY_KEYS})


# The body's keys in canonical (sorted) order. Values already in this order encode to the same text
# without sorting again and without a mapping per row: the full verifier selects them so.
BODY_KEYS = tuple(sorted((*HEADER_FIELDS, "payload")))
_IN_ORDER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)


def event_body_in_order(values: Sequence[Any]) -> str:
    """``event_body`` of the values of BODY_KEYS, in that order (scalars, as stored)."""
    return _IN_ORDER.encode(dict(zip(BODY_KEYS, values, strict=False)))


def chain_hash(key: bytes, prev_hash: str, body: str) -> str:
    """HMAC-SHA256(key, prev_hash bytes || canonical event)."""
    return hmac.digest(key, bytes.fromhex(prev_hash) + body.encode("utf-8"), "sha256").hex()


@dataclass(frozen=True)
class ChainBreak:
    """The first place a chain fails verification."""

    chain_key: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.chain_key} seq {self.seq}: {self.reason}"


_LINK_BY_NAME = itemgetter("seq", "prev_hash", "key_id", "hash")


def _body_by_name(row: Any) -> str:
    return event_body(row, row["payload"])


def verify_chain(chain_key: str, rows: Iterable[Any],
                 key_for: Callable[[str], bytes | None],
                 head: tuple[int, str] | None = None,
                 start: tuple[int, str] = (0, GENESIS), *,
                 link: Callable[[Any], tuple[int, str, str, str]] = _LINK_BY_NAME,
                 body: Callable[[Any], str] = _body_by_name) -> tuple[int, ChainBreak | None]:
    """Verify rows ordered by seq; returns (events checked, first break or None).

    ``start`` (seq, hash): an already verified position, so only the rows after it are given.
    Rows are mappings by default; ``link`` (row -> seq, prev_hash, key_id, hash) and ``body``
    (row -> the hashed text) read other shapes, e.g. the full verifier's plain tuples."""
    expected_seq, prev, count = start[0] + 1, start[1], 0
    for row in rows:
        seq, prev_hash, key_id, digest = link(row)
        if seq != expected_seq:
            what = "missing or reordered event" if seq > expected_seq else "duplicate sequence"
            return count, ChainBreak(chain_key, expected_seq, what)
        if prev_hash != prev:
            return count, ChainBreak(chain_key, seq, "previous-hash link broken (reordered or "
                                                     "removed event)")
        key = key_for(key_id)
        if key is None:
            return count, ChainBreak(chain_key, seq, f"unknown audit key {key_id!r}")
        if not hmac.compare_digest(chain_hash(key, prev, body(row)), digest):
            return count, ChainBreak(chain_key, seq, "hash mismatch (event content altered)")
        prev, expected_seq, count = digest, expected_seq + 1, count + 1
    last = start[0] + count
    if head is not None and (head[0] != last or head[1] != (prev if last else head[1])):
        return count, ChainBreak(chain_key, last + 1 if head[0] > last else head[0],
                                 "chain head does not match the last event (events deleted?)")
    return count, None
