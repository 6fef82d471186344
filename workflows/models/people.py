"""People and access: departments, users, roles, login sessions and attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow


class Tier(StrEnum):
    """Organisation tier of a department or a case."""

    DISTRICT = "district"
    STREET = "street"  # township / street (乡镇(街道))
    COMMUNITY = "community"  # community / village (社区(村))


class RoleCode(StrEnum):
    """The login roles."""

    INTAKE_CLERK = "intake_clerk"
    TRIAGE_OFFICER = "triage_officer"
    MEDIATOR = "mediator"
    DEPT_HANDLER = "dept_handler"
    SUPERVISOR = "supervisor"
    LEADER = "leader"
    PROCESS_OWNER = "process_owner"
    AUDITOR = "auditor"
    ADMIN = "admin"
    GRID_WORKER = "grid_worker"       # 网格员: reports from their grid on the phone
    EXPERT = "expert"                 # 专家: the cases they are invited to, their own opinion


class Department(Base):
    """A unit: one concrete organisation at a place that receives work orders.

    ``kind`` is the code the routing table speaks in (RS, JDTJ, SQTJ...); a case's place resolves
    each kind to the unit whose place is the nearest ancestor of the case's place. A unit without
    a place serves the whole deployment (the district level)."""

    __tablename__ = "department"
    __table_args__ = (Index("ix_department_kind_place_id", "kind", "place_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    place_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("place.id"))
    parent_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 部门职责边界清单: category codes this department is responsible for (editable data, K-10).
    responsibilities: Mapped[list[str]] = mapped_column(JSONType, default=list)


@event.listens_for(Department, "init")
def _kind_defaults_to_code(_target: Department, _args: tuple, kwargs: dict) -> None:
    # a unit created without a kind is the district-level unit of the kind its code names
    if kwargs.get("code") is not None:
        kwargs.setdefault("kind", kwargs["code"])


class User(Base):
    """A login account; ``user`` is reserved on PostgreSQL, hence ``user_account``."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    # second factor (TOTP): the secret encrypted like personal data; enrolled once confirmed
    # with a code; the last accepted time step refuses a replayed code
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    department_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("department.id"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16), default="zh_CN")
    # standard | large | xlarge: the type size of every page for this user (older staff)
    text_size: Mapped[str] = mapped_column(String(16), default="standard",
                                           server_default="standard")
    # work mobile: encrypted like a party's phone, masked for display (never in clear)
    mobile_enc: Mapped[str | None] = mapped_column(Text)
    mobile_masked: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user",
        foreign_keys="UserRole.user_id",
        cascade="all, delete-orphan",
    )


class Role(Base):
    """One of the nine fixed roles with its display names."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))


class UserRole(Base):
    """A role granted to a user, scoped to a department (NULL scope = the user's whole tier)."""

    __tablename__ = "user_role"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "role_id", "department_id", name="uq_user_role_user_id_role_id_department_id"
        ),
        # NULLs are distinct in a unique constraint, so unscoped grants need their own index.
        Index(
            "uq_user_role_user_id_role_id_unscoped",
            "user_id",
            "role_id",
            unique=True,
            postgresql_where=text("department_id IS NULL"),
            sqlite_where=text("department_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"))
    role_id: Mapped[int] = mapped_column(IdType, ForeignKey("role.id"))
    department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"))
    granted_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])
    role: Mapped[Role] = relationship(lazy="joined")


class LoginSession(Base):
    """Server-side login session; the cookie holds the random id, the table only its sha256."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    # "full"; or a password-only session that may only give its second factor ("factor") or
    # enrol one ("enrol") -- see workflows/access/second_factor.py
    stage: Mapped[str] = mapped_column(String(16), default="full", server_default="full")


class LoginAttempt(Base):
    """One login attempt, for throttling by username and by client address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_hash_at", "username_hash", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)


class RecoveryCode(Base):
    """A one-time recovery code of a user's second factor, stored as an argon2id hash."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
