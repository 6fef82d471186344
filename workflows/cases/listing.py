"""The case list shared by the /cases page, ``GET /api/v1/cases`` and the cockpit's drill-down.

Filters come in as query-string text and are checked here against allow-lists (bad values are
field errors, never SQL); the caller's scope is the policy's ``visible_cases``, asked as a UNION of
its parts (``visible_case_parts``: the unit's subtree, a task of mine, a case I worked on, ...) so
that each part uses its own index instead of one OR checked on every row. One page costs a fixed
number of statements whatever its size: the unit's tier, the count (bounded, except for a
cockpit drill-down), the rows with their lead unit and next deadline, and the place names of the
page's rows (plus one lookup each for places and parties when there is free text). Rows hold no
personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, false, func, select, true, union
from sqlalchemy.orm import Session

from engine.errors import FieldCode, FieldError
from engine.input_rules import text_error
from workflows.access.policy import (
    Permission,
    denials_audited,
    require,
    scope_parts,
    unit_place,
    unit_street,
    visible_cases,
)
from workflows.cases import search
from workflows.core.actors import Actor
from workflows.core.dates import filter_day_error
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.models import (
    Case,
    CaseStatus,
    Category,
    Department,
    OpenTask,
    Place,
    RiskLevel,
    Tier,
    WorkOrder,
    path_ids,
)
from workflows.models.cases import case_street
from workflows.models.search_text import category_fact, place_fact
from workflows.runtime.unit_of_work import UnitOfWork

PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
# registration-date filters without configured bounds (callers pass dates.filter_bounds): a year
# outside is a typing error, and 9999-12-31 + 1 day would overflow the end-of-day arithmetic
DEFAULT_BOUNDS = (date(2000, 1, 1), date(2999, 12, 31))
# the query-string names this module reads (the web and API layers add their own, e.g. kpi)
PARAMS = ("q", "category", "status", "tier", "risk_level", "place", "from", "to", "open",
          "page", "per_page")
CHOICES = {"category": [str(c) for c in Category], "status": [str(s) for s in CaseStatus],
           "tier": [str(t) for t in Tier], "risk_level": [str(r) for r in RiskLevel]}


@dataclass
class CaseQuery:
    """What a list asks for; every value has passed ``parse_query`` (or is typed in code).

    ``restrict`` is an extra condition on ``Case`` supplied by a layer above: it narrows the
    list, never widens the caller's scope. ``scope`` replaces the caller's scope: the cockpit's
    ``kpi`` drill-down lists every case behind a figure of the viewer's cockpit scope (checked
    by the cockpit before it sets it); rows of cases the viewer may not open are masked."""

    q: str = ""
    category: str | None = None
    status: str | None = None
    tier: str | None = None
    risk_level: str | None = None
    place: str | None = None          # a place code: that place's subtree
    registered_from: date | None = None
    registered_to: date | None = None  # inclusive, local dates
    open_only: bool = False
    department_code: str | None = None
    page: int = 1
    per_page: int = PER_PAGE
    restrict: ColumnElement[bool] | None = field(default=None, compare=False)
    scope: ColumnElement[bool] | None = field(default=None, compare=False)
    extra_args: dict[str, str] = field(default_factory=dict)

    def args(self) -> dict[str, str]:
        """The query string that asks for this list again (page links, the search box)."""
        out = {"q": self.q, "category": self.category, "status": self.status, "tier": self.tier,
               "risk_level": self.risk_level, "place": self.place,
               "from": self.registered_from.isoformat() if self.registered_from else None,
               "to": self.registered_to.isoformat() if self.registered_to else None,
               "open": "1" if self.open_only else None, **self.extra_args}
        return {k: v for k, v in out.items() if v}


@dataclass
class CasePage:
    """One page of the list and the number of cases behind it."""

    rows: list[dict]
    total: int
    page: int
    per_page: int
    exact: bool = True      # False: at least ``total`` cases match (the count stopped there)

    @property
    def pages(self) -> int:
        """Pages known to exist; one more when the count stopped at its bound."""
        return max(1, -(-self.total // self.per_page) + (0 if self.exact else 1))


def parse_query(args: Mapping[str, str], *, per_page: int = PER_PAGE,
                bounds: tuple[date, date] = DEFAULT_BOUNDS) -> CaseQuery:
    """A ``CaseQuery`` from query-string values; InvalidInput names every bad parameter
    (registration dates outside ``bounds`` included)."""
    errors: dict[str, FieldError] = {}
    values: dict[str, str] = {}
    for name in PARAMS:
        raw = args.get(name)
        if raw is None or raw == "":
            continue
        problem = text_error(raw, max_length=search.MAX_QUERY if name == "q" else 64)
        if problem is not None:
            errors[name] = problem
        else:
            values[name] = raw.strip()
    query = CaseQuery(q=values.get("q", ""), place=values.get("place"),
                      open_only=values.get("open") in ("1", "true"), per_page=per_page)
    _choices(query, values, errors)
    _dates(query, values, errors, bounds)
    _numbers(query, values, errors)
    if errors:
        raise InvalidInput(errors)
    return query


def _choices(query: CaseQuery, values: dict[str, str], errors: dict[str, FieldError]) -> None:
    for name, options in CHOICES.items():
        if name in values and values[name] not in options:
            errors[name] = FieldError(FieldCode.NOT_AN_OPTION)
        elif name in values:
            setattr(query, name, values[name])


def _dates(query: CaseQuery, values: dict[str, str], errors: dict[str, FieldError],
           bounds: tuple[date, date]) -> None:
    for name, attr in (("from", "registered_from"), ("to", "registered_to")):
        try:
            setattr(query, attr, date.fromisoformat(values[name]) if name in values else None)
        except ValueError:
            errors[name] = FieldError(FieldCode.NOT_DATE)
    first, last = query.registered_from, query.registered_to
    for name, attr in (("from", "registered_from"), ("to", "registered_to")):
        day = getattr(query, attr)
        wrong = filter_day_error(day, bounds) if day is not None else None
        if wrong is not None:
            errors[name] = wrong
            setattr(query, attr, None)
    first, last = query.registered_from, query.registered_to
    if first and last and last < first:
        errors["to"] = FieldError(FieldCode.TOO_EARLY, {"limit": first.isoformat()})


def _numbers(query: CaseQuery, values: dict[str, str], errors: dict[str, FieldError]) -> None:
    for name, maximum in (("page", MAX_PAGE), ("per_page", MAX_PER_PAGE)):
        if name not in values:
            continue
        number = _whole(values[name])
        if number is None:
            errors[name] = FieldError(FieldCode.NOT_INTEGER)
        elif number < 1:
            errors[name] = FieldError(FieldCode.TOO_SMALL, {"limit": 1})
        elif number > maximum:
            errors[name] = FieldError(FieldCode.TOO_LARGE, {"limit": maximum})
        else:
            setattr(query, name, number)


def _whole(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def list_page(uow: UnitOfWork, actor: Actor, query: CaseQuery | None = None) -> CasePage:
    """One page of the cases the actor may see, newest registration first."""
    query = query or CaseQuery()
    with denials_audited(uow.services, actor, object_type="case_list"):
        require(actor, Permission.LIST_CASES)
    with uow:
        where = _filters(uow, query)
        if query.scope is not None:    # a drill-down: one scope, an exact count, rows masked
            total = int(uow.session.scalar(select(func.count()).select_from(Case).where(
                query.scope, *where.indexed)) or 0)
            exact, visible = True, visible_cases(actor)
            page_ids = _page_ids([query.scope], where.indexed, query)
        else:
            scope = _scope_parts(uow.session, actor, by_street=not query.place)
            total, exact, page_ids = _bounded(uow.session, scope, where, query)
            visible = true()
        rows = _rows(uow.session, page_ids, visible) if total else []
        if search.record_party_search(uow, actor, query.q, found=total):
            uow.commit()
    return CasePage(rows, total, query.page, query.per_page, exact)


Filters = list[ColumnElement[bool]]


@dataclass
class _Scope:
    """The caller's scope in parts: the unit's, the actor's own, and the unit's as walked in
    registration order (on PostgreSQL, below the district: within the unit's street, so that
    ``ix_dispute_case_street_registered_at_id`` walks that street only)."""

    units: Filters
    own: Filters
    walked: Filters
    facts: list[str] = field(default_factory=list)   # the unit's place, as a search fact


def _scope_parts(session: Session, actor: Actor, *, by_street: bool) -> _Scope:
    """The caller's scope split into parts (``scope_parts``), each asked on its own. Not
    ``by_street`` (a place filter: its own, narrower range of ``ix_dispute_case_place_path``),
    the unit's parts are walked as they are."""
    tier = (session.scalar(select(Department.tier).where(Department.id == actor.department_id))
            if actor.department_id is not None else None)
    units, own = scope_parts(actor, split=True, unit_tier=tier)
    if not units and not own:
        return _Scope([false()], [], [false()])
    street, place = unit_street(actor, tier), unit_place(actor, tier)
    facts = [] if place is None else [place_fact(place)]
    if not by_street or street is None or session.get_bind().dialect.name != "postgresql":
        return _Scope(units, own, units, facts)
    # implied by the unit's subtree (``unit_street``): it only names the index range
    return _Scope(units, own, [and_(case_street() == street, part) for part in units], facts)


@dataclass
class _Where:
    """The query's conditions besides the scope; free text two ways (``search.match_forms``),
    with the facts its filters require (a category, a place) for the text index to AND."""

    common: Filters
    match: search.MatchForms | None = None
    facts: list[str] = field(default_factory=list)

    @property
    def text_checked(self) -> ColumnElement[bool] | None:  # checked on each row found otherwise
        return None if self.match is None else self.match.checked()

    @property
    def indexed(self) -> Filters:
        return self.within([])

    def within(self, facts: list[str]) -> Filters:
        """``indexed`` for a part of the scope that also requires ``facts`` (the unit's
        place): the separate conditions stay, the text index intersects them first."""
        if self.match is None:
            return self.common
        return [*self.common, self.match.indexed([*self.facts, *facts])]

    @property
    def checked(self) -> Filters:
        return self.common if self.match is None else [*self.common, self.match.checked()]


def _bounded(session: Session, scope: _Scope, where: _Where,
             query: CaseQuery) -> tuple[int, bool, Any]:
    """The number of matching cases up to a bound, and the page's case ids.

    Counting a million visible rows costs seconds, and "1,000+" says what a reader needs; the
    bound reaches ten pages past the current one, so the next pages are always linked. One
    statement reads up to bound + 1 matching (id, registration) pairs, each part of the scope
    on its own (its own index) and the parts joined without duplicates. Below the bound the
    count is exact and the page is cut from those pairs (a rare word, a narrow filter: no walk
    of the registration index past every non-matching case); above it the matches are dense
    and the page is each part's newest rows (``_page_ids``). The unit's parts may start from
    the text index, the actor's own (few cases) check the text on each of their rows
    (``search.match_forms``). Without free text the unit's parts are read within their street
    (an index-only range); with it the planner would AND that range's 100,000 entries with the
    text and the subtree (a street's common word: 145 ms instead of 60), so it is left out."""
    bound = max(COUNT_BOUND, (query.page + PAGES_AHEAD) * query.per_page)
    units = scope.walked if where.match is None else scope.units
    found = _union([select(Case.id, Case.registered_at).where(part, *filters).limit(bound + 1)
                    for parts, filters in ((units, where.within(scope.facts)),
                                           (scope.own, where.checked))
                    for part in parts])
    pairs = list(session.execute(select(found.c.id, found.c.registered_at).limit(bound + 1)))
    if len(pairs) > bound:
        return bound, False, _dense_page(session, scope.walked, scope.own, where, query)
    # newest first as the database orders: a case not yet registered first on PostgreSQL
    # (DESC puts NULL first), last on SQLite
    nulls_first = session.get_bind().dialect.name == "postgresql"
    pairs.sort(key=lambda pair: ((pair.registered_at is None) == nulls_first,
                                 pair.registered_at or NEVER, pair.id), reverse=True)
    offset = (query.page - 1) * query.per_page
    return len(pairs), True, [pair.id for pair in pairs[offset:offset + query.per_page]]


COUNT_BOUND, PAGES_AHEAD = 1000, 10
NEVER = datetime.min.replace(tzinfo=UTC)


def _union(branches: list[Select]) -> Any:
    """The rows of the branches without duplicates, as a subquery (each branch wrapped, so
    that its ORDER BY and LIMIT stay its own on SQLite too)."""
    if len(branches) == 1:
        return branches[0].subquery()
    wrapped = [select(*branch.subquery().c) for branch in branches]
    return union(*wrapped).subquery()


def _page_ids(parts: list[ColumnElement[bool]], filters: list[ColumnElement[bool]],
              query: CaseQuery) -> Any:
    """The ids of the page's cases: each part's newest ``page × per_page`` (a walk of the
    registration index, or its own index and a short sort), merged, then the page of those."""
    offset = (query.page - 1) * query.per_page
    if len(parts) == 1:
        return (select(Case.id).where(parts[0], *filters)
                .order_by(Case.registered_at.desc(), Case.id.desc())
                .limit(query.per_page).offset(offset).subquery())
    merged = _union([select(Case.id, Case.registered_at).where(part, *filters)
                     .order_by(Case.registered_at.desc(), Case.id.desc())
                     .limit(offset + query.per_page) for part in parts])
    return (select(merged.c.id).order_by(merged.c.registered_at.desc(), merged.c.id.desc())
            .limit(query.per_page).offset(offset).subquery())


def _dense_page(session: Session, units: Filters, own: Filters, where: _Where,
                query: CaseQuery) -> Any:
    """The page when more cases match than the bound: each part's newest rows.

    Without free text the planner walks the registration index (or a filter's own index) and
    stops after the page. With free text it cannot know that the matches are dense (above) and
    would read every match and sort them; so each unit part walks its newest ``WALK`` × page
    cases and checks the text on each, stopping at the page. A page that comes short (matches
    older than that walk) asks again without the walk's limit. SQLite has no such estimate:
    its FTS5 match is a list of ids asked once, then checked on the registration walk."""
    if where.match is None or session.get_bind().dialect.name != "postgresql":
        return _page_ids(units + own, where.checked, query)   # SQLite: FTS5 asked once
    offset = (query.page - 1) * query.per_page
    want = offset + query.per_page
    branches = [_walk(part, where, want) for part in units]
    branches += [select(Case.id, Case.registered_at).where(part, *where.checked)
                 .order_by(Case.registered_at.desc(), Case.id.desc()).limit(want)
                 for part in own]
    merged = _union(branches)
    ids = list(session.scalars(
        select(merged.c.id).order_by(merged.c.registered_at.desc(), merged.c.id.desc())
        .limit(query.per_page).offset(offset)))
    return ids if len(ids) == query.per_page else _page_ids(units + own, where.checked, query)


WALK, WALK_AT_LEAST = 200, 10_000


def _walk(part: ColumnElement[bool], where: _Where, want: int) -> Select:
    """The part's newest cases (their ids only: an index may answer without the table), then
    the text checked on each of them in that order, stopping at ``want``."""
    newest = (select(Case.id, Case.registered_at).where(part, *where.common)
              .order_by(Case.registered_at.desc(), Case.id.desc())
              .limit(max(WALK * want, WALK_AT_LEAST)).subquery())
    text = true() if where.text_checked is None else where.text_checked
    return (select(newest.c.id, newest.c.registered_at).join(Case, Case.id == newest.c.id)
            .where(text).order_by(newest.c.registered_at.desc(), newest.c.id.desc())
            .limit(want))


def with_page(query: CaseQuery, page: int) -> CaseQuery:
    """The same list at another page."""
    return replace(query, page=page)


def _filters(uow: UnitOfWork, query: CaseQuery) -> _Where:
    """The query's conditions on ``Case`` besides the scope."""
    clauses: list[ColumnElement[bool]] = []
    facts = [category_fact(query.category)] if query.category else []
    for column, value in ((Case.status, query.status), (Case.category, query.category),
                          (Case.tier, query.tier), (Case.risk_level, query.risk_level)):
        if value:
            clauses.append(column == value)
    if query.open_only:
        clauses.append(Case.status != CaseStatus.CLOSED)
    if query.place:
        path = _place_path(uow.session, query.place)
        clauses.append(Case.place_path.startswith(path, autoescape=True))
        facts.append(place_fact(path_ids(path)[-1]))
    tz = ZoneInfo(uow.services.settings.timezone)
    if query.registered_from:
        clauses.append(Case.registered_at >= _start_of(query.registered_from, tz))
    if query.registered_to:
        clauses.append(Case.registered_at < _start_of(query.registered_to + timedelta(days=1), tz))
    if query.department_code:
        dept = select(Department.id).where(Department.code == query.department_code)
        clauses.append(Case.id.in_(select(WorkOrder.case_id)
                                   .where(WorkOrder.department_id.in_(dept))))
    if query.restrict is not None:
        clauses.append(query.restrict)
    if not query.q:
        return _Where(clauses)
    return _Where(clauses, search.match_forms(uow, query.q), facts)


def _place_path(session: Session, code: str) -> str:
    path = session.scalar(select(Place.path).where(Place.code == code))
    if path is None:
        raise InvalidInput({"place": FieldError(ErrorCode.PLACE_UNKNOWN, {"code": code})})
    return path


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _rows(session: Session, page_ids: Any, visible: ColumnElement[bool]) -> list[dict]:
    """The page's rows; ``page_ids`` a list of ids or a subquery of them."""
    deadline = (select(func.min(OpenTask.due_at)).where(OpenTask.case_id == Case.id)
                .correlate(Case).scalar_subquery())
    statement = (select(Case, Department.code, Department.name, deadline,
                        visible.label("visible"))
                 .outerjoin(Department, Department.id == Case.lead_department_id)
                 .order_by(Case.registered_at.desc(), Case.id.desc()))
    statement = (statement.where(Case.id.in_(page_ids)) if isinstance(page_ids, list)
                 else statement.join(page_ids, page_ids.c.id == Case.id))
    found = session.execute(statement).all()
    places = _place_rows(session, [case.place_path for case, *_ in found])
    return [_row(case, code, name, due, places) if seen else _masked(case, code, name, due)
            for case, code, name, due, seen in found]


def _place_rows(session: Session, paths: list[str | None]) -> dict[int, tuple[str, str, str]]:
    """id -> (code, name, level) of every place on the given paths (one statement)."""
    ids = {i for path in paths for i in path_ids(path)}
    if not ids:
        return {}
    return {row.id: (row.code, row.name, row.level) for row in session.execute(
        select(Place.id, Place.code, Place.name, Place.level).where(Place.id.in_(ids)))}


def _row(case: Case, lead_code: str | None, lead_name: str | None, due: datetime | None,
         places: dict[int, tuple[str, str, str]]) -> dict:
    location = None
    if case.place_id is not None:
        chain = [places[i] for i in path_ids(case.place_path) if i in places]
        location = {"place_code": places[case.place_id][0] if case.place_id in places else None,
                    "names": [name for _code, name, level in chain if level != "city"]}
    lead = {"code": lead_code, "name": lead_name} if lead_code else None
    return {
        "case_no": case.case_no, "status": case.status, "stage": case.stage,
        "channel": case.channel, "category": case.category, "urgency": case.urgency,
        "tier": case.tier, "risk_level": case.risk_level, "people_count": case.people_count,
        "summary": case.summary, "second_complaint": case.second_complaint,
        "outcome": case.outcome, "satisfaction": case.satisfaction,
        "lead_unit": lead, "location": location, "location_detail": case.location_detail,
        "received_at": _iso(case.opened_at), "registered_at": _iso(case.registered_at),
        "closed_at": _iso(case.closed_at), "deadline": _iso(due), "visible": True,
    }


def _masked(case: Case, lead_code: str | None, lead_name: str | None,
            due: datetime | None) -> dict:
    """A case counted in a drill-down that the viewer may not open: no code, summary or place."""
    lead = {"code": lead_code, "name": lead_name} if lead_code else None
    return {
        "case_no": None, "status": case.status, "stage": None, "channel": case.channel,
        "category": case.category, "urgency": case.urgency, "tier": case.tier,
        "risk_level": case.risk_level, "people_count": case.people_count, "summary": "",
        "second_complaint": case.second_complaint, "outcome": case.outcome,
        "satisfaction": case.satisfaction, "lead_unit": lead, "location": None,
        "location_detail": None, "received_at": _iso(case.opened_at),
        "registered_at": _iso(case.registered_at), "closed_at": _iso(case.closed_at),
        "deadline": _iso(due), "visible": False,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
