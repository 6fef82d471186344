"""Reading warnings: the warnings list (CLI), the warnings of a case, the place page.

A place and its warnings are seen by administrators and by the supervisors and leaders of a
unit whose place subtree holds it (a unit without a place: the whole deployment). Warnings
carry case codes and counts, never case content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from workflows.access.policy import INTERNAL_ACTORS, Denied, denials_audited
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.core.settings import Settings
from workflows.models import (
    Case,
    EarlyWarning,
    Place,
    RoleCode,
    User,
    WarningKind,
    WarningState,
    path_ids,
)
from workflows.runtime.unit_of_work import UnitOfWork

PLACE_ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER)
RECENT_DAYS = 30        # the place page's "recent cases"


@dataclass
class PlacePage:
    """What the place page shows."""

    code: str
    name: str
    level: str
    names: list[str]                  # from the root down to the place
    warnings: list[dict] = field(default_factory=list)   # open, at the place and below
    recent_cases: int = 0             # received in the last RECENT_DAYS days, place and below
    recent_days: int = RECENT_DAYS
    link_cases: bool = False          # the viewer may open case pages


def may_see_place(actor: Actor, path: str | None) -> bool:
    """Administrators, and supervisors and leaders whose unit's subtree holds the place
    (``path`` None: whether the actor may see any place at all)."""
    if actor.type in INTERNAL_ACTORS or actor.has(RoleCode.ADMIN):
        return True
    return actor.has(*PLACE_ROLES) and (actor.unit_path is None or path is None
                                        or path.startswith(actor.unit_path))


def may_decide(actor: Actor, place_path: str | None) -> bool:
    """Supervisors whose unit's subtree holds the warning's place (a warning without a place:
    supervisors of a unit without a place)."""
    if not actor.has(RoleCode.SUPERVISOR):
        return False
    if place_path is None:
        return actor.unit_path is None
    return may_see_place(actor, place_path)


@dataclass(frozen=True)
class WarningFilter:
    """What the warnings list keeps: a state, a rule, raised within local dates, a place."""

    state: str | None = None
    rule: str | None = None
    raised_from: datetime | None = None      # inclusive
    raised_before: datetime | None = None    # exclusive
    place_code: str | None = None


def list_warnings(uow: UnitOfWork, actor: Actor, *, state: str | None = None,
                  place_code: str | None = None, rule: str | None = None) -> list[dict]:
    """Every warning the actor may see, newest first (the CLI)."""
    rows, _total = warnings_page(uow, actor, WarningFilter(state=state, rule=rule,
                                                           place_code=place_code))
    for row in rows:
        row.pop("decidable")
    return rows


def warnings_page(uow: UnitOfWork, actor: Actor, wanted: WarningFilter, *, page: int = 1,
                  per_page: int | None = None) -> tuple[list[dict], int]:
    """Warnings newest first and how many match; a non-administrator sees those at places
    within their unit's subtree (a unit without a place: all, also those without a place)."""
    with denials_audited(uow.services, actor, object_type="early_warning"), uow:
        if not may_see_place(actor, None):
            raise Denied(ErrorCode.PLACE_SCOPE, "view_place.role", object_type="early_warning")
        query = select(EarlyWarning, Place.path).outerjoin(Place,
                                                           Place.id == EarlyWarning.place_id)
        if not (actor.type in INTERNAL_ACTORS or actor.has(RoleCode.ADMIN)) \
                and actor.unit_path is not None:
            query = query.where(Place.path.startswith(actor.unit_path, autoescape=True))
        if wanted.state:
            query = query.where(EarlyWarning.state == wanted.state)
        if wanted.rule:
            query = query.where(EarlyWarning.kind == wanted.rule)
        if wanted.raised_from is not None:
            query = query.where(EarlyWarning.raised_at >= wanted.raised_from)
        if wanted.raised_before is not None:
            query = query.where(EarlyWarning.raised_at < wanted.raised_before)
        if wanted.place_code:
            root = _place(uow.session, wanted.place_code)
            if not may_see_place(actor, root.path):
                raise Denied(ErrorCode.PLACE_SCOPE, "view_place.scope", object_type="place",
                             object_id=wanted.place_code)
            query = query.where(Place.path.startswith(root.path, autoescape=True))
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        query = query.order_by(EarlyWarning.raised_at.desc(), EarlyWarning.id.desc())
        if per_page:
            query = query.limit(per_page).offset((max(page, 1) - 1) * per_page)
        found = uow.session.execute(query).all()
        rows = warning_rows(uow.session, uow.services.settings, [w for w, _ in found])
        for row, (_, path) in zip(rows, found, strict=True):
            row["decidable"] = row["state"] == WarningState.OPEN and may_decide(actor, path)
        return rows, total


def case_warnings(session: Session, settings: Settings, case: Case, actor: Actor) -> list[dict]:
    """The warnings whose cases include this one (its building's and its grid's), each with
    ``place_visible``: the actor may open the place page."""
    found = session.execute(
        select(EarlyWarning, Place.path).outerjoin(Place, Place.id == EarlyWarning.place_id)
        .where(or_(and_(EarlyWarning.place_id.in_(path_ids(case.place_path)),
                        EarlyWarning.category == case.category),
                   EarlyWarning.subject_key == f"case:{case.id}"))
        .order_by(EarlyWarning.raised_at, EarlyWarning.id)).all()
    mine = [(warning, path) for warning, path in found if case.id in (warning.case_ids or [])]
    rows = warning_rows(session, settings, [warning for warning, _ in mine])
    for row, (_, path) in zip(rows, mine, strict=True):
        row["place_visible"] = may_see_place(actor, path)
    return rows


def place_page(uow: UnitOfWork, actor: Actor, code: str) -> PlacePage:
    """A place with its name path, its open warnings and its recent cases (a count)."""
    with denials_audited(uow.services, actor, object_type="place", object_id=code), uow:
        if not may_see_place(actor, None):   # the role first: no answer says a code exists
            raise Denied(ErrorCode.PLACE_SCOPE, "view_place.role", object_type="place",
                         object_id=code)
        place = _place(uow.session, code)
        if not may_see_place(actor, place.path):
            raise Denied(ErrorCode.PLACE_SCOPE, "view_place.scope", object_type="place",
                         object_id=code)
        session = uow.session
        chain = {row.id: row.name for row in session.execute(
            select(Place.id, Place.name).where(Place.id.in_(path_ids(place.path))))}
        warnings = session.scalars(
            select(EarlyWarning).join(Place, Place.id == EarlyWarning.place_id)
            .where(Place.path.startswith(place.path, autoescape=True),
                   EarlyWarning.state == WarningState.OPEN)
            .order_by(EarlyWarning.raised_at.desc(), EarlyWarning.id.desc())).all()
        since = uow.clock.now() - timedelta(days=RECENT_DAYS)
        recent = session.scalar(select(func.count(Case.id)).where(
            Case.place_path.startswith(place.path, autoescape=True), Case.opened_at >= since))
        return PlacePage(place.code, place.name, place.level,
                         [chain[i] for i in path_ids(place.path) if i in chain],
                         warning_rows(session, uow.services.settings, list(warnings)),
                         recent_cases=recent or 0,
                         link_cases=actor.has(RoleCode.SUPERVISOR))


def warning_rows(session: Session, settings: Settings, warnings: list[EarlyWarning]) -> list[dict]:
    """Plain data about warnings (CLI JSON, pages): rule, place, category, count, case codes,
    what the rule measured, state and who decided when (three queries for any number)."""
    if not warnings:
        return []
    places = {row.id: row for row in session.execute(
        select(Place.id, Place.code, Place.name, Place.level)
        .where(Place.id.in_({w.place_id for w in warnings if w.place_id is not None})))}
    codes = dict(session.execute(select(Case.id, Case.case_no).where(
        Case.id.in_({i for w in warnings for i in (w.case_ids or [])}))).all())
    deciders = {row.id: row for row in session.execute(
        select(User.id, User.username, User.display_name)
        .where(User.id.in_({w.decided_by_id for w in warnings if w.decided_by_id})))}
    out = []
    for warning in warnings:
        place = places.get(warning.place_id) if warning.place_id is not None else None
        details = dict(warning.details or {})
        days = details.get("days")
        if days is None and warning.kind == WarningKind.HOTSPOT and warning.category:
            rule = settings.hotspot_rule(warning.category)
            days = rule[1].days if rule else None
        decider = deciders.get(warning.decided_by_id) if warning.decided_by_id else None
        out.append({
            "id": warning.id, "kind": warning.kind, "rule": warning.kind,
            "place_code": place.code if place else None,
            "place_name": place.name if place else None,
            "place_level": place.level if place else None,
            "category": warning.category, "count": warning.count,
            "cases": [codes[i] for i in sorted(warning.case_ids or []) if i in codes],
            "window_start": _iso(warning.window_start), "window_days": days,
            "details": details,
            "raised_at": _iso(warning.raised_at), "state": warning.state,
            "decided_by": decider.username if decider else None,
            "decided_by_name": decider.display_name if decider else None,
            "decided_at": _iso(warning.decided_at), "note": warning.decision_note})
    return out


def _place(session: Session, code: str) -> Place:
    place = session.scalars(select(Place).where(Place.code == code)).first()
    if place is None:
        raise NotFound(ErrorCode.PLACE_NOT_FOUND, place_code=code)
    return place


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
