"""The one access policy: default deny, SQL scoping of every case query, audited denials.

Scope rules:

* triage officers and supervisors see the cases of their own tier and the tiers below it
  (a district-centre user sees every tier, including cases not yet triaged); supervisors see them
  for supervision and reveal personal data only with a stated purpose, like everybody;
* leaders see the cases escalated to them (包案): within their tier scope, a case
  raised to 提级/领导包案 (a supervision notice of level 2 or more) or to an orange or red risk
  (the ladder notifies the leadership), plus cases where they hold a task; everything else only
  as aggregates (supervision page, reports);
* intake clerks see the cases they registered and the cases owned by their unit;
* mediators see the cases assigned to them;
* grid workers see the cases their own reports opened (nothing else of their grid);
* department handlers see cases with a work order for their department; a department that only
  co-operates (协办) sees masked data and may not unmask;
* everybody sees a case where they hold (are assigned or have claimed) an open task, or where an
  open task waits for their role in their department;
* auditors read every case (masked, read-only); process owners and administrators see no case
  content at all (process definitions and configuration only);
* experts of the pool read no case through the case pages: only the cases they are invited to,
  through their own pages (``require_invited``), and write nothing but their own opinion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, event, exists, false, or_, select, true
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotPermitted
from workflows.district.units import unit_path
from workflows.models import (
    Case,
    CaseParticipant,
    Department,
    Expert,
    ExpertInvitation,
    InvitationStatus,
    MediationSession,
    OpenTask,
    RoleCode,
    Tier,
    User,
    WorkOrder,
    case_rows,
)
from workflows.models.scheduling import SupervisionNotice

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

TIER_RANK = {Tier.COMMUNITY: 0, Tier.STREET: 1, Tier.DISTRICT: 2}
TIER_ROLES = (RoleCode.TRIAGE_OFFICER, RoleCode.SUPERVISOR)
# leaders: a case is escalated to the leadership at 提级 (level 2) / 领导包案 (level 3) or at these
# risk colours (escalation.raise_risk notifies the leaders)
LEADER_LEVEL = 2
LEADER_RISKS = ("orange", "red")
# Roles that may reveal a party's personal data on a case they fully see (purpose-bound, audited).
UNMASK_ROLES = (RoleCode.INTAKE_CLERK, RoleCode.TRIAGE_OFFICER, RoleCode.MEDIATOR, RoleCode.DEPT_HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER)
INTERNAL_ACTORS = ("system", "scheduler", "replay")


class Permission(StrEnum):
    """What an actor may want to do; every service asks ``require`` for one of these."""

    LIST_CASES = "list_cases"
    VIEW_CASE = "view_case"
    VIEW_PARTIES = "view_parties"          # masked party data
    UNMASK_PARTY = "unmask_party"          # plaintext, with a purpose
    REGISTER_CASE = "register_case"        # intake from any channel
    REPORT_FROM_GRID = "report_from_grid"  # a grid worker's report from their own grid
    COMPLETE_TASK = "complete_task"
    CLAIM_TASK = "claim_task"
    REDISPATCH = "redispatch"              # re-dispatch after a return (退单)
    VIEW_AUDIT = "view_audit"
    EXPORT_AUDIT = "export_audit"          # the raw case file, with a purpose (auditors)
    RECORD_RATING = "record_rating"        # the citizen's rating (SMS link, APP, phone)
    REPORT_RISK = "report_risk"            # risk rising during handling
    RECORD_PERFORMANCE = "record_performance"  # an agreement paid / performed before its period ran out
    REQUEST_SLA_CHANGE = "request_sla_change"  # ask for 中止 / 延期 of a supervision clock
    DECIDE_SLA_CHANGE = "decide_sla_change"    # approve or refuse it (not one's own request)
    REPLY_NOTICE = "reply_notice"          # the department's written reply to a 督办单
    RETRY_INCIDENT = "retry_incident"      # sweep an instance whose timers failed again
    ISSUE_NOTICE = "issue_notice"          # a 催办 or 督办单 by hand
    REVIEW_RED_FLAG = "review_red_flag"    # decide on the intake assistant's red flag
    VIEW_ASSISTANT_ACCURACY = "view_assistant_accuracy"  # suggested against final categories
    INVITE_EXPERT = "invite_expert"        # bring an expert of the pool into a session
    WRITE_EXPERT_OPINION = "write_expert_opinion"  # an invited expert's own written opinion


class Denied(NotPermitted):
    """A policy denial with what it was about (for the ``access_denied`` audit event)."""

    def __init__(self, code: str, rule: str, *, case_id: int | None = None,
                 object_type: str | None = None, object_id: Any = None):
        super().__init__(code, rule)
        self.case_id, self.object_type, self.object_id = case_id, object_type, object_id


def user_id(actor: Actor) -> int | None:
    """The numeric user id of a user (or user-bound API) actor."""
    if actor.type in ("user", "api") and actor.id is not None and str(actor.id).isdigit():
        return int(actor.id)
    return None


# -- SQL scoping --------------------------------------------------------------------------------
def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` limiting any query to the cases this actor may read."""
    return _visible_cases(scope_actor(actor))


def scope_actor(actor: Actor) -> Actor:
    """The actor as far as its scope goes (no name, address or session): the key of what is
    built once per user, roles and unit."""
    return replace(actor, username="", ip=None, session_hash=None)


@lru_cache(maxsize=2048)
def _visible_cases(actor: Actor) -> ColumnElement[bool]:
    # built once per user, roles and unit: the clause is a few dozen SQL constructs, and
    # building it cost more than running it (constructs are immutable, so sharing is safe)
    parts = visible_case_parts(actor)
    return parts[0] if len(parts) == 1 else or_(*parts) if parts else false()


def visible_case_parts(actor: Actor, *, split: bool = False,
                       unit_tier: str | None = None) -> list[ColumnElement[bool]]:
    """The actor's scope as conditions whose OR is ``visible_cases``; see ``scope_parts``."""
    unit, own = scope_parts(actor, split=split, unit_tier=unit_tier)
    return unit + own


def scope_parts(actor: Actor, *, split: bool = False, unit_tier: str | None = None,
                ) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The actor's scope as two lists of conditions, all OR-ed: the unit's (its tier and place
    subtree; a leader's escalated cases) and the actor's own (a task of mine, a case I worked
    on, registered, mediate, a work order of my department).

    With ``split`` a list may ask for each part on its own (a UNION of one query per part), so
    that each part uses its own index — the unit's subtree the place path, a task of mine a
    semi-join from ``open_task`` — instead of one OR checked on every row. ``unit_tier`` is then
    the tier of the actor's unit as the caller read it (None: no unit or no tier): the tier and
    the unplaced cases become plain conditions, and a leader's escalation three parts."""
    if actor.type in INTERNAL_ACTORS or actor.has(RoleCode.AUDITOR):
        return [true()], []
    uid, dept = user_id(actor), actor.department_id
    tier = unit_tier if split else None
    units: list[ColumnElement[bool]] = []
    clauses: list[ColumnElement[bool]] = []
    unit = (and_(_known_tier_scope(tier), _known_place_scope(actor, tier)) if split
            else and_(_tier_scope(dept), _place_scope(actor)))
    if actor.has(*TIER_ROLES, RoleCode.LEADER):
        if actor.has(*TIER_ROLES):
            units.append(unit)
        elif split:
            units += [and_(unit, escalated) for escalated in _escalated_parts(split=True)]
        else:
            units.append(and_(unit, or_(*_escalated_parts())))
    if uid is not None:
        clauses.append(_task_scope(actor, uid, dept, split=split))
        # whoever completed a step keeps reading the case (masked as their role requires)
        clauses.append(_related(CaseParticipant.case_id, CaseParticipant.user_id == uid,
                                split=split))
        if actor.has(RoleCode.INTAKE_CLERK):
            clauses.append(_intake_scope(uid, dept, split=split))
            # a registration no clerk holds yet (a channel's push, a grid worker's report) is
            # for the clerks whose unit covers the case, to check and take it
            clauses.append(and_(unit, _related(OpenTask.case_id, _unheld_intake(), split=split)))
        if actor.has(RoleCode.MEDIATOR):
            clauses.append(Case.mediator_id == uid)
            # a co-mediator of one of its sessions (协助调解员) reads the case too
            clauses.append(_related(MediationSession.case_id,
                                    MediationSession.co_mediator_id == uid, split=split))
        if actor.has(RoleCode.GRID_WORKER):
            clauses.append(Case.owner_id == uid)      # the cases their own reports opened
    if actor.has(RoleCode.DEPT_HANDLER) and dept is not None:
        clauses.append(_related(WorkOrder.case_id, WorkOrder.department_id == dept,
                                split=split))
    return units, clauses


def _tier_scope(dept: int | None) -> ColumnElement[bool]:
    if dept is None:
        return false()
    my_tier = _unit_tier(dept)
    below = {Tier.DISTRICT: [Tier.DISTRICT, Tier.STREET, Tier.COMMUNITY],
             Tier.STREET: [Tier.STREET, Tier.COMMUNITY], Tier.COMMUNITY: [Tier.COMMUNITY]}
    options = [and_(my_tier == tier, Case.tier.in_([str(t) for t in tiers]))
               for tier, tiers in below.items()]
    options.append(and_(my_tier == Tier.DISTRICT, Case.tier.is_(None)))
    return or_(*options)


def _place_scope(actor: Actor) -> ColumnElement[bool]:
    """The subtree of the actor's unit's place; a case without a place belongs to the district
    level (units without a place or at a district)."""
    if actor.unit_path is None:
        return true()
    unlocated = and_(Case.place_path.is_(None), _unit_tier(actor.department_id) == Tier.DISTRICT)
    return or_(Case.place_path.startswith(actor.unit_path, autoescape=True), unlocated)


def _unit_tier(dept: int | None) -> Any:
    return select(Department.tier).where(Department.id == dept).scalar_subquery()


def _known_tier_scope(tier: str | None) -> ColumnElement[bool]:
    """``_tier_scope`` for a unit whose tier is known."""
    below = {Tier.DISTRICT: [Tier.DISTRICT, Tier.STREET, Tier.COMMUNITY],
             Tier.STREET: [Tier.STREET, Tier.COMMUNITY], Tier.COMMUNITY: [Tier.COMMUNITY]}
    if tier not in below:
        return false()
    within = Case.tier.in_([str(t) for t in below[Tier(tier)]])
    return or_(within, Case.tier.is_(None)) if tier == Tier.DISTRICT else within


def _known_place_scope(actor: Actor, tier: str | None) -> ColumnElement[bool]:
    """``_place_scope`` for a unit whose tier is known."""
    if actor.unit_path is None:
        return true()
    subtree = Case.place_path.startswith(actor.unit_path, autoescape=True)
    return or_(subtree, Case.place_path.is_(None)) if tier == Tier.DISTRICT else subtree


def unit_street(actor: Actor, unit_tier: str | None) -> str | None:
    """The street or township (the second id of a place path) that holds every case of the
    unit's parts of ``scope_parts(split=True)``, as text; None when they may lie elsewhere (a
    district-tier unit also sees the cases without a place, a unit without a place everything).
    The list names it so that PostgreSQL walks that street's index range."""
    ids = [part for part in (actor.unit_path or "").split("/") if part]
    if actor.unit_path is None or unit_tier in (None, Tier.DISTRICT) or len(ids) < 2:
        return None
    return ids[1]


def unit_place(actor: Actor, unit_tier: str | None) -> int | None:
    """The place whose subtree holds every case of the unit's parts of
    ``scope_parts(split=True)``; None when they may lie elsewhere (an auditor's or the system's
    scope, a district-tier unit's cases without a place, a unit without a place). The list ANDs
    it into its text query as a place fact (workflows/models/search_text.py)."""
    if actor.type in INTERNAL_ACTORS or actor.has(RoleCode.AUDITOR):
        return None
    ids = [part for part in (actor.unit_path or "").split("/") if part]
    if not ids or unit_tier in (None, Tier.DISTRICT):
        return None
    return int(ids[-1])


def _escalated_parts(*, split: bool = False) -> list[ColumnElement[bool]]:
    """Raised to 提级/包案, to orange or red, or waiting in the leadership lane (tier-scoped)."""
    # correlate only Case: the outer query may itself select notices or tasks (supervision page)
    notice = _related(SupervisionNotice.case_id, SupervisionNotice.level >= LEADER_LEVEL,
                      split=split)
    lane = _related(OpenTask.case_id, OpenTask.role == RoleCode.LEADER, split=split)
    return [notice, lane, Case.risk_level.in_(LEADER_RISKS)]


def _task_scope(actor: Actor, uid: int, dept: int | None, *,
                split: bool = False) -> ColumnElement[bool]:
    drawn = OpenTask.candidate_users.contains(f",{uid},")
    if split:   # on its own the part is a BitmapOr of indexes, the drawn tasks a partial one
        drawn = and_(OpenTask.candidate_users.is_not(None), drawn)
    mine = or_(OpenTask.assignee_id == uid, OpenTask.claimed_by == uid, drawn)
    roles = [str(r) for r in actor.roles]
    group = and_(OpenTask.assignee_id.is_(None), OpenTask.role.in_(roles),
                 OpenTask.department_id == dept) if dept is not None else false()
    return _related(OpenTask.case_id, or_(mine, group), split=split)


def _unheld_intake() -> ColumnElement[bool]:
    return and_(OpenTask.role == RoleCode.INTAKE_CLERK, OpenTask.department_id.is_(None),
                OpenTask.assignee_id.is_(None), OpenTask.claimed_by.is_(None))


def _related(case_id: Any, where: ColumnElement[bool], *, split: bool) -> ColumnElement[bool]:
    """Cases with a row of another table: a correlated EXISTS inside the one OR; on its own
    (``split``) an IN, which both databases ask once (SQLite would probe EXISTS per case)."""
    rows = select(case_id).where(where)
    if split:
        return Case.id.in_(rows)
    return exists(rows.where(case_id == Case.id).correlate(Case))


def _intake_scope(uid: int, dept: int | None, *, split: bool = False) -> ColumnElement[bool]:
    if dept is None:
        return Case.owner_id == uid
    if split:   # one IN: a probe of the owner index per user of the unit
        return Case.owner_id.in_(select(User.id).where(
            or_(User.department_id == dept, User.id == uid)))
    same_unit = select(User.id).where(User.department_id == dept)
    return or_(Case.owner_id == uid, Case.owner_id.in_(same_unit))


def visible_case_no(session: Session, actor: Actor, case_no: str) -> bool:
    """Whether the case with this code is in the actor's scope (its page would open), in one
    statement: where a form lands after its step moved the case."""
    query = select(Case.id).where(Case.case_no == case_no)
    if actor.type not in INTERNAL_ACTORS:
        query = query.where(visible_cases(actor))
    return session.scalar(query) is not None


# -- decisions ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseAccess:
    """How much of one case an actor sees."""

    visible: bool
    parties: bool = False      # masked party data and the narrative summary
    unmask: bool = False       # may reveal plaintext with a purpose
    co_only: bool = False      # only a co-department (协办) of this case

    @property
    def free_text(self) -> bool:
        """Free text of the case (order results, return reasons, documents): a co-department
        sees its own orders' texts only (masked data only)."""
        return self.parties and not self.co_only


_SCOPE_READ = "jiefen.scope_read"      # case id -> _ScopeRead, read with the case


@dataclass(frozen=True)
class _ScopeRead:
    actor: Actor
    in_scope: bool
    worked: bool
    co_orders_only: bool | None    # the department's orders are all 协办 (None: not asked)


@event.listens_for(Session, "after_transaction_end")
def _forget_co_orders(session: Session, _transaction: Any) -> None:
    # the orders read with a case hold for that transaction only: a savepoint rolled back, or a
    # later transaction, may see others
    _drop_co_orders(session, lambda _case_id: True)


@event.listens_for(Session, "after_flush")
def _co_orders_written(session: Session, _context: Any) -> None:
    # new, dirty and deleted still list what this flush wrote
    changed = {o.case_id for o in (*session.new, *session.dirty, *session.deleted)
               if isinstance(o, WorkOrder)}
    if changed:
        _drop_co_orders(session, changed.__contains__)


def _drop_co_orders(session: Session, which: Any) -> None:
    reads: dict[int, _ScopeRead] = session.info.get(_SCOPE_READ) or {}
    for case_id, read in list(reads.items()):
        if read.co_orders_only is not None and which(case_id):
            reads[case_id] = replace(read, co_orders_only=None)


def scope_columns(actor: Actor) -> list[ColumnElement[bool]]:
    """Whether the actor's scope holds the case, whether the actor worked on it and, for a
    handler who may be only a co-department, whether the department's orders on the case are
    all 协办, as columns to read with a ``Case`` (none for internal actors); ``note_scope``
    keeps them."""
    if actor.type in INTERNAL_ACTORS:
        return []
    return list(_scope_columns(scope_actor(actor)))


@lru_cache(maxsize=2048)
def _scope_columns(actor: Actor) -> tuple[ColumnElement[bool], ...]:
    # built once per user, roles and unit, like ``visible_cases``
    uid = user_id(actor)
    worked = (exists().where(CaseParticipant.case_id == Case.id, CaseParticipant.user_id == uid)
              if uid is not None else false())
    columns = [visible_cases(actor).label("in_scope"), worked.label("worked")]
    if _may_be_co_only(actor):
        dept = WorkOrder.department_id == actor.department_id
        co = exists().where(WorkOrder.case_id == Case.id, dept, WorkOrder.role == "co")
        other = exists().where(WorkOrder.case_id == Case.id, dept, WorkOrder.role != "co")
        columns.append(and_(co, ~other).label("co_orders_only"))
    return tuple(columns)


def note_scope(session: Session, actor: Actor, case: Case, values: tuple) -> None:
    """Keep what ``scope_columns`` read with the case for ``case_access`` and ``worked_on``."""
    if values:
        co = bool(values[2]) if len(values) > 2 else None
        session.info.setdefault(_SCOPE_READ, {})[case.id] = _ScopeRead(
            actor, bool(values[0]), bool(values[1]), co)


def _scope_read(session: Session, actor: Actor, case: Case) -> _ScopeRead | None:
    known = session.info.get(_SCOPE_READ, {}).get(case.id)
    return known if known is not None and known.actor is actor else None


def worked_on(session: Session, actor: Actor, case: Case) -> bool | None:
    """Whether the actor completed a step of this case, when read with the case (else None)."""
    known = _scope_read(session, actor, case)
    return known.worked if known is not None else None


def note_worked(session: Session, actor: Actor, case: Case) -> None:
    """The actor has now worked on the case (a later step in this session adds no second row)."""
    known = _scope_read(session, actor, case)
    if known is not None:
        session.info[_SCOPE_READ][case.id] = replace(known, worked=True)


def case_access(session: Session, actor: Actor, case: Case) -> CaseAccess:
    """Decide what the actor may see of this case (one query for scope, unless read with the
    case; one for work orders)."""
    if actor.type in INTERNAL_ACTORS:
        return CaseAccess(True, True, False)
    known = _scope_read(session, actor, case)
    if known is not None:
        visible: int | None = case.id if known.in_scope else None
    else:
        visible = session.scalar(select(Case.id).where(Case.id == case.id, visible_cases(actor)))
    if visible is None:
        return CaseAccess(False)
    if actor.has(RoleCode.AUDITOR):
        return CaseAccess(True, parties=True, unmask=False)
    co_only = _co_department_only(session, actor, case)
    full = not co_only and actor.has(*UNMASK_ROLES)
    return CaseAccess(True, parties=full or co_only, unmask=full, co_only=co_only)


def _may_be_co_only(actor: Actor) -> bool:
    """A department handler without a role that claims a case on its own."""
    return actor.has(RoleCode.DEPT_HANDLER) and actor.department_id is not None \
        and not actor.has(*TIER_ROLES, RoleCode.LEADER, RoleCode.MEDIATOR, RoleCode.INTAKE_CLERK)


def _co_department_only(session: Session, actor: Actor, case: Case) -> bool:
    """A handler whose department holds only 协办 orders and no other claim on the case."""
    if not _may_be_co_only(actor):
        return False
    lead = case.lead_department_id is not None and case.lead_department_id == actor.department_id
    known = _scope_read(session, actor, case)
    if known is not None and known.co_orders_only is not None \
            and not case_rows.known(session, case) and not _orders_pending(session, case):
        # read with the case in this transaction, and no order of it written since: a page
        # needs none of the case's rows for this
        return known.co_orders_only and not lead
    # the case's orders as this transaction knows them (a step reads them anyway)
    roles = {o.role for o in case_rows.orders(session, case)
             if o.department_id == actor.department_id}
    if not roles:
        return False
    return roles == {"co"} and not lead


def _orders_pending(session: Session, case: Case) -> bool:
    """An order of the case added, changed or deleted and not flushed yet."""
    return any(isinstance(o, WorkOrder) and o.case_id == case.id
               for o in (*session.new, *session.dirty, *session.deleted))


def require(actor: Actor, permission: Permission, case: Case | None = None, *,
            session: Session | None = None) -> CaseAccess | None:
    """Raise ``Denied`` unless the actor holds ``permission`` (on ``case`` when given)."""
    rule = _ROLE_RULES.get(permission)
    if rule is not None and actor.type not in INTERNAL_ACTORS and not actor.has(*rule):
        raise Denied(ErrorCode.NOT_PERMITTED, f"{permission}.role",
                     case_id=getattr(case, "id", None),
                     object_type="case" if case is not None else None,
                     object_id=getattr(case, "case_no", None))
    if case is None:
        return None
    session = session or object_session(case)
    assert session is not None, "a case checked by the policy is loaded in a session"
    access = case_access(session, actor, case)
    reason = _case_rule(permission, access)
    if reason:
        raise Denied(ErrorCode.NO_CASE_ACCESS, reason, case_id=case.id, object_type="case",
                     object_id=case.case_no)
    return access


def _case_rule(permission: Permission, access: CaseAccess) -> str | None:
    if not access.visible:
        return f"{permission}.scope"
    if permission is Permission.VIEW_PARTIES and not access.parties:
        return "view_parties.no_personal_data"
    if permission is Permission.UNMASK_PARTY and not access.unmask:
        return "unmask_party.not_allowed" if not access.co_only else "unmask_party.co_department"
    return None


CASE_READERS = tuple(r for r in RoleCode
                     if r not in (RoleCode.ADMIN, RoleCode.PROCESS_OWNER, RoleCode.EXPERT))
_ROLE_RULES: dict[Permission, tuple[str, ...]] = {
    Permission.LIST_CASES: CASE_READERS,
    Permission.VIEW_CASE: CASE_READERS,
    Permission.VIEW_PARTIES: (*UNMASK_ROLES, RoleCode.AUDITOR),
    Permission.UNMASK_PARTY: UNMASK_ROLES,
    Permission.REGISTER_CASE: (RoleCode.INTAKE_CLERK, RoleCode.TRIAGE_OFFICER),
    Permission.REPORT_FROM_GRID: (RoleCode.GRID_WORKER,),
    Permission.COMPLETE_TASK: (RoleCode.INTAKE_CLERK, RoleCode.TRIAGE_OFFICER, RoleCode.MEDIATOR, RoleCode.DEPT_HANDLER,
                               RoleCode.SUPERVISOR, RoleCode.LEADER),
    Permission.CLAIM_TASK: (RoleCode.INTAKE_CLERK, RoleCode.TRIAGE_OFFICER, RoleCode.MEDIATOR, RoleCode.DEPT_HANDLER,
                            RoleCode.SUPERVISOR, RoleCode.LEADER),
    Permission.REDISPATCH: (RoleCode.TRIAGE_OFFICER,),
    Permission.VIEW_AUDIT: (RoleCode.AUDITOR, RoleCode.SUPERVISOR),
    Permission.EXPORT_AUDIT: (RoleCode.AUDITOR,),
    Permission.RECORD_RATING: (RoleCode.INTAKE_CLERK, RoleCode.TRIAGE_OFFICER, RoleCode.SUPERVISOR),
    Permission.REPORT_RISK: (RoleCode.DEPT_HANDLER, RoleCode.MEDIATOR, RoleCode.TRIAGE_OFFICER, RoleCode.SUPERVISOR, RoleCode.LEADER,
                             RoleCode.INTAKE_CLERK),
    Permission.RECORD_PERFORMANCE: (RoleCode.MEDIATOR,),
    Permission.REQUEST_SLA_CHANGE: (RoleCode.DEPT_HANDLER, RoleCode.MEDIATOR),
    Permission.DECIDE_SLA_CHANGE: (RoleCode.SUPERVISOR, RoleCode.LEADER),
    Permission.REPLY_NOTICE: (RoleCode.DEPT_HANDLER,),
    Permission.RETRY_INCIDENT: (RoleCode.SUPERVISOR, RoleCode.LEADER),
    Permission.ISSUE_NOTICE: (RoleCode.SUPERVISOR,),
    Permission.REVIEW_RED_FLAG: (RoleCode.TRIAGE_OFFICER, RoleCode.SUPERVISOR),
    Permission.VIEW_ASSISTANT_ACCURACY: (RoleCode.SUPERVISOR, RoleCode.LEADER),
    Permission.INVITE_EXPERT: (RoleCode.MEDIATOR,),
    Permission.WRITE_EXPERT_OPINION: (RoleCode.EXPERT,),
}


# -- experts ------------------------------------------------------------------------------------
def invited_cases(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ``Case``: the cases this expert holds an invitation to (not withdrawn)."""
    uid = user_id(actor)
    if uid is None or not actor.has(RoleCode.EXPERT):
        return false()
    return exists(select(ExpertInvitation.id)
                  .join(Expert, Expert.id == ExpertInvitation.expert_id)
                  .where(ExpertInvitation.case_id == Case.id, Expert.user_id == uid,
                         ExpertInvitation.status != InvitationStatus.WITHDRAWN)
                  .correlate(Case))


def require_invited(session: Session, actor: Actor, case: Case) -> None:
    """Raise ``Denied`` unless the actor is an expert invited to this case."""
    require(actor, Permission.WRITE_EXPERT_OPINION)
    if session.scalar(select(Case.id).where(Case.id == case.id, invited_cases(actor))) is None:
        raise Denied(ErrorCode.NO_CASE_ACCESS, "expert_case.not_invited", case_id=case.id,
                     object_type="case", object_id=case.case_no)


# -- audited denials ----------------------------------------------------------------------------
def deny(services: Services, actor: Actor, error: NotPermitted, **context: Any) -> None:
    """Write an ``access_denied`` event in its own unit of work (the caller's one rolled back)
    and mark the error ``audited``: a denial passing several layers is written exactly once."""
    if getattr(error, "audited", False):
        return
    object_type = getattr(error, "object_type", None) or context.pop("object_type", None)
    object_id = getattr(error, "object_id", None) or context.pop("object_id", None)
    context.pop("object_type", None)
    context.pop("object_id", None)
    uow = services.new_uow()
    with uow:
        uow.audit.record(AuditAction.ACCESS_DENIED, actor, case=getattr(error, "case_id", None),
                         object_type=object_type, object_id=object_id, rule=error.rule,
                         decision="deny", actor_roles=sorted(actor.roles), ip=actor.ip,
                         session_hash=actor.session_hash, **context)
        uow.commit()
    error.audited = True


@contextmanager
def denials_audited(services: Services, actor: Actor, **context: Any) -> Iterator[None]:
    """Wrap a service's ``with uow:`` block: a NotPermitted leaving it is audited (unless an inner
    layer already did), then re-raised."""
    try:
        yield
    except NotPermitted as error:
        deny(services, actor, error, **context)
        raise


def actor_for_user(user: User, *, ip: str | None = None, session_hash: str | None = None,
                   type: str = "user") -> Actor:
    """The Actor of a signed-in user: every granted role, the user's department."""
    roles = frozenset(str(grant.role.code) for grant in user.roles)
    department, session = user.department, object_session(user)
    return Actor(type=type, id=str(user.id), username=user.username, roles=roles,
                 department_id=user.department_id,
                 department_code=department.code if department is not None else None,
                 unit_path=unit_path(session, department) if session is not None else None,
                 ip=ip, session_hash=session_hash)


def require_task(actor: Actor, task: OpenTask, case: Case, *,
                 permission: Permission = Permission.COMPLETE_TASK) -> None:
    """Raise ``Denied`` unless the actor may act on this open task (role, department, assignment).

    ``task`` is an ``OpenTask`` row, stored or built from the live instance.
    """
    if actor.type in INTERNAL_ACTORS:
        return
    require(actor, permission)
    uid = user_id(actor)
    rule = _task_rule(actor, uid, task)
    if rule:
        raise Denied(ErrorCode.NO_TASK_ACCESS, f"{permission}.{rule}", case_id=case.id,
                     object_type="task", object_id=task.task_id)


def _task_rule(actor: Actor, uid: int | None, task: OpenTask) -> str | None:
    if not task.role and task.assignee_id is None and not task.candidate_users:
        return "no_role_for_lane"          # default deny: a lane nobody is mapped to
    if task.role and not actor.has(task.role):
        return "role"                      # (a task drawn only for named users has no role)
    if task.assignee_id is not None and task.assignee_id != uid:
        return "assignee"
    if task.candidate_users and f",{uid}," not in task.candidate_users:
        return "candidate"           # drawn for named users (camunda:candidateUsers)
    # an assigned mediator decides whichever unit they belong to: the task data's department is
    # the lead's (e.g. 住建 leading, the mediator in a street committee)
    assigned_mediator = task.role == RoleCode.MEDIATOR and task.assignee_id is not None
    if not assigned_mediator and task.department_id is not None \
            and task.department_id != actor.department_id:
        return "department"
    if task.claimed_by is not None and task.claimed_by != uid:
        return "claimed"
    return None


def require_owner(actor: Actor, services: Services | None = None) -> None:
    """Process definitions are the process owners' (and the CLI's); anyone else is denied, and
    the denial is audited (``access_denied``) when ``services`` is given. Call it before opening
    a unit of work: the audit event is written in a transaction of its own."""
    if actor.type in ("system", "scheduler") or actor.has(RoleCode.PROCESS_OWNER):
        return
    error = Denied(ErrorCode.PROCESS_OWNER_ONLY, "manage_processes.role", object_type="process")
    if services is not None:
        deny(services, actor, error)
    raise error
