"""Merge the three branches written in parallel (web, scheduler, processes) into one head.

Revision ID: 0004_merge
Revises: 0003_processes, 0003_scheduler, 0003_web
"""

revision = "0004_merge"
down_revision = ("0003_processes", "0003_scheduler", "0003_web")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
