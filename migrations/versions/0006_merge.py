"""Merge the two revisions written in parallel after 0004 into one head.

Revision ID: 0006_merge
Revises: 0005_checkpoint_append_only, 0005_sla_failures
"""

revision = "0006_merge"
down_revision = ("0005_checkpoint_append_only", "0005_sla_failures")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
