"""Engine tables: process versions, workflow instances, the audit chain and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class ProcessVersion(Base):
    """One deployed BPMN/DMN bundle; immutable once stored."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),
                      UniqueConstraint("process_id", "bundle_sha256", name="uq_process_version_sha"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    source_files: Mapped[dict] = mapped_column(JSONType)
    engine_files: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="active")
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    library_version: Mapped[str] = mapped_column(String(20))


class InstanceRow(Base):
    """Serialized state of one case's workflow (without the spec), with its due time."""

    __tablename__ = "workflow_instance"
    __table_args__ = (Index("ix_workflow_instance_due", "due_at",
                            postgresql_where=text("due_at IS NOT NULL"),
                            sqlite_where=text("due_at IS NOT NULL")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(10))
    library_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="running")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timer_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    state_digest: Mapped[str | None] = mapped_column(String(64))
    max_depth: Mapped[int] = mapped_column(Integer, default=0)
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version_id}


TASK_COMPLETED = "action = 'task_completed' AND object_type = 'task'"


class AuditEvent(Base):
    """Append-only; one HMAC chain per case plus the 'system' chain."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain_key", "seq"),
                      # the warning rules read recent events of one action (risk_changed)
                      Index("ix_audit_event_action_occurred_at", "action", "occurred_at"),
                      # an API completion of a task no longer open finds where it went
                      Index("ix_audit_event_task_completed", "object_id",
                            postgresql_where=text(TASK_COMPLETED),
                            sqlite_where=text(TASK_COMPLETED)))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chain_key: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    actor_department_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))


class AuditChainHead(Base):
    """Append point of a chain; locked by the appending transaction."""

    __tablename__ = "audit_chain_head"

    chain_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


# SQLite: an event appended right after its chain's head moves the head (one INSERT per append
# instead of an UPDATE and an INSERT); the trigger of migration 0045, for a database made from
# the models (tests), the migration keeping its own copy as migrations do
AUDIT_HEAD_TRIGGER = (
    "CREATE TRIGGER audit_event_moves_head AFTER INSERT ON audit_event BEGIN "
    "UPDATE audit_chain_head SET last_seq = NEW.seq, last_hash = NEW.hash "
    "WHERE chain_key = NEW.chain_key AND last_seq = NEW.seq - 1 AND last_hash = NEW.prev_hash; END")


@event.listens_for(Base.metadata, "after_create")
def _audit_head_trigger(_metadata: Any, connection: Connection, tables: Any = (), **_kw: Any) -> None:
    names = {table.name for table in tables}
    if connection.dialect.name == "sqlite" and {"audit_event", "audit_chain_head"} <= names:
        connection.exec_driver_sql(AUDIT_HEAD_TRIGGER)


class AuditChainVerified(Base):
    """Where the last verification of a chain reached, signed, so the next incremental run
    re-hashes only what was appended after it."""

    __tablename__ = "audit_chain_verified"

    chain_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mac: Mapped[str] = mapped_column(String(100))    # "<key id>:<HMAC of chain, seq, hash>"


class AuditCheckpoint(Base):
    """Exported chain heads (so deleting the newest events of a chain becomes visible)."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heads: Mapped[dict] = mapped_column(JSONType)
    mac: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A notification written with the state change and delivered later."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_pending", "next_attempt_at",
                            postgresql_where=text("status = 'pending'"),
                            sqlite_where=text("status = 'pending'")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient_type: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str | None] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSONType)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
