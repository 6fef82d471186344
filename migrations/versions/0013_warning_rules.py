"""Early warnings under a rule set: warning_rule (the administrator's settings per rule), and on
early_warning the subject a rule watched (unique per rule, subject and window), what it measured,
and the supervisor's decision (已核实 / 误报). A warning may have no place or category now; the
state "dismissed" becomes "false_alarm". The risk-rise rule reads recent risk_changed events:
an index on audit_event (action, occurred_at).

Mirrors EarlyWarning and WarningRule in workflows/models/district.py and AuditEvent in
engine/models.py.

Revision ID: 0013_warning_rules
Revises: 0012_channels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0013_warning_rules"
down_revision = "0012_channels"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "warning_rule",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("categories", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_warning_rule")),
    )
    with op.batch_alter_table("early_warning") as batch:
        batch.alter_column("place_id", existing_type=ID, nullable=True)
        batch.alter_column("category", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("subject_key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("details", JSONType, nullable=True))
        batch.add_column(sa.Column("decided_by_id", ID, nullable=True))
        batch.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("decision_note", sa.String(500), nullable=True))
        batch.create_foreign_key(op.f("fk_early_warning_decided_by_id_user_account"),
                                 "user_account", ["decided_by_id"], ["id"])
    op.execute("UPDATE early_warning SET details = '{}'")
    op.execute("UPDATE early_warning SET state = 'false_alarm' WHERE state = 'dismissed'")
    # a hotspot's subject: its place and category
    op.execute("UPDATE early_warning SET subject_key = 'place:' || CAST(place_id AS VARCHAR(20))"
               " || ':' || category WHERE kind = 'hotspot'")
    with op.batch_alter_table("early_warning") as batch:
        batch.alter_column("details", existing_type=JSONType, nullable=False)
        batch.create_unique_constraint("uq_early_warning_kind_subject_key_window_start",
                                       ["kind", "subject_key", "window_start"])
    op.create_index("ix_early_warning_raised_at", "early_warning", ["raised_at"])
    op.create_index("ix_audit_event_action_occurred_at", "audit_event", ["action", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_action_occurred_at", table_name="audit_event")
    op.drop_index("ix_early_warning_raised_at", table_name="early_warning")
    op.execute("UPDATE early_warning SET state = 'dismissed' WHERE state = 'false_alarm'")
    op.execute("DELETE FROM early_warning WHERE place_id IS NULL OR category IS NULL")
    with op.batch_alter_table("early_warning") as batch:
        batch.drop_constraint("uq_early_warning_kind_subject_key_window_start", type_="unique")
        batch.drop_constraint(op.f("fk_early_warning_decided_by_id_user_account"),
                              type_="foreignkey")
        batch.drop_column("decision_note")
        batch.drop_column("decided_at")
        batch.drop_column("decided_by_id")
        batch.drop_column("details")
        batch.drop_column("subject_key")
        batch.alter_column("category", existing_type=sa.String(64), nullable=False)
        batch.alter_column("place_id", existing_type=ID, nullable=False)
    op.drop_table("warning_rule")
