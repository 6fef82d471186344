"""The warning rule set: each rule's switch, thresholds, window and categories.

A rule without a stored ``warning_rule`` row runs on its defaults (the hotspot rule's from
``Settings``: JIEFEN_HOTSPOT_REPORTS / _WINDOW_DAYS / _BY_CATEGORY). The administrator changes a
rule on the rules page; every change is audited ``warning_rule_changed`` with each changed value
from/to. Once the hotspot rule is saved, its N and M apply to every category it watches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access.policy import Denied, denials_audited
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.core.settings import Settings
from workflows.models import Category, RiskLevel, RoleCode, WarningKind, WarningRule
from workflows.runtime.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Param:
    """One threshold of a rule: an integer or a decimal within bounds, or one of ``options``."""

    name: str
    low: float = 1
    high: float = 1000
    decimal: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    code: str
    params: tuple[Param, ...]
    defaults: dict[str, Any]
    categories: tuple[str, ...] = ()          # the default categories (empty: every one)


RISK_ORDER = (RiskLevel.GREEN, RiskLevel.BLUE, RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED)
RISK_RANK = {str(level): rank for rank, level in enumerate(RISK_ORDER)}

SPECS: dict[str, RuleSpec] = {spec.code: spec for spec in (
    # N reports in M days at a building or grid (counted at intake, workflows/early_warning/hotspots.py)
    RuleSpec(WarningKind.HOTSPOT, (Param("reports", 2, 100), Param("days", 1, 366)),
             {"reports": 3, "days": 30}),
    # one person (by the blind index of their ID number or phone) applying in N matters in M days
    RuleSpec(WarningKind.REPEAT_PERSON, (Param("matters", 2, 100), Param("days", 1, 366)),
             {"matters": 3, "days": 90}),
    # a case with at least N people, or K cases in M days against one respondent organisation
    RuleSpec(WarningKind.LARGE_GROUP, (Param("people", 2, 10000), Param("org_cases", 2, 100),
                                       Param("days", 1, 366)),
             {"people": 5, "org_cases": 3, "days": 30}),
    # this week's count of a category at a place >= factor x its mean over the weeks before
    RuleSpec(WarningKind.TREND_SPIKE, (Param("factor", 1, 20, decimal=True),
                                       Param("min_count", 1, 1000), Param("weeks", 2, 52)),
             {"factor": 2.0, "min_count": 5, "weeks": 8}),
    # a case's risk colour rose to at least this colour
    RuleSpec(WarningKind.RISK_RISE, (Param("min_level", options=tuple(
        str(level) for level in RISK_ORDER[2:])),), {"min_level": str(RiskLevel.YELLOW)}),
    # open wage cases in the days before the Spring Festival holiday
    RuleSpec(WarningKind.WAGE_ARREARS, (Param("days_before", 1, 120),), {"days_before": 30},
             categories=(Category.LABOUR, Category.LABOUR_COLLECTIVE)),
)}


@dataclass(frozen=True)
class RuleConfig:
    """A rule as it runs now."""

    code: str
    enabled: bool
    params: dict[str, Any]
    categories: tuple[str, ...] = ()
    stored: bool = False                      # False: the defaults
    updated_at: Any = None
    updated_by: str | None = None
    spec: RuleSpec = field(default=None, repr=False)  # type: ignore[assignment]

    def watches(self, category: str | None) -> bool:
        return self.enabled and (not self.categories or (category or "") in self.categories)

    def value(self, name: str) -> Any:
        return self.params.get(name, self.spec.defaults[name])


def _defaults(spec: RuleSpec, settings: Settings) -> dict[str, Any]:
    if spec.code == WarningKind.HOTSPOT:
        return {"reports": settings.hotspot_reports, "days": settings.hotspot_window_days}
    return dict(spec.defaults)


def load_rules(session: Session, settings: Settings) -> dict[str, RuleConfig]:
    """Every rule, stored settings over defaults (one query)."""
    rows = {row.code: row for row in session.scalars(select(WarningRule))}
    out = {}
    for code, spec in SPECS.items():
        row = rows.get(code)
        params = _defaults(spec, settings)
        if row is None:
            out[code] = RuleConfig(code, True, params, spec.categories, spec=spec)
            continue
        params.update({k: v for k, v in (row.params or {}).items() if k in params})
        out[code] = RuleConfig(code, row.enabled, params, tuple(row.categories or ()), True,
                               row.updated_at, row.updated_by, spec=spec)
    return out


def hotspot_rule(session: Session, settings: Settings,
                 category: str) -> tuple[int, timedelta] | None:
    """(reports, window) that raise a hotspot warning for ``category`` (None: never)."""
    row = session.get(WarningRule, str(WarningKind.HOTSPOT))
    if row is None:
        return settings.hotspot_rule(category)
    rule = load_rules(session, settings)[WarningKind.HOTSPOT]
    if not rule.watches(category):
        return None
    return int(rule.value("reports")), timedelta(days=int(rule.value("days")))


def update_rule(uow: UnitOfWork, actor: Actor, code: str, *, enabled: bool,
                params: dict[str, str], categories: list[str]) -> RuleConfig:
    """Save a rule (administrators only); field errors name the parameter; audited from/to."""
    with denials_audited(uow.services, actor, object_type="warning_rule", object_id=code), uow:
        if not actor.has(RoleCode.ADMIN):
            raise Denied(ErrorCode.ADMIN_ONLY, "warning_rule.admin", object_type="warning_rule",
                         object_id=code)
        spec = SPECS.get(code)
        if spec is None:
            raise NotFound(ErrorCode.NOT_FOUND, rule=code)
        clean, errors = _clean(spec, params)
        known = {str(c) for c in Category}
        if any(c not in known for c in categories):
            errors["categories"] = FieldError(FieldCode.NOT_AN_OPTION)
        if errors:
            raise InvalidInput(errors)
        before = load_rules(uow.session, uow.services.settings)[code]
        chosen = sorted(set(categories))
        row = uow.session.get(WarningRule, code) or WarningRule(code=code)
        row.enabled, row.params, row.categories = enabled, clean, chosen
        row.updated_at, row.updated_by = uow.clock.now(), actor.username or str(actor.id)
        uow.session.add(row)
        changes: dict[str, Any] = {}
        if before.enabled != enabled:
            changes["enabled"] = {"from": before.enabled, "to": enabled}
        for name, value in clean.items():
            if before.params.get(name) != value:
                changes[name] = {"from": before.params.get(name), "to": value}
        if sorted(before.categories) != chosen:
            changes["categories"] = {"from": sorted(before.categories), "to": chosen}
        uow.audit.record(AuditAction.WARNING_RULE_CHANGED, actor, object_type="warning_rule",
                         object_id=code, changes=changes)
        uow.commit()
        return load_rules(uow.session, uow.services.settings)[code]


def _clean(spec: RuleSpec, raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, FieldError]]:
    clean: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}
    for param in spec.params:
        text = str(raw.get(param.name, "")).strip()
        if not text:
            errors[param.name] = FieldError(FieldCode.REQUIRED)
            continue
        if param.options:
            if text not in param.options:
                errors[param.name] = FieldError(FieldCode.NOT_AN_OPTION)
            else:
                clean[param.name] = text
            continue
        try:
            value: float = float(text) if param.decimal else int(text)
        except ValueError:
            errors[param.name] = FieldError(ErrorCode.NOT_NUMBER if param.decimal
                                            else FieldCode.NOT_INTEGER)
            continue
        if value < param.low:
            errors[param.name] = FieldError(FieldCode.TOO_SMALL, {"limit": _num(param.low)})
        elif value > param.high:
            errors[param.name] = FieldError(FieldCode.TOO_LARGE, {"limit": _num(param.high)})
        else:
            clean[param.name] = round(value, 2) if param.decimal else value
    return clean, errors


def _num(value: float) -> int | float:
    return int(value) if value == int(value) else value
