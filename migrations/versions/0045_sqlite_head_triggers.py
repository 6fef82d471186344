"""SQLite: the audit chains' heads and the case event log's head move by triggers on the rows
appended under them, so a step appends each in one INSERT instead of an UPDATE and an INSERT
(PostgreSQL does the same in one statement with a writable CTE and gets no trigger).

An audit event moves its chain's head only from the event before it (same chain, seq one less,
its prev_hash the head's hash), and a case event moves the log's head only forward, so the
paths that still move a head themselves (a chain's first events, a locked head, a bulk append)
leave the triggers nothing to do. The models create the same triggers for a database made from
them (engine/models.py, workflows/models/channels.py); a revision that rebuilds ``audit_event``
or ``case_event`` on SQLite must create its trigger again.

Revision ID: 0045_sqlite_head_triggers
Revises: 0044_lz4_state_compression
"""

from __future__ import annotations

from alembic import op

revision = "0045_sqlite_head_triggers"
down_revision = "0044_lz4_state_compression"
branch_labels = None
depends_on = None

TRIGGERS = {
    "audit_event_moves_head": (
        "AFTER INSERT ON audit_event BEGIN UPDATE audit_chain_head "
        "SET last_seq = NEW.seq, last_hash = NEW.hash WHERE chain_key = NEW.chain_key "
        "AND last_seq = NEW.seq - 1 AND last_hash = NEW.prev_hash; END"),
    "case_event_moves_head": (
        "AFTER INSERT ON case_event BEGIN UPDATE case_event_head "
        "SET last_position = NEW.position WHERE id = 1 AND last_position < NEW.position; END"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
