"""The full run's inner loop, kept lean: a million cases is some forty million events.

Each event's body is encoded by orjson from the row's values (selected in canonical key order, so
the dict of them encodes to the text ``canonical_json`` gives for the body) and its HMAC-SHA256 is
finished from SHA-256 states that already absorbed the key's pads, instead of keying HMAC anew
for every event.

The loop only accepts: a chain passes when its sequence and links are whole, every event's HMAC
over that text equals the stored hash and the head row is its last event. Every other chain —
really broken, or holding a value the fast encoder writes differently from ``canonical_json`` or
cannot write — is handed back as a suspect, for the reference code (``verify_chain``) to verify
again and name the break. A report never rests on the fast encoder alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.audit_chain import BODY_KEYS, GENESIS, ChainBreak
from workflows.audit.case_opening import CASE_OPENED, CASE_PRELUDE

# positions in a row: the hashed body's values in BODY_KEYS order, then prev_hash and hash
_CHAIN, _SEQ, _ACTION, _KEY = (BODY_KEYS.index(k) for k in ("chain_key", "seq", "action", "key_id"))
_PREV, _HASH = len(BODY_KEYS), len(BODY_KEYS) + 1
_GENESIS_BYTES = bytes.fromhex(GENESIS)
_ORIGIN = (0, GENESIS)      # a chain's start when nothing of it was verified before
_encode = orjson.dumps      # the fast encoder (a module name, so a test can make it differ)


@dataclass
class ChainFacts:
    """What the coverage check needs from a case chain, noted while streaming it."""

    first_seq: int
    opened_seq: int | None = None
    first_other_seq: int | None = None


@dataclass
class PartResult:
    """One worker's share of a full run."""

    chains: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    facts: dict[str, ChainFacts] = field(default_factory=dict)
    positions: list[tuple[str, int, str]] = field(default_factory=list)   # verified (chain, seq, hash)


def hmac_pads(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the key's inner and outer HMAC pads (RFC 2104): a copy of each
    finishes an HMAC for the price of the message's blocks."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)),
            hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def verify_stream(batches: Iterable[Sequence[Sequence[Any]]], keys: Mapping[str, bytes],
                  heads: dict[str, tuple[int, str]], result: PartResult,
                  suspects: list[tuple[str, tuple[int, str]]],
                  starts: Mapping[str, tuple[int, str]] | None = None) -> None:
    """Rows ordered by (chain, seq), in batches. A chain that passes goes into ``result``; any
    other goes into ``suspects`` with its head. Either way its head leaves ``heads``, so what is
    left there are heads without any event.

    ``starts`` (the incremental run): a chain's verified position (seq, hash); its rows then
    begin with the event at that position, which must still carry that hash, and only the
    events after it are hashed (and counted)."""
    pads = {key_id: hmac_pads(key) for key_id, key in keys.items()}.get
    dumps, names = _encode, BODY_KEYS
    chain: str | None = None
    ok = noting = False
    base, expected, prev, prev_bytes = 0, 1, GENESIS, _GENESIS_BYTES
    facts: ChainFacts | None = None
    for batch in batches:
        for row in batch:
            if row[_CHAIN] != chain:
                if chain is not None:
                    _close(chain, ok, expected - 1, prev, facts, heads, result, suspects, base)
                chain, ok = row[_CHAIN], True
                base, prev = starts.get(chain, _ORIGIN) if starts else _ORIGIN
                expected = base + 1
                if base:    # the anchor: the event at the verified position, not hashed again
                    ok, prev_bytes = _anchor(row, base, prev)
                    facts, noting = None, False
                    continue
                prev_bytes = _GENESIS_BYTES
                facts = ChainFacts(1) if chain.startswith("case:") else None
                noting = facts is not None
            elif not ok:
                continue
            seq, pad = row[_SEQ], pads(row[_KEY])
            if seq != expected or row[_PREV] != prev or pad is None:
                ok = False
                continue
            try:
                body = dumps(dict(zip(names, row)))   # BODY_KEYS: the row's first values
            except TypeError:   # orjson's JSONEncodeError: an integer past 64 bits, a lone surrogate
                ok = False
                continue
            inner = pad[0].copy()
            inner.update(prev_bytes + body)
            outer = pad[1].copy()
            outer.update(inner.digest())
            prev_bytes, prev = outer.digest(), row[_HASH]
            # stored data, no secret to time: a plain comparison will do
            if prev_bytes.hex() != prev:
                ok = False
                continue
            expected = seq + 1
            if noting:
                noting = _note(facts, seq, row[_ACTION])  # type: ignore[arg-type]
    if chain is not None:
        _close(chain, ok, expected - 1, prev, facts, heads, result, suspects, base)


def _anchor(row: Sequence[Any], seq: int, digest: str) -> tuple[bool, bytes]:
    """Whether ``row`` is still the event verified at (seq, digest), and the digest's bytes."""
    try:
        return row[_SEQ] == seq and row[_HASH] == digest, bytes.fromhex(digest)
    except ValueError:
        return False, b""


def _note(facts: ChainFacts, seq: int, action: str) -> bool:
    """Note the registration's place; False once nothing is left to note."""
    if action == CASE_OPENED and facts.opened_seq is None:
        facts.opened_seq = seq
    if action not in CASE_PRELUDE and facts.first_other_seq is None:
        facts.first_other_seq = seq
    return facts.opened_seq is None or facts.first_other_seq is None


def _close(chain: str, ok: bool, last: int, prev: str, facts: ChainFacts | None,
           heads: dict[str, tuple[int, str]], result: PartResult,
           suspects: list[tuple[str, tuple[int, str]]], base: int) -> None:
    head = heads.pop(chain, None)
    if not ok or head is None or head[0] != last or head[1] != prev:
        suspects.append((chain, head or _ORIGIN))
        return
    result.chains += 1
    result.events += last - base
    result.positions.append((chain, last, prev))
    if facts is not None:
        result.facts[chain] = facts
