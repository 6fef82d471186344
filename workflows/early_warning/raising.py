"""Raising a warning once per rule, subject and window; telling the supervisors of its place.

A rule hands over what it found: the subject (``subject_key``, never clear personal data), the
window's start, the place, the category, the cases and what it measured. A warning of that
rule, subject and window already stored is brought up to date (count, cases, measures) and
nothing else happens; a new one is audited ``warning_raised`` and notified once to the
supervisors of the place's unit (the unit of kind ``Settings.hotspot_notify_kind`` nearest up the
place tree; the district's unit of that kind for a warning without a place).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.district.places import location_of
from workflows.district.units import UnitResolver
from workflows.models import (
    CATEGORY_LABELS,
    WARNING_KIND_LABELS,
    Case,
    EarlyWarning,
    Place,
    Role,
    RoleCode,
    User,
    UserRole,
    WarningState,
)
from workflows.runtime.unit_of_work import UnitOfWork

TEMPLATE = "early_warning"


def raise_once(uow: UnitOfWork, actor: Actor, *, kind: str, subject_key: str,
               window_start: datetime, place: Place | None, category: str | None,
               case_ids: list[int], details: dict[str, Any], what: str, known: bool = True,
               cache: dict | None = None) -> EarlyWarning | None:
    """The new warning (audited and notified), or None when the window's warning exists (it is
    updated). ``what`` is the notice's sentence (Chinese, no personal data). ``known=False``:
    the caller has checked that no such warning exists; ``cache`` keeps the recipients of each
    place for one run."""
    existing = uow.session.scalars(select(EarlyWarning).where(
        EarlyWarning.kind == kind, EarlyWarning.subject_key == subject_key,
        EarlyWarning.window_start == window_start)).first() if known else None
    ids = sorted(set(case_ids))
    if existing is not None:
        existing.count, existing.case_ids = len(ids), ids
        existing.details = {**(existing.details or {}), **details}
        return None
    warning = EarlyWarning(kind=kind, subject_key=subject_key, window_start=window_start,
                           place_id=place.id if place else None, category=category,
                           count=len(ids), case_ids=ids, details=details,
                           raised_at=uow.clock.now(), state=WarningState.OPEN)
    uow.session.add(warning)
    uow.session.flush()
    codes = case_numbers(uow.session, ids)
    uow.audit.record(AuditAction.WARNING_RAISED, actor, object_type="early_warning",
                     object_id=warning.id, kind=kind, place_code=place.code if place else None,
                     category=category, count=len(ids), cases=codes,
                     window_start=window_start.isoformat(), details=details)
    params = {"rule": WARNING_KIND_LABELS.get(kind, kind), "what": what,
              "cases": "、".join(codes)}
    notify(uow, warning, place, TEMPLATE, params, cache)
    return warning


def notify(uow: UnitOfWork, warning: EarlyWarning, place: Place | None, template: str,
           params: dict[str, Any], cache: dict | None = None) -> None:
    cache = {} if cache is None else cache
    key = ("recipients", place.id if place else None)
    if key not in cache:
        cache[key] = recipients(uow, place)
    for kind, recipient in cache[key]:
        uow.outbox.add(channel="file", recipient_type=kind, recipient_id=recipient,
                       template=template, params=params,
                       dedupe_key=f"warning:{warning.id}:{template}:{kind}:{recipient}")


def recipients(uow: UnitOfWork, place: Place | None) -> list[tuple[str, Any]]:
    """The supervisors of the unit of the configured kind nearest up from the place; the unit
    itself when it has none; every supervisor when no such unit exists."""
    kind = uow.services.settings.hotspot_notify_kind
    unit = UnitResolver(uow.session, place.path if place else None).unit_of_kind(kind)
    if unit is None:
        return [("role", str(RoleCode.SUPERVISOR))]
    users = uow.session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(User.department_id == unit.id, User.active.is_(True),
               Role.code == RoleCode.SUPERVISOR).distinct().order_by(User.id)).all()
    return [("user", uid) for uid in users] or [("department", unit.id)]


def case_numbers(session: Session, case_ids: list[int]) -> list[str]:
    """The codes of the cases, in id order."""
    if not case_ids:
        return []
    return list(session.scalars(select(Case.case_no).where(Case.id.in_(case_ids))
                                .order_by(Case.id)))


def place_words(session: Session, place: Place | None, cache: dict | None = None) -> str:
    """The place's names from the district down (全区 without a place)."""
    if place is None:
        return "全区"
    key = ("words", place.id)
    if cache is not None and key in cache:
        return cache[key]
    location = location_of(session, place.id, place.path) or {"names": [place.name]}
    words = "".join(location["names"])
    if cache is not None:
        cache[key] = words
    return words


def category_words(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "", category or "")
