"""The argon2id hasher of passwords and recovery codes, with the configured cost."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher

from workflows.core.settings import Settings


def hasher(settings: Settings) -> PasswordHasher:
    """argon2id with the configured cost (by default the library's RFC 9106 low-memory profile)."""
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib,
                   settings.argon2_parallelism)


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
