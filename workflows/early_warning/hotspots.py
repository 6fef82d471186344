"""Hotspot warnings: many reports of one category at one building or grid.

The rules:

* a report is a submission that opened a case or was linked to one by place (``new``, or
  ``duplicate`` linked by location); a person's repeat (a duplicate by person, a second
  complaint) is the same report again and does not count. A report's time is its received time;
* a building counts the reports located at it; a grid counts those located at it and at every
  building in it;
* N reports within M days (the hotspot rule of the rule set, workflows/early_warning/rules.py;
  3 in 30 by default, both ends of the window included) raise a warning whose window starts at the earliest of them and lasts
  M days;
* once per place, category and window: a report inside the window of a warning of its place
  and category updates that warning's count and cases (whatever its state) and raises nothing;
  a report outside every window counts the reports of the M days before it that no earlier
  warning's window holds. Only a new warning is notified and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.early_warning.raising import case_numbers, category_words, notify, place_words
from workflows.early_warning.rules import hotspot_rule
from workflows.models import (
    Case,
    EarlyWarning,
    LinkBasis,
    Place,
    PlaceLevel,
    Submission,
    SubmissionLink,
    WarningKind,
    WarningState,
    path_ids,
)
from workflows.runtime.unit_of_work import UnitOfWork

WATCHED_LEVELS = (PlaceLevel.BUILDING, PlaceLevel.GRID)
TEMPLATE = "hotspot_warning"
# the submissions that are reports of their own
COUNTED = or_(Submission.linked_as == SubmissionLink.NEW,
              and_(Submission.linked_as == SubmissionLink.DUPLICATE,
                   Submission.linked_by == LinkBasis.LOCATION))


@dataclass(frozen=True)
class Report:
    """One counted report at a place."""

    case_id: int
    received_at: datetime


def record_report(uow: UnitOfWork, actor: Actor, case: Case,
                  submission: Submission) -> list[EarlyWarning]:
    """Count a registered report at its building and grid; the warnings raised or updated."""
    if case.place_path is None or not case.category or not _counted(submission):
        return []
    rule = hotspot_rule(uow.session, uow.services.settings, case.category)
    if rule is None:
        return []
    # the place rows are locked: two reports at one place at once count one after the other,
    # so a window never gets two warnings
    places = uow.session.scalars(select(Place).where(
        Place.id.in_(path_ids(case.place_path)),
        Place.level.in_([str(level) for level in WATCHED_LEVELS]))
        .order_by(Place.id).with_for_update()).all()
    out = []
    for place in sorted(places, key=lambda row: -len(path_ids(row.path))):   # building first
        warning = _count_at(uow, actor, place, case.category, submission.received_at, rule)
        if warning is not None:
            out.append(warning)
    return out


def _counted(submission: Submission) -> bool:
    return submission.linked_as == SubmissionLink.NEW or (
        submission.linked_as == SubmissionLink.DUPLICATE
        and submission.linked_by == LinkBasis.LOCATION)


def _count_at(uow: UnitOfWork, actor: Actor, place: Place, category: str, at: datetime,
              rule: tuple[int, timedelta]) -> EarlyWarning | None:
    needed, window = rule
    earlier = list(uow.session.scalars(select(EarlyWarning).where(
        EarlyWarning.kind == WarningKind.HOTSPOT, EarlyWarning.place_id == place.id,
        EarlyWarning.category == category).order_by(EarlyWarning.window_start)))
    covering = [w for w in earlier if w.window_start <= at <= w.window_start + window]
    if covering:
        warning = covering[-1]
        others = [w for w in earlier if w is not warning]
        _fill(warning, reports(uow.session, place, category, warning.window_start,
                               warning.window_start + window, _windows(others, window)))
        return warning
    found = reports(uow.session, place, category, at - window, at, _windows(earlier, window))
    if len(found) < needed:
        return None
    warning = EarlyWarning(kind=WarningKind.HOTSPOT, place_id=place.id, category=category,
                           subject_key=f"place:{place.id}:{category}",
                           details={"reports": needed, "days": window.days},
                           window_start=found[0].received_at, raised_at=uow.clock.now(),
                           state=WarningState.OPEN)
    _fill(warning, found)
    uow.session.add(warning)
    uow.session.flush()
    _raised(uow, actor, warning, place, window)
    return warning


def _windows(warnings: list[EarlyWarning], window: timedelta) -> list[tuple[datetime, datetime]]:
    return [(w.window_start, w.window_start + window) for w in warnings]


def _fill(warning: EarlyWarning, found: list[Report]) -> None:
    warning.count = len(found)
    warning.case_ids = sorted({report.case_id for report in found})


def reports(session: Session, place: Place, category: str, start: datetime, end: datetime,
            excluded: list[tuple[datetime, datetime]] | None = None) -> list[Report]:
    """The counted reports of ``category`` at ``place`` (and below it) received in
    [start, end], earliest first, leaving out those inside an ``excluded`` window."""
    rows = session.execute(
        select(Submission.case_id, Submission.received_at)
        .join(Case, Case.id == Submission.case_id)
        .where(Case.place_path.startswith(place.path, autoescape=True),
               Case.category == category, COUNTED,
               Submission.received_at >= start, Submission.received_at <= end)
        .order_by(Submission.received_at, Submission.id))
    return [Report(case_id, received) for case_id, received in rows
            if not any(lo <= received <= hi for lo, hi in excluded or [])]


def _raised(uow: UnitOfWork, actor: Actor, warning: EarlyWarning, place: Place,
            window: timedelta) -> None:
    """Audit a new warning and tell the supervisors of the place's unit (no personal data)."""
    session = uow.session
    codes = case_numbers(session, warning.case_ids)
    uow.audit.record(AuditAction.WARNING_RAISED, actor, object_type="early_warning",
                     object_id=warning.id, kind=warning.kind, place_code=place.code,
                     category=warning.category, count=warning.count, cases=codes,
                     window_start=warning.window_start.isoformat())
    params = {"place": place_words(session, place), "days": window.days,
              "category": category_words(warning.category),
              "count": warning.count, "cases": "、".join(codes)}
    notify(uow, warning, place, TEMPLATE, params)
