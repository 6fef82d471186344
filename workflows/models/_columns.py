"""Column helpers shared by the workflows models."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer

from engine import clock

# bigint on PostgreSQL; plain INTEGER on SQLite so the primary key is the rowid and autoincrements.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Default for time columns: the clock bound by ``engine.clock.use_clock`` (tests, replay)."""
    return clock.now()


def new_uuid() -> str:
    """Random UUID as the 36-character string stored in ``party.id``."""
    return str(uuid.uuid4())
