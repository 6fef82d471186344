"""Refused API requests (missing, unknown or revoked token) are audited without letting an
anonymous caller write an audit row per request (that would let anyone flood the audit trail).

Per client IP and token prefix, the first refusal of each one-minute window writes the
``access_denied`` event (with how many refusals the previous window folded in); the others of
the window are only counted. Past ``api_refusals_per_minute`` refusals an IP gets 429 until the
window ends. The counters are per process (per worker), which bounds the writes per worker; a
flood across workers is still at most one row per IP, prefix, minute and worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

WINDOW_S = 60.0
MAX_KEYS = 10_000        # memory bound: old windows are dropped beyond this many keys


@dataclass
class Decision:
    """What to do with one refusal."""

    audit: bool                 # write the access_denied event now
    folded: int = 0             # refusals of the previous window not written one by one
    throttled: bool = False     # answer 429 (too many refusals from this IP)


@dataclass
class _Window:
    start: float
    count: int = 0
    previous: int = 0


@dataclass
class RefusalLog:
    """Counts refusals per (ip, prefix) and per ip in fixed one-minute windows."""

    per_minute: int
    clock: object = time.monotonic
    _keys: dict = field(default_factory=dict)
    _ips: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, ip: str | None, prefix: str | None) -> Decision:
        """Count one refusal and say whether to audit it and whether to throttle."""
        now = self.clock()
        with self._lock:
            if len(self._keys) > MAX_KEYS or len(self._ips) > MAX_KEYS:
                self._drop_old(now)
            by_ip = self._tick(self._ips, ip, now)
            if by_ip.count > self.per_minute:
                return Decision(audit=by_ip.count == self.per_minute + 1, throttled=True)
            window = self._tick(self._keys, (ip, prefix), now)
            return Decision(audit=window.count == 1, folded=window.previous)

    @staticmethod
    def _tick(table: dict, key: object, now: float) -> _Window:
        window = table.get(key)
        if window is None or now - window.start >= WINDOW_S:
            folded = max(window.count - 1, 0) if window is not None else 0
            window = table[key] = _Window(now, previous=folded)
        window.count += 1
        return window

    def _drop_old(self, now: float) -> None:
        for table in (self._keys, self._ips):
            for key in [k for k, w in table.items() if now - w.start >= WINDOW_S]:
                del table[key]
