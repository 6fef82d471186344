"""Seed data: the nine roles and the default departments with their responsibility lists.

Departments are editable data (domain.md §3 [proposal]); ``seed_reference_data`` only inserts
what is missing, so an administrator's edits survive a second run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Department, Role, RoleCode, Tier


@dataclass(frozen=True)
class RoleSeed:
    """A login role with its display names; ``lane`` is the BPMN lane name it acts in."""

    code: str
    name_zh: str
    name_en: str


ROLES: tuple[RoleSeed, ...] = (
    RoleSeed(RoleCode.INTAKE_CLERK, "受理员", "Intake clerk"),
    RoleSeed(RoleCode.TRIAGE_OFFICER, "分流研判员", "Triage officer"),
    RoleSeed(RoleCode.MEDIATOR, "调解员", "Mediator"),
    RoleSeed(RoleCode.DEPT_HANDLER, "承办人", "Department handler"),
    RoleSeed(RoleCode.SUPERVISOR, "督办员", "Supervisor"),
    RoleSeed(RoleCode.LEADER, "领导", "Leader"),
    RoleSeed(RoleCode.PROCESS_OWNER, "流程管理员", "Process owner"),
    RoleSeed(RoleCode.AUDITOR, "审计员", "Auditor"),
    RoleSeed(RoleCode.ADMIN, "系统管理员", "Administrator"),
)


@dataclass(frozen=True)
class DepartmentSeed:
    """A department or dispatch target; ``responsibilities`` are dispute category codes."""

    code: str
    name: str
    tier: str
    responsibilities: tuple[str, ...] = ()
    parent: str | None = None


D, S, C = Tier.DISTRICT, Tier.STREET, Tier.COMMUNITY

# The 12 default departments of domain.md §3, in its order.
DEFAULT_DEPARTMENTS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("GA", "区公安分局", D, ("public_order", "high_altitude", "emergency")),
    DepartmentSeed("SF", "区司法局", D, ("mediation_guidance", "legal_aid")),
    DepartmentSeed("XF", "区信访局", D, ("petition",)),
    DepartmentSeed("MZ", "区民政局", D, ("elderly", "social_assistance")),
    DepartmentSeed("RS", "区人社局", D, ("labour", "wage_arrears")),
    DepartmentSeed("ZJ", "区住建局", D, ("property", "property_collective", "expropriation")),
    DepartmentSeed("CG", "区城管执法局", D, ("urban_management", "noise")),
    DepartmentSeed("SJ", "区市场监管局", D, ("consumer", "elevator", "special_equipment")),
    DepartmentSeed("WJ", "区卫健委", D, ("health",)),
    DepartmentSeed("ZR", "区自然资源和规划分局", D, ("land_rights",)),
    DepartmentSeed("HJ", "区生态环境分局", D, ("environment", "noise")),
    DepartmentSeed("FY", "区人民法院", D, ("judicial_confirmation", "payment_order")),
)

# Other dispatch targets (domain.md §3 "not departments, also configurable") and the units the
# sample cases C01-C06 name. The district centre holds triage, supervision and leadership staff.
EXTRA_TARGETS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("ZZZX", "区综治中心", D, ("triage", "supervision")),
    DepartmentSeed("QLD", "区领导（包案）", D, ("leadership",)),
    DepartmentSeed("FWZS", "区房屋征收部门", D, ("expropriation",), parent="ZJ"),
    DepartmentSeed("PGZJ", "评估专家委员会", D, ("valuation_appraisal",)),
    DepartmentSeed("JRJG", "金融监管/开户银行", D, ("wage_account",)),
    DepartmentSeed("ZGH", "区总工会", D, ("labour",)),
    DepartmentSeed("FL", "区妇联", D, ("family",)),
    DepartmentSeed("NY", "区农业农村局", D, ("land_contract",)),
    DepartmentSeed("JY", "区教育局", D, ("campus_safety",)),
    DepartmentSeed("DHJD", "东湖街道", S, ("street_order",)),
    DepartmentSeed("XCJD", "西城街道", S, ("street_order",)),
    DepartmentSeed("XGJD", "新港街道", S, ("street_order",)),
    DepartmentSeed("DGJD", "东关街道", S, ("street_order", "expropriation")),
    DepartmentSeed("DH_TWH", "东湖街道人民调解委员会", S,
                   ("neighbour", "property", "family"), parent="DHJD"),
    DepartmentSeed("XC_TWH", "西城街道人民调解委员会", S,
                   ("neighbour", "property", "family"), parent="XCJD"),
    DepartmentSeed("XG_LDTJ", "新港街道劳动争议调解中心", S, ("labour",), parent="XGJD"),
    DepartmentSeed("SQ_TJD", "社区矛盾调解点", C, ("neighbour", "family")),
    DepartmentSeed("WY_JY", "锦苑物业服务中心", C, ("property",)),
    DepartmentSeed("WY_HA", "恒安物业服务有限公司", C, ("property",)),
)

ALL_DEPARTMENTS = DEFAULT_DEPARTMENTS + EXTRA_TARGETS


def seed_roles(session: Session) -> dict[str, Role]:
    """Insert the nine roles if missing; return them by code."""
    existing = {r.code: r for r in session.scalars(select(Role))}
    for seed in ROLES:
        if seed.code not in existing:
            role = Role(code=str(seed.code), name_zh=seed.name_zh, name_en=seed.name_en)
            session.add(role)
            existing[seed.code] = role
    session.flush()
    return existing


def seed_departments(session: Session,
                     seeds: tuple[DepartmentSeed, ...] = ALL_DEPARTMENTS) -> dict[str, Department]:
    """Insert missing departments (parents resolved by code); return all by code."""
    existing = {d.code: d for d in session.scalars(select(Department))}
    for seed in seeds:
        if seed.code not in existing:
            dept = Department(code=seed.code, name=seed.name, tier=str(seed.tier),
                              responsibilities=list(seed.responsibilities), active=True)
            session.add(dept)
            existing[seed.code] = dept
    session.flush()
    for seed in seeds:
        if seed.parent and existing[seed.code].parent_id is None and seed.parent in existing:
            existing[seed.code].parent_id = existing[seed.parent].id
    session.flush()
    return existing


def seed_reference_data(session: Session) -> tuple[dict[str, Role], dict[str, Department]]:
    """Roles and departments, idempotent."""
    return seed_roles(session), seed_departments(session)


def department_ids(session: Session, codes: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Department ids by code for the given codes (unknown codes are left out)."""
    if not codes:
        return {}
    rows = session.execute(select(Department.code, Department.id)
                           .where(Department.code.in_(list(codes))))
    return {row[0]: row[1] for row in rows}


def responsible_departments(session: Session, category: str) -> list[Department]:
    """Active departments whose responsibility list names the category (部门职责边界清单)."""
    rows = session.scalars(select(Department).where(Department.active.is_(True))
                           .order_by(Department.id))
    return [d for d in rows if category in (d.responsibilities or [])]
