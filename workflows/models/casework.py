"""Work around a case: open tasks, SLA clocks, notes, calls, documents, submissions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType, utcnow


class SlaKind(StrEnum):
    """Supervision clocks of a case."""

    FIRST_CONTACT = "first_contact"
    RESPONSE = "response"
    RESOLUTION = "resolution"
    FEEDBACK = "feedback"


class CallTaskStatus(StrEnum):
    """Life cycle of a phone-call work item."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CallOutcome(StrEnum):
    """What a phone-call work item ended with (recorded by whoever called)."""

    REACHED = "reached"            # the citizen was reached and told
    NOT_REACHED = "not_reached"    # no answer, wrong number, refused to talk


class SubmissionLink(StrEnum):
    """How an intake submission was linked to a case (the matching decision)."""

    DUPLICATE = "duplicate"
    NEW = "new"
    SECOND_COMPLAINT = "second_complaint"


class LinkBasis(StrEnum):
    """What made a duplicate a duplicate (``Submission.linked_by``)."""

    PERSON = "person"        # the same applicant
    LOCATION = "location"    # the same building


class OpenTask(Base):
    """Projection of one READY manual task, rebuilt on every save of its instance."""

    __tablename__ = "open_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id", name="uq_open_task_instance_id_task_id"),
        # the inbox's default order (due first, undated last): a page walks the index and stops
        Index("ix_open_task_role_due_at_id", "role", "due_at", "id"),
        # the inbox's parts, each in that order (workflows/cases/inbox_keyset.py): a unit's
        # unassigned tasks of a role, the tasks of no unit, the tasks assigned to a user, and
        # the (few) tasks without a deadline, which sort last
        Index("ix_open_task_group_due", "role", "department_id", "due_at", "id",
              postgresql_where=text("assignee_id IS NULL"),
              sqlite_where=text("assignee_id IS NULL")),
        Index("ix_open_task_unitless_due", "role", "due_at", "id",
              postgresql_where=text("department_id IS NULL AND assignee_id IS NULL"),
              sqlite_where=text("department_id IS NULL AND assignee_id IS NULL")),
        Index("ix_open_task_assignee_due", "assignee_id", "due_at", "id"),
        Index("ix_open_task_undated", "id", postgresql_where=text("due_at IS NULL"),
              sqlite_where=text("due_at IS NULL")),
        # the case list's part "a task of mine" (workflows/access/policy.scope_parts): a
        # BitmapOr of assignee, claimed_by, the few tasks drawn for named users and the role
        Index("ix_open_task_claimed_by", "claimed_by"),
        Index("ix_open_task_candidate_users", "case_id",
              postgresql_where=text("candidate_users IS NOT NULL"),
              sqlite_where=text("candidate_users IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    instance_id: Mapped[int] = mapped_column(IdType, ForeignKey("workflow_instance.id"))
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))  # SpiffWorkflow task UUID
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("department.id"), index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id"), index=True
    )
    claimed_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # the users a task was drawn for (camunda:candidateUsers) as ",12,15,": one LIKE finds a user
    candidate_users: Mapped[str | None] = mapped_column(String(500))
    work_order_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("work_order.id"))
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlaClock(Base):
    """A supervision clock, separate from BPMN timers; swept by ``next_check_at``."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", name="uq_sla_clock_case_id_kind"),
        Index(
            "ix_sla_clock_next_check_at",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
        Index("ix_sla_clock_breached_at", "breached_at"),
        Index("ix_sla_clock_kind_started_at", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    kind: Mapped[str] = mapped_column(String(32))
    policy: Mapped[str] = mapped_column(String(64))  # e.g. working_days(2), PT24H
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    pause_approved_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseNote(Base):
    """A free-text note on a case, encrypted because it may name people."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    body_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallTask(Base):
    """A phone-call work item (receipt, reply or return visit for citizens who prefer calls)."""

    __tablename__ = "call_task"
    __table_args__ = (Index("ix_call_task_department_id_status", "department_id", "status"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    party_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("party.id"))
    department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"))
    assignee_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(64))  # template key, e.g. revisit, reply
    status: Mapped[str] = mapped_column(String(16), default=CallTaskStatus.OPEN)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))  # e.g. reached, no_answer
    note_enc: Mapped[str | None] = mapped_column(Text)
    # a rights reminder names its legal window: the T-id, the typed start date and the last day
    window_id: Mapped[str | None] = mapped_column(String(8))
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))


class CaseDocument(Base):
    """A generated document (receipt, notice); personal data only masked or in ``body_enc``."""

    __tablename__ = "case_document"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    body_enc: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    """An intake submission and how it was linked to a case (duplicate, new, second complaint)."""

    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_channel_channel_ref", "channel", "channel_ref"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_ref: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    party_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("party.id"))
    summary: Mapped[str] = mapped_column(String(200), default="")
    linked_as: Mapped[str] = mapped_column(String(16))
    # what made a duplicate a duplicate: "person" (same party) or "location" (same place)
    linked_by: Mapped[str | None] = mapped_column(String(16))


class CaseParticipant(Base):
    """A user who completed a step of a case: they keep read access to it (masked as their
    role requires), so a mediator can look at the agreement they just wrote after the case
    has moved on to another unit."""

    __tablename__ = "case_participant"
    __table_args__ = (
        UniqueConstraint("user_id", "case_id", name="uq_case_participant_user_id_case_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalPath(StrEnum):
    """The statutory channels a case is followed on after screening (依法导入)."""

    PETITION = "petition"
    LAND_ARBITRATION = "land_arbitration"
    LABOUR_AWARD = "labour_award"
    ADMINISTRATIVE_REVIEW = "administrative_review"


class CaseLegalPath(Base):
    """A case routed to a statutory channel whose windows jiefen keeps watching (one per case):
    the cockpit counts cases per path; ``final_at`` marks a petition whose 复核 was answered
    (信访工作条例 Art 36: the same facts and reasons are not accepted again)."""

    __tablename__ = "case_legal_path"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), unique=True)
    path: Mapped[str] = mapped_column(String(32), index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
