"""Engine tables: process versions, workflow instances, audit chain (append-only), outbox.

Revision ID: 0001_engine
"""

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0001_engine"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]


def upgrade() -> None:
    op.create_table(
        "process_version",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("bundle_sha256", sa.String(64), nullable=False),
        sa.Column("source_files", JSONType, nullable=False),
        sa.Column("engine_files", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deployed_by", sa.String(100)),
        sa.Column("deployed_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("library_version", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_process_version"),
        sa.UniqueConstraint("process_id", "version", name="uq_process_version_process_id"),
        sa.UniqueConstraint("process_id", "bundle_sha256", name="uq_process_version_sha"),
    )
    op.create_index("ix_process_version_process_id", "process_version", ["process_id"])
    op.create_table(
        "workflow_instance",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("process_version_id", BigId, sa.ForeignKey(
            "process_version.id", name="fk_workflow_instance_process_version_id_process_version"),
            nullable=False),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("serializer_version", sa.String(10), nullable=False),
        sa.Column("library_version", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("timer_attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("state_digest", sa.String(64)),
        sa.Column("max_depth", sa.Integer, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_instance"),
    )
    op.create_index("ix_workflow_instance_process_version_id", "workflow_instance",
                    ["process_version_id"])
    op.create_index("ix_workflow_instance_due", "workflow_instance", ["due_at"],
                    postgresql_where=sa.text("due_at IS NOT NULL"),
                    sqlite_where=sa.text("due_at IS NOT NULL"))
    op.create_table(
        "audit_event",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("chain_key", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("case_id", sa.BigInteger),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(64)),
        sa.Column("actor_role", sa.String(32)),
        sa.Column("actor_department_id", sa.String(32)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32)),
        sa.Column("object_id", sa.String(64)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
        sa.UniqueConstraint("chain_key", "seq", name="uq_audit_event_chain_key"),
    )
    op.create_index("ix_audit_event_case_id", "audit_event", ["case_id"])
    op.create_index("ix_audit_event_action", "audit_event", ["action"])
    op.create_table(
        "audit_chain_head",
        sa.Column("chain_key", sa.String(40), nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain_key", name="pk_audit_chain_head"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("heads", JSONType, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoint"),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("case_id", sa.BigInteger),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient_type", sa.String(16), nullable=False),
        sa.Column("recipient_id", sa.String(64)),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe_key"),
    )
    op.create_index("ix_outbox_message_case_id", "outbox_message", ["case_id"])
    op.create_index("ix_outbox_message_pending", "outbox_message", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"),
                    sqlite_where=sa.text("status = 'pending'"))
    _append_only_triggers()


def _append_only_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    elif bind.dialect.name == "sqlite":
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    for table in ("outbox_message", "audit_checkpoint", "audit_chain_head", "audit_event",
                  "workflow_instance", "process_version"):
        op.drop_table(table)
