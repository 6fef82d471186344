"""The scheduler's warning rules (the hotspot rule runs at intake, workflows/early_warning/hotspots.py).

``evaluate(services, now)`` runs every switched-on rule, each in its own transaction, and
returns how many warnings each raised. Running it again raises nothing new: a warning is kept
once per rule, subject and window (workflows/early_warning/raising.py), and a later run only
brings its count and cases up to date.

* **repeat_person**: a person (same blind index of the ID number, else of the phone: never a
  clear value) applying in ``matters`` cases within ``days`` days;
* **large_group**: a case with ``people`` or more people involved (one warning per case), or
  ``org_cases`` cases within ``days`` days naming one organisation as respondent (the same
  credit code, else the same party);
* **trend_spike**: at a street, township, community or village, a category's count this week
  (Monday 00:00 local until now) ≥ ``factor`` × its weekly mean over the ``weeks`` weeks before,
  and at least ``min_count``;
* **risk_rise**: a case's risk colour rose (a ``risk_changed`` event of the last LOOKBACK with
  a higher colour after than before) to ``min_level`` or above;
* **wage_arrears**: in the ``days_before`` days before the Spring Festival holiday, each open
  case of the rule's categories (wage and labour matters by default).

A windowed rule (repeat_person, the organisation part of large_group) works like the hotspot
rule: a warning's window is [its first case, + days]; a new case inside it updates the warning,
a case after it counts the cases of the days before that no earlier warning holds.
Duplicates (重复件) never count as matters.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import case as when
from sqlalchemy import func, select

from engine.models import AuditEvent
from workflows.audit.log import AuditAction
from workflows.core.actors import SCHEDULER
from workflows.early_warning.raising import category_words, place_words, raise_once
from workflows.early_warning.rules import RISK_RANK, RuleConfig, load_rules
from workflows.models import (
    RISK_LABELS,
    Case,
    CaseParty,
    CaseStatus,
    EarlyWarning,
    Party,
    PartyKind,
    PartyRole,
    Place,
    PlaceLevel,
    WarningKind,
    path_ids,
)
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=7)   # how far back a run reads new big cases and risk changes
SPIKE_LEVELS = (PlaceLevel.STREET, PlaceLevel.TOWNSHIP, PlaceLevel.COMMUNITY, PlaceLevel.VILLAGE)
# 正月初一 for the years the official holiday calendar does not know yet
LUNAR_NEW_YEAR = {2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
                  2030: date(2030, 2, 3)}


PERSON_WORDS = "同一申请人{days}天内反映{0}件矛盾纠纷"
ORG_WORDS = "同一被申请单位{days}天内涉及{0}件矛盾纠纷"


@dataclass(frozen=True)
class Event:
    at: datetime
    case_id: int
    place_id: int | None
    category: str | None


def evaluate(services: Services, now: datetime | None = None) -> dict[str, int]:
    """Run the switched-on scheduler rules; {rule: warnings raised}. A failing rule is logged
    and the others still run."""
    now = now or services.clock.now()
    with services.session_factory() as session:
        rules = load_rules(session, services.settings)
    out: dict[str, int] = {}
    for code, run in RUNNERS.items():
        rule = rules[code]
        if not rule.enabled:
            continue
        try:
            with services.new_uow() as uow:
                out[code] = run(uow, rule, now)
                uow.commit()
        except Exception:  # one rule's failure must not stop the others
            log.exception("warning rule %s failed", code)
    return out


def _category_filter(rule: RuleConfig) -> list:
    return [Case.category.in_(rule.categories)] if rule.categories else []


# -- windowed subjects (a person, an organisation) ---------------------------------------------
def _earlier(uow: UnitOfWork, kind: str, keys: list[str]) -> dict[str, list[EarlyWarning]]:
    """The warnings already raised for these subjects, earliest window first (one query)."""
    out: dict[str, list[EarlyWarning]] = defaultdict(list)
    for start in range(0, len(keys), 1000):
        for warning in uow.session.scalars(select(EarlyWarning).where(
                EarlyWarning.kind == kind, EarlyWarning.subject_key.in_(keys[start:start + 1000]))
                .order_by(EarlyWarning.window_start, EarlyWarning.id)):
            out[warning.subject_key or ""].append(warning)
    return out


def _new_subjects(uow: UnitOfWork, kind: str, keys: list[str],
                  window_start: datetime | None = None) -> set[str]:
    """Those of ``keys`` no warning of ``kind`` (of that window, when given) has yet."""
    seen: set[str] = set()
    for start in range(0, len(keys), 1000):
        query = select(EarlyWarning.subject_key).where(
            EarlyWarning.kind == kind, EarlyWarning.subject_key.in_(keys[start:start + 1000]))
        if window_start is not None:
            query = query.where(EarlyWarning.window_start == window_start)
        seen.update(k for k in uow.session.scalars(query) if k)
    return set(keys) - seen


def _place(uow: UnitOfWork, place_id: int | None, cache: dict) -> Place | None:
    if place_id is None:
        return None
    if ("place", place_id) not in cache:
        cache[("place", place_id)] = uow.session.get(Place, place_id)
    return cache[("place", place_id)]


def _windowed(uow: UnitOfWork, kind: str, subject_key: str, events: list[Event],
              earlier: list[EarlyWarning], needed: int, days: int,
              what: Callable[[int], str], cache: dict) -> bool:
    """Raise or update the warning of a subject whose events (earliest first) and earlier
    warnings are given."""
    window = timedelta(days=days)
    latest = events[-1].at
    spans = [(w.window_start, w.window_start + window) for w in earlier]
    covering = [w for w in earlier if w.window_start <= latest <= w.window_start + window]
    if covering:
        warning = covering[-1]
        others = [s for w, s in zip(earlier, spans, strict=True) if w is not warning]
        mine = [e for e in events if warning.window_start <= e.at <= warning.window_start + window
                and not any(lo <= e.at <= hi for lo, hi in others)]
        warning.count, warning.case_ids = len(mine), sorted({e.case_id for e in mine})
        return False
    found = [e for e in events if latest - window <= e.at <= latest
             and not any(lo <= e.at <= hi for lo, hi in spans)]
    if len({e.case_id for e in found}) < needed:
        return False
    last = found[-1]
    place = _place(uow, last.place_id, cache)
    count = len({e.case_id for e in found})
    return raise_once(uow, SCHEDULER, kind=kind, subject_key=subject_key,
                      window_start=found[0].at, place=place, category=last.category,
                      case_ids=[e.case_id for e in found],
                      details={"threshold": needed, "days": days}, what=what(count),
                      known=False, cache=cache) is not None


def _subjects(uow: UnitOfWork, rule: RuleConfig, key, role: str, party_kind: str, needed: int,
              days: int, now: datetime) -> dict[str, list[Event]]:
    """Subjects with at least ``needed`` cases in the last ``days`` days, with their events
    of twice that span (earlier windows decide what still counts)."""
    base = [Case.duplicate_of_id.is_(None), CaseParty.role == role, Party.kind == party_kind,
            *_category_filter(rule)]
    hot = uow.session.execute(
        select(key).select_from(Case).join(CaseParty, CaseParty.case_id == Case.id)
        .join(Party, Party.id == CaseParty.party_id)
        .where(*base, Case.opened_at >= now - timedelta(days=days), Case.opened_at <= now)
        .group_by(key).having(func.count(func.distinct(Case.id)) >= needed)).scalars().all()
    if not hot:
        return {}
    rows = uow.session.execute(
        select(key, Case.id, Case.opened_at, Case.place_id, Case.category).select_from(Case)
        .join(CaseParty, CaseParty.case_id == Case.id).join(Party, Party.id == CaseParty.party_id)
        .where(*base, key.in_(hot), Case.opened_at >= now - timedelta(days=2 * days),
               Case.opened_at <= now)
        .order_by(Case.opened_at, Case.id))
    out: dict[str, list[Event]] = defaultdict(list)
    seen: set[tuple[str, int]] = set()
    for subject, case_id, opened, place_id, category in rows:
        if (subject, case_id) not in seen:
            seen.add((subject, case_id))
            out[subject].append(Event(opened, case_id, place_id, category))
    return out


def repeat_person(uow: UnitOfWork, rule: RuleConfig, now: datetime) -> int:
    needed, days = int(rule.value("matters")), int(rule.value("days"))
    person = func.coalesce(Party.id_number_bidx, Party.phone_bidx)
    subjects = {f"person:{key}": events for key, events in _subjects(
        uow, rule, person, PartyRole.APPLICANT, PartyKind.PERSON, needed, days, now).items()}
    earlier = _earlier(uow, WarningKind.REPEAT_PERSON, sorted(subjects))
    cache: dict = {}
    return sum(_windowed(uow, WarningKind.REPEAT_PERSON, key, events, earlier.get(key, []),
                         needed, days, partial(PERSON_WORDS.format, days=days), cache)
               for key, events in subjects.items())


def large_group(uow: UnitOfWork, rule: RuleConfig, now: datetime) -> int:
    people = int(rule.value("people"))
    raised = 0
    big = uow.session.execute(
        select(Case.id, Case.opened_at, Case.place_id, Case.category, Case.people_count)
        .where(Case.duplicate_of_id.is_(None), Case.people_count >= people,
               Case.opened_at >= now - LOOKBACK, Case.opened_at <= now, *_category_filter(rule))
        .order_by(Case.id)).all()
    cache: dict = {}
    new = _new_subjects(uow, WarningKind.LARGE_GROUP, [f"case:{row[0]}" for row in big])
    for case_id, opened, place_id, category, count in big:
        if f"case:{case_id}" not in new:
            continue
        place = _place(uow, place_id, cache)
        raised += raise_once(
            uow, SCHEDULER, kind=WarningKind.LARGE_GROUP, subject_key=f"case:{case_id}",
            window_start=opened, place=place, category=category, case_ids=[case_id],
            details={"people": count, "threshold": people}, known=False, cache=cache,
            what=f"{place_words(uow.session, place, cache)}一件{category_words(category)}"
                 f"涉及{count}人") is not None
    needed, days = int(rule.value("org_cases")), int(rule.value("days"))
    org = func.coalesce(Party.credit_code, Party.id)
    subjects = {f"org:{key}": events for key, events in _subjects(
        uow, rule, org, PartyRole.RESPONDENT, PartyKind.ORGANISATION, needed, days, now).items()}
    earlier = _earlier(uow, WarningKind.LARGE_GROUP, sorted(subjects))
    raised += sum(_windowed(uow, WarningKind.LARGE_GROUP, key, events, earlier.get(key, []),
                            needed, days, partial(ORG_WORDS.format, days=days), cache)
                  for key, events in subjects.items())
    return raised


# -- trend spike -----------------------------------------------------------------------------
def week_start(now: datetime, tz: tzinfo) -> datetime:
    """Monday 00:00 (local) of the week holding ``now``."""
    local = now.astimezone(tz).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(0), tz)


def trend_spike(uow: UnitOfWork, rule: RuleConfig, now: datetime) -> int:
    factor, floor = float(rule.value("factor")), int(rule.value("min_count"))
    weeks = int(rule.value("weeks"))
    start = week_start(now, _tz(uow))
    since = start - timedelta(weeks=weeks)
    this_week = func.sum(when((Case.opened_at >= start, 1), else_=0))
    rows = uow.session.execute(
        select(Case.place_path, Case.category, this_week, func.count(Case.id))
        .where(Case.duplicate_of_id.is_(None), Case.place_path.is_not(None),
               Case.category.is_not(None), Case.opened_at >= since, Case.opened_at <= now,
               *_category_filter(rule))
        .group_by(Case.place_path, Case.category)).all()
    watched = dict(uow.session.execute(select(Place.id, Place.level).where(
        Place.level.in_([str(level) for level in SPIKE_LEVELS]))).all()) if rows else {}
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for path, category, current, total in rows:
        for place_id in path_ids(path):
            if place_id in watched:
                counts[(place_id, category)][0] += int(current or 0)
                counts[(place_id, category)][1] += int(total) - int(current or 0)
    raised = 0
    cache: dict = {}
    for (place_id, category), (current, before) in sorted(counts.items()):
        mean = before / weeks
        if current < floor or current < factor * mean:
            continue
        place = uow.session.get(Place, place_id)
        assert place is not None
        ids = list(uow.session.scalars(select(Case.id).where(
            Case.duplicate_of_id.is_(None), Case.place_path.startswith(place.path, autoescape=True),
            Case.category == category, Case.opened_at >= start, Case.opened_at <= now)))
        raised += raise_once(
            uow, SCHEDULER, kind=WarningKind.TREND_SPIKE, subject_key=f"place:{place_id}:{category}",
            window_start=start, place=place, category=category, case_ids=ids,
            details={"this_week": current, "mean": round(mean, 2), "factor": factor,
                     "weeks": weeks, "days": 7}, cache=cache,
            what=f"{place_words(uow.session, place)}本周{category_words(category)}{current}起，"
                 f"为前{weeks}周周均{mean:.1f}起的{current / mean if mean else current:.1f}倍"
        ) is not None
    return raised


# -- risk rise -------------------------------------------------------------------------------
def risk_rise(uow: UnitOfWork, rule: RuleConfig, now: datetime) -> int:
    lowest = RISK_RANK[str(rule.value("min_level"))]
    events = uow.session.execute(
        select(AuditEvent.case_id, AuditEvent.occurred_at, AuditEvent.payload)
        .where(AuditEvent.action == AuditAction.RISK_CHANGED, AuditEvent.case_id.is_not(None),
               AuditEvent.occurred_at >= now - LOOKBACK, AuditEvent.occurred_at <= now)
        .order_by(AuditEvent.id)).all()
    rises: list[tuple[int, datetime, str, str]] = []
    for case_id, at, payload in events:
        data = json.loads(payload or "{}")
        low, high = str(data.get("before")), str(data.get("after"))
        if low in RISK_RANK and high in RISK_RANK and RISK_RANK[low] < RISK_RANK[high] \
                and RISK_RANK[high] >= lowest:
            rises.append((int(case_id or 0), at, low, high))
    if not rises:
        return 0
    cases = {row.id: row for row in uow.session.scalars(
        select(Case).where(Case.id.in_({r[0] for r in rises})))}
    raised = 0
    cache: dict = {}
    for case_id, at, before, after in rises:
        found = cases.get(case_id)
        if found is None or not rule.watches(found.category):
            continue
        place = _place(uow, found.place_id, cache)
        raised += raise_once(
            uow, SCHEDULER, kind=WarningKind.RISK_RISE, subject_key=f"case:{case_id}",
            window_start=at, place=place, category=found.category, case_ids=[case_id],
            details={"before": before, "after": after}, cache=cache,
            what=f"案件{found.case_no}风险等级由{RISK_LABELS.get(before, before)}"
                 f"升为{RISK_LABELS.get(after, after)}") is not None
    return raised


# -- wage arrears before the Spring Festival --------------------------------------------------
def festival_start(year: int) -> date | None:
    """The first day off of the Spring Festival holiday of ``year`` (the official calendar),
    else the day before 正月初一; None when neither is known."""
    try:
        for offset in range(75):
            day = date(year, 1, 1) + timedelta(days=offset)
            off, name = chinese_calendar.get_holiday_detail(day)
            if off and name == chinese_calendar.Holiday.spring_festival.value:
                return day
    except NotImplementedError:
        pass
    new_year = LUNAR_NEW_YEAR.get(year)
    return new_year - timedelta(days=1) if new_year else None


def next_festival(today: date) -> date | None:
    """The Spring Festival holiday start on or after ``today``."""
    for year in (today.year, today.year + 1):
        day = festival_start(year)
        if day is not None and day >= today:
            return day
    return None


def wage_arrears(uow: UnitOfWork, rule: RuleConfig, now: datetime) -> int:
    tz = _tz(uow)
    days = int(rule.value("days_before"))
    today = now.astimezone(tz).date()
    festival = next_festival(today)
    if festival is None or (festival - today).days > days or festival == today:
        return 0
    start = datetime.combine(festival, time(0), tz)
    open_cases = uow.session.execute(
        select(Case.id, Case.case_no, Case.place_id, Case.category, Case.people_count)
        .where(Case.status != CaseStatus.CLOSED, Case.duplicate_of_id.is_(None),
               Case.opened_at <= now, *_category_filter(rule))
        .order_by(Case.id)).all()
    raised = 0
    cache: dict = {}
    new = _new_subjects(uow, WarningKind.WAGE_ARREARS, [f"case:{row[0]}" for row in open_cases],
                        start)
    for case_id, case_no, place_id, category, people in open_cases:
        if f"case:{case_id}" not in new:
            continue
        place = _place(uow, place_id, cache)
        raised += raise_once(
            uow, SCHEDULER, kind=WarningKind.WAGE_ARREARS, subject_key=f"case:{case_id}",
            window_start=start, place=place, category=category, case_ids=[case_id],
            details={"festival": festival.isoformat(), "days_left": (festival - today).days,
                     "people": people, "days": days}, known=False, cache=cache,
            what=f"距春节假期{(festival - today).days}天，欠薪案件{case_no}（{people}人）尚未办结"
        ) is not None
    return raised


def _tz(uow: UnitOfWork) -> tzinfo:
    return ZoneInfo(uow.services.settings.timezone)


RUNNERS: dict[str, Callable[[UnitOfWork, RuleConfig, datetime], int]] = {
    WarningKind.REPEAT_PERSON: repeat_person, WarningKind.LARGE_GROUP: large_group,
    WarningKind.TREND_SPIKE: trend_spike, WarningKind.RISK_RISE: risk_rise,
    WarningKind.WAGE_ARREARS: wage_arrears,
}
