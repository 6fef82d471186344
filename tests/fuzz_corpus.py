"""The fuzz suite's hostile values (tests/fixtures/fuzz/corpus.json) in the forms each channel
sends them: URL bytes, a JSON field value or a whole JSON body, a command-line argument."""

from __future__ import annotations

import functools
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

CORPUS = Path(__file__).parent / "fixtures" / "fuzz" / "corpus.json"
SEED = int(os.environ.get("JIEFEN_FUZZ_SEED", "20250303"))
# the whole corpus everywhere with JIEFEN_FUZZ_ALL=1 (minutes: for a deep run, not for CI)
EVERYTHING = bool(os.environ.get("JIEFEN_FUZZ_ALL"))
ALWAYS = ("nul", "int32_overflow")  # sent to every route, whatever the sample
TEXT = object()  # a JSON field carries the text itself


@dataclass(frozen=True)
class Hostile:
    """One hostile value: ``text`` for strings and command-line arguments (invalid bytes as the
    surrogates Python's argv holds), ``raw`` as URL/form bytes, ``json_value`` for a
    JSON field, ``json_body`` (when set) as a whole JSON body instead."""

    name: str
    text: str
    raw: bytes
    json_value: Any
    json_body: bytes | None
    costly: bool

    @property
    def quoted(self) -> str:
        """Percent-encoded for a URL path segment, a query string or a form body."""
        return quote(self.raw, safe="")


def _hostile(entry: dict) -> Hostile:
    raw_hex = entry.get("bytes_hex")
    if raw_hex:
        raw = bytes.fromhex(raw_hex)
        text = raw.decode("utf-8", "surrogateescape")
    else:
        text = entry["repeat"] * entry["times"] if "repeat" in entry else entry["text"]
        raw = text.encode("utf-8", "surrogatepass")
    body = entry.get("json_text")
    if "nest" in entry:
        body = "[" * entry["nest"] + "]" * entry["nest"]
    if raw_hex:
        body_bytes: bytes | None = b'{"summary": "' + raw + b'", "x": "' + raw + b'"}'
    else:
        body_bytes = body.encode() if body is not None else None
    return Hostile(entry["name"], text, raw, entry.get("json", TEXT), body_bytes,
                   bool(entry.get("costly")))


@functools.cache
def corpus() -> list[Hostile]:
    return [_hostile(e) for e in json.loads(CORPUS.read_text(encoding="utf-8"))["values"]]


def sample(values: list[Hostile], rng: random.Random, count: int) -> list[Hostile]:
    """The ALWAYS values plus ``count`` others drawn without replacement (no costly ones)."""
    always = [v for v in values if v.name in ALWAYS]
    others = [v for v in values if v.name not in ALWAYS and not v.costly]
    return always + rng.sample(others, len(others) if EVERYTHING else min(count, len(others)))
