"""Domain tables: people and access, cases and parties, case work, administration.

Mirrors workflows/models exactly (tests/workflows/test_models.py compares them). Constraint
and index names are spelled out so the schema does not depend on env.py's naming convention.

Revision ID: 0002_domain
Revises: 0001_engine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0002_domain"
down_revision = "0001_engine"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", ID, nullable=False)


def _ref(name: str, *, nullable: bool = True) -> sa.Column:
    """An integer reference column (foreign key constraints are declared per table)."""
    return sa.Column(name, ID, nullable=nullable)


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _text(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _bool(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _ts(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, JSONType, nullable=False)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _uq(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def _index(name: str, table: str, *columns: str, unique: bool = False, where: str | None = None):
    kw = {}
    if where is not None:
        kw = {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}
    op.create_index(op.f(name), table, list(columns), unique=unique, **kw)


def _people() -> None:
    op.create_table(
        "department",
        _id(),
        _str("code", 32),
        _str("name", 100),
        _str("tier", 16),
        _ref("parent_id"),
        _bool("active"),
        _json("responsibilities"),
        _fk("department", "parent_id", "department"),
        _pk("department"),
        _uq("department", "code"),
    )
    op.create_table(
        "user_account",
        _id(),
        _str("username", 64),
        _str("display_name", 100),
        _str("password_hash", 255),
        _text("totp_secret_enc"),
        _ref("department_id"),
        _str("locale", 16),
        _bool("active"),
        _ts("last_login_at"),
        _ts("created_at", nullable=False),
        _fk("user_account", "department_id", "department"),
        _pk("user_account"),
        _uq("user_account", "username"),
    )
    _index("ix_user_account_department_id", "user_account", "department_id")
    op.create_table(
        "role",
        _id(),
        _str("code", 32),
        _str("name_zh", 64),
        _str("name_en", 64),
        _pk("role"),
        _uq("role", "code"),
    )
    op.create_table(
        "user_role",
        _id(),
        _ref("user_id", nullable=False),
        _ref("role_id", nullable=False),
        _ref("department_id"),
        _ref("granted_by"),
        _ts("granted_at", nullable=False),
        _fk("user_role", "user_id", "user_account"),
        _fk("user_role", "role_id", "role"),
        _fk("user_role", "department_id", "department"),
        _fk("user_role", "granted_by", "user_account"),
        _pk("user_role"),
        _uq("user_role", "user_id", "role_id", "department_id"),
    )
    _index(
        "uq_user_role_user_id_role_id_unscoped",
        "user_role",
        "user_id",
        "role_id",
        unique=True,
        where="department_id IS NULL",
    )
    op.create_table(
        "login_session",
        _id(),
        _str("id_hash", 64),
        _ref("user_id", nullable=False),
        _ts("created_at", nullable=False),
        _ts("last_seen_at", nullable=False),
        _ts("expires_at", nullable=False),
        _ts("revoked_at"),
        _str("ip", 45, nullable=True),
        _fk("login_session", "user_id", "user_account"),
        _pk("login_session"),
        _uq("login_session", "id_hash"),
    )
    _index("ix_login_session_user_id", "login_session", "user_id")
    op.create_table(
        "login_attempt",
        _id(),
        _str("username_hash", 64),
        _str("ip", 45, nullable=True),
        _ts("at", nullable=False),
        _bool("success"),
        _pk("login_attempt"),
    )
    _index("ix_login_attempt_username_hash_at", "login_attempt", "username_hash", "at")
    _index("ix_login_attempt_ip_at", "login_attempt", "ip", "at")


def _cases() -> None:
    op.create_table(
        "dispute_case",
        _id(),
        _str("case_no", 32),
        _str("channel", 32),
        _str("channel_ref", 128, nullable=True),
        _str("category", 64, nullable=True),
        _str("urgency", 16),
        _int("people_count"),
        _str("tier", 16, nullable=True),
        _str("risk_level", 16),
        _str("summary", 200),
        _text("narrative_enc"),
        _str("status", 32),
        _str("stage", 255, nullable=True),
        _ref("lead_department_id"),
        _ref("mediator_id"),
        _ref("owner_id"),
        _ref("workflow_instance_id"),
        _ref("duplicate_of_id"),
        _bool("second_complaint"),
        _int("reopened_count"),
        _ts("opened_at", nullable=False),
        _ts("closed_at"),
        _str("outcome", 32, nullable=True),
        _str("satisfaction", 32, nullable=True),
        _int("version_id"),
        _fk("dispute_case", "lead_department_id", "department"),
        _fk("dispute_case", "mediator_id", "user_account"),
        _fk("dispute_case", "owner_id", "user_account"),
        _fk("dispute_case", "workflow_instance_id", "workflow_instance"),
        _fk("dispute_case", "duplicate_of_id", "dispute_case"),
        _pk("dispute_case"),
        _uq("dispute_case", "case_no"),
        _uq("dispute_case", "workflow_instance_id"),
    )
    _index(
        "ix_dispute_case_status_lead_department_id", "dispute_case", "status", "lead_department_id"
    )
    _index("ix_dispute_case_channel_channel_ref", "dispute_case", "channel", "channel_ref")
    op.create_table(
        "party",
        sa.Column("id", sa.String(length=36), nullable=False),
        _text("name_enc", nullable=False),
        _text("id_number_enc"),
        _text("phone_enc"),
        _text("address_enc"),
        _str("id_number_bidx", 64, nullable=True),
        _str("phone_bidx", 64, nullable=True),
        _json("masked"),
        _str("contact_preference", 16),
        _json("vulnerable"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _pk("party"),
    )
    _index("ix_party_id_number_bidx", "party", "id_number_bidx")
    _index("ix_party_phone_bidx", "party", "phone_bidx")
    op.create_table(
        "case_party",
        _id(),
        _ref("case_id", nullable=False),
        _str("party_id", 36),
        _str("role", 16),
        _fk("case_party", "case_id", "dispute_case"),
        _fk("case_party", "party_id", "party"),
        _pk("case_party"),
        _uq("case_party", "case_id", "party_id", "role"),
    )
    _index("ix_case_party_party_id", "case_party", "party_id")
    op.create_table(
        "work_order",
        _id(),
        _ref("case_id", nullable=False),
        _ref("department_id", nullable=False),
        _int("round"),
        _str("role", 8),
        _str("status", 16),
        _str("task_id", 36, nullable=True),
        _ts("dispatched_at", nullable=False),
        _ts("accepted_at"),
        _ts("due_at"),
        _ts("completed_at"),
        _text("result_summary"),
        _text("return_reason"),
        _str("light", 8),
        _int("breach_count"),
        _int("version_id"),
        _fk("work_order", "case_id", "dispute_case"),
        _fk("work_order", "department_id", "department"),
        _pk("work_order"),
        _uq("work_order", "case_id", "department_id", "round"),
    )
    _index("ix_work_order_department_id_status", "work_order", "department_id", "status")


def _casework() -> None:
    op.create_table(
        "open_task",
        _id(),
        _ref("instance_id", nullable=False),
        _ref("case_id", nullable=False),
        _str("task_id", 36),
        _str("bpmn_id", 255),
        _str("name", 255),
        _str("lane", 64, nullable=True),
        _str("role", 32, nullable=True),
        _ref("department_id"),
        _ref("assignee_id"),
        _ref("claimed_by"),
        _ref("work_order_id"),
        _ts("ready_at", nullable=False),
        _ts("due_at"),
        _fk("open_task", "instance_id", "workflow_instance"),
        _fk("open_task", "case_id", "dispute_case"),
        _fk("open_task", "department_id", "department"),
        _fk("open_task", "assignee_id", "user_account"),
        _fk("open_task", "claimed_by", "user_account"),
        _fk("open_task", "work_order_id", "work_order"),
        _pk("open_task"),
        _uq("open_task", "instance_id", "task_id"),
    )
    _index("ix_open_task_case_id", "open_task", "case_id")
    _index("ix_open_task_department_id", "open_task", "department_id")
    _index("ix_open_task_assignee_id", "open_task", "assignee_id")
    op.create_table(
        "sla_clock",
        _id(),
        _ref("case_id", nullable=False),
        _str("kind", 32),
        _str("policy", 64),
        _ts("started_at", nullable=False),
        _ts("due_at", nullable=False),
        _ts("warn_at"),
        _ts("paused_at"),
        _int("paused_seconds"),
        _text("pause_reason"),
        _ref("pause_approved_by"),
        _ts("stopped_at"),
        _ts("breached_at"),
        _ts("warned_at"),
        _ts("next_check_at"),
        _fk("sla_clock", "case_id", "dispute_case"),
        _fk("sla_clock", "pause_approved_by", "user_account"),
        _pk("sla_clock"),
        _uq("sla_clock", "case_id", "kind"),
    )
    _index(
        "ix_sla_clock_next_check_at",
        "sla_clock",
        "next_check_at",
        where="next_check_at IS NOT NULL",
    )
    op.create_table(
        "case_note",
        _id(),
        _ref("case_id", nullable=False),
        _ref("author_id"),
        _text("body_enc", nullable=False),
        _ts("created_at", nullable=False),
        _fk("case_note", "case_id", "dispute_case"),
        _fk("case_note", "author_id", "user_account"),
        _pk("case_note"),
    )
    _index("ix_case_note_case_id", "case_note", "case_id")
    op.create_table(
        "call_task",
        _id(),
        _ref("case_id", nullable=False),
        _str("party_id", 36, nullable=True),
        _ref("department_id"),
        _ref("assignee_id"),
        _str("reason", 64),
        _str("status", 16),
        _ts("due_at"),
        _str("outcome", 32, nullable=True),
        _text("note_enc"),
        _ts("created_at", nullable=False),
        _ts("completed_at"),
        _ref("completed_by"),
        _fk("call_task", "case_id", "dispute_case"),
        _fk("call_task", "party_id", "party"),
        _fk("call_task", "department_id", "department"),
        _fk("call_task", "assignee_id", "user_account"),
        _fk("call_task", "completed_by", "user_account"),
        _pk("call_task"),
    )
    _index("ix_call_task_case_id", "call_task", "case_id")
    _index("ix_call_task_department_id_status", "call_task", "department_id", "status")
    op.create_table(
        "case_document",
        _id(),
        _ref("case_id", nullable=False),
        _str("kind", 32),
        _str("title", 200),
        _text("body", nullable=False),
        _text("body_enc"),
        _str("task_id", 36, nullable=True),
        _ref("created_by"),
        _ts("created_at", nullable=False),
        _fk("case_document", "case_id", "dispute_case"),
        _fk("case_document", "created_by", "user_account"),
        _pk("case_document"),
    )
    _index("ix_case_document_case_id", "case_document", "case_id")
    op.create_table(
        "submission",
        _id(),
        _ref("case_id", nullable=False),
        _str("channel", 32),
        _str("channel_ref", 128, nullable=True),
        _ts("received_at", nullable=False),
        _str("party_id", 36, nullable=True),
        _str("summary", 200),
        _str("linked_as", 16),
        _fk("submission", "case_id", "dispute_case"),
        _fk("submission", "party_id", "party"),
        _pk("submission"),
    )
    _index("ix_submission_case_id", "submission", "case_id")
    _index("ix_submission_channel_channel_ref", "submission", "channel", "channel_ref")


def _admin() -> None:
    op.create_table(
        "calendar_override",
        _id(),
        sa.Column("day", sa.Date(), nullable=False),
        _str("kind", 16),
        _str("reason", 200),
        _ref("created_by"),
        _ts("created_at", nullable=False),
        _ts("superseded_at"),
        _fk("calendar_override", "created_by", "user_account"),
        _pk("calendar_override"),
    )
    _index("ix_calendar_override_day", "calendar_override", "day")
    op.create_table(
        "api_token",
        _id(),
        _str("channel", 32),
        _str("name", 100),
        _str("prefix", 8),
        _str("token_hash", 255),
        _json("scopes"),
        _ref("created_by"),
        _ts("created_at", nullable=False),
        _ts("expires_at"),
        _ts("revoked_at"),
        _ts("last_used_at"),
        _fk("api_token", "created_by", "user_account"),
        _pk("api_token"),
    )
    _index("ix_api_token_prefix", "api_token", "prefix")
    op.create_table(
        "idempotency_key",
        _id(),
        _ref("api_token_id", nullable=False),
        _str("key", 128),
        _str("request_sha256", 64),
        _int("response_status", nullable=True),
        _text("response_body"),
        _ref("case_id"),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
        _fk("idempotency_key", "api_token_id", "api_token"),
        _fk("idempotency_key", "case_id", "dispute_case"),
        _pk("idempotency_key"),
        _uq("idempotency_key", "api_token_id", "key"),
    )
    _index("ix_idempotency_key_expires_at", "idempotency_key", "expires_at")


# Creation order; downgrade drops in reverse (dropping a table drops its indexes).
_TABLES = (
    "department",
    "user_account",
    "role",
    "user_role",
    "login_session",
    "login_attempt",
    "dispute_case",
    "party",
    "case_party",
    "work_order",
    "open_task",
    "sla_clock",
    "case_note",
    "call_task",
    "case_document",
    "submission",
    "calendar_override",
    "api_token",
    "idempotency_key",
)


def upgrade() -> None:
    _people()
    _cases()
    _casework()
    _admin()


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
