"""Which process a new case starts on: the case types table, else the shipped general dispute.

Intake asks ``entry_process``; the process catalogue asks ``entry_processes`` before it lets the
last active version of a process go (a process a case type points to must stay startable)."""

from __future__ import annotations

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.orm import Session

from engine.models import ProcessVersion
from workflows.library.contract import DEFAULT_CASE_TYPES, TOP_PROCESS
from workflows.models import CaseType

ANY_CHANNEL = ""


def entry_process(session: Session, category: str, channel: str | None) -> str:
    """The process of the case type for this category and channel (a channel's own row first),
    else the shipped default of the category (when it can start), else ``general_dispute``."""
    rows = session.execute(select(CaseType.channel, CaseType.process_id).where(
        CaseType.category == category,
        CaseType.channel.in_([channel or ANY_CHANNEL, ANY_CHANNEL]))).all()
    found: dict[str, str] = {row[0]: row[1] for row in rows}
    return found.get(channel or ANY_CHANNEL) or found.get(ANY_CHANNEL) \
        or shipped_default(session, category) or TOP_PROCESS


def shipped_default(session: Session, category: str) -> str | None:
    """The shipped case type of ``category`` (``DEFAULT_CASE_TYPES``) if its process can start."""
    process_id = DEFAULT_CASE_TYPES.get(category)
    return process_id if process_id and has_active_version(session, process_id) else None


def entry_processes(session: Session) -> set[str]:
    """Every process a new case may start on: the case types' and the default."""
    return {TOP_PROCESS, *session.scalars(select(CaseType.process_id).distinct())}


def has_active_version(session: Session, process_id: str) -> bool:
    """True when new cases can start on the process (it has an active version)."""
    return session.scalar(select(ProcessVersion.id).where(
        ProcessVersion.process_id == process_id, ProcessVersion.status == "active")
        .limit(1)) is not None


def entry_version(session: Session, category: str, channel: str | None) -> tuple[str, int] | None:
    """(process id, id of its live version) of the process ``entry_process`` picks, in one
    statement; None when it needs the longer way (the picked process has no active version: the
    shipped default gives way to ``general_dispute``, a case type's process is an error for the
    caller). Two columns, not the version row: loading that object costs more than the query."""
    row = session.execute(_LIVE_ENTRY, {
        "category": category, "channel": channel or ANY_CHANNEL, "any_channel": ANY_CHANNEL,
        "fallback": DEFAULT_CASE_TYPES.get(category) or TOP_PROCESS}).first()
    return (row[0], row[1]) if row is not None else None


def _typed(channel: str):
    return select(CaseType.process_id).where(
        CaseType.category == bindparam("category"),
        CaseType.channel == bindparam(channel)).scalar_subquery()


# built once (the values are bound per call): the case type's process for the channel, else
# for any channel, else the fallback; its newest active version
_LIVE_ENTRY = select(ProcessVersion.process_id, ProcessVersion.id).where(
    ProcessVersion.process_id == func.coalesce(_typed("channel"), _typed("any_channel"),
                                               bindparam("fallback", type_=String)),
    ProcessVersion.status == "active").order_by(ProcessVersion.version.desc()).limit(1)
