"""De-duplication by place: a report of the same category at the same building.

A report located at a building (a standard address) whose category has a location window
(``Settings.location_duplicate_window``, 7 days by default, off for matters between particular
households) is a duplicate of the open case of that category at that building received within
the window before or after it; the latest such case is the master. A grid holds some 500
households, so a report located only at a grid is never linked by place. Emergencies and
threats are never linked by place: they need their own case. The person rule
(``duplicates.find_match``) is asked first and stays as it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflows.models import Case, CaseStatus, Place, PlaceLevel
from workflows.runtime.unit_of_work import UnitOfWork


def location_master(uow: UnitOfWork, place_id: int | None, category: str,
                    received_at: datetime, *, urgent: bool = False) -> Case | None:
    """The open case this report at ``place_id`` duplicates, or None."""
    window = uow.services.settings.location_duplicate_window(category)
    if place_id is None or window is None or urgent:
        return None
    # locked: two reports at one building at once do not both open a case
    level = uow.session.scalar(select(Place.level).where(Place.id == place_id).with_for_update())
    if level != PlaceLevel.BUILDING:
        return None
    return uow.session.scalars(
        select(Case).where(Case.place_id == place_id, Case.category == category,
                           Case.status != CaseStatus.CLOSED, Case.duplicate_of_id.is_(None),
                           Case.opened_at >= received_at - window,
                           Case.opened_at <= received_at + window)
        .order_by(Case.opened_at.desc(), Case.id.desc()).limit(1)).first()
