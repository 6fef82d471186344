"""Seed data: the login roles and the default departments with their responsibility lists.

Departments are editable data (the seeded list is a starting point); ``seed_reference_data``
only inserts what is missing, so an administrator's edits survive a second run.
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
    RoleSeed(RoleCode.GRID_WORKER, "网格员", "Grid worker"),
    RoleSeed(RoleCode.EXPERT, "专家", "Expert"),
)


@dataclass(frozen=True)
class DepartmentSeed:
    """A department or dispatch target; ``responsibilities`` are dispute category codes."""

    code: str
    name: str
    tier: str
    responsibilities: tuple[str, ...] = ()
    parent: str | None = None


DISTRICT, STREET, COMMUNITY = Tier.DISTRICT, Tier.STREET, Tier.COMMUNITY

# The 12 default departments; codes are the ones routing.dmn names.
DEFAULT_DEPARTMENTS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("GA", "区公安分局", DISTRICT, ("public_order", "emergency")),
    DepartmentSeed("SF", "区司法局", DISTRICT, ("mediation_guidance", "legal_aid")),
    DepartmentSeed("XF", "区信访局", DISTRICT, ("petition",)),
    DepartmentSeed("MZ", "区民政局", DISTRICT, ("elderly", "social_assistance", "family")),
    DepartmentSeed("RS", "区人社局", DISTRICT, ("labour", "labour_collective")),
    DepartmentSeed("ZJ", "区住建局（含房屋征收部门）", DISTRICT,
                   ("property", "property_collective", "expropriation")),
    DepartmentSeed("CG", "区城管执法局", DISTRICT, ("noise", "urban_management")),
    DepartmentSeed("SJ", "区市场监管局", DISTRICT, ("consumer", "elevator", "special_equipment")),
    DepartmentSeed("WJ", "区卫健委", DISTRICT, ("health",)),
    DepartmentSeed("ZR", "区自然资源和规划分局", DISTRICT, ("land_rights",)),
    DepartmentSeed("HJ", "区生态环境分局", DISTRICT, ("environment", "noise")),
    DepartmentSeed("FY", "区人民法院", DISTRICT, ("judicial_confirmation", "payment_order")),
)

# Other dispatch targets (not departments, but configurable the same way) with the codes the
# shipped routing table uses (bpmn/README.md). The district centre holds triage, supervision and
# leadership staff.
EXTRA_TARGETS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("ZZ", "区综治中心（矛盾纠纷调处中心）", DISTRICT, ("triage", "supervision", "other")),
    DepartmentSeed("JD", "街道办事处（属地）", STREET, ("other", "noise", "expropriation")),
    DepartmentSeed("XZ", "乡镇人民政府", STREET, ("land_rights",)),
    DepartmentSeed("SQ", "社区居（村）委会（网格）", COMMUNITY, ("public_order", "emergency")),
    DepartmentSeed("SQTJ", "社区（村）人民调解委员会", COMMUNITY, ("family", "neighbour")),
    DepartmentSeed("JDTJ", "街道（乡镇）人民调解委员会", STREET,
                   ("neighbour", "property", "family", "land_contract")),
    DepartmentSeed("JDLT", "街道（乡镇）劳动争议调解中心", STREET, ("labour",)),
    DepartmentSeed("WY", "物业服务企业", COMMUNITY, ("property", "neighbour")),
    DepartmentSeed("FL", "区妇联", DISTRICT, ("family",)),
    DepartmentSeed("GH", "区总工会", DISTRICT, ("labour", "labour_collective")),
    DepartmentSeed("JR", "金融监管部门 / 开户银行", DISTRICT, ("labour_collective",)),
    DepartmentSeed("NY", "区农业农村局", DISTRICT, ("land_contract",)),
    DepartmentSeed("JY", "区教育局", DISTRICT, ("campus_safety",)),
    DepartmentSeed("PG", "房地产价格评估专家委员会", DISTRICT, ("expropriation",)),
)

ALL_DEPARTMENTS = DEFAULT_DEPARTMENTS + EXTRA_TARGETS
# unit kinds no case is routed to: a grid station (网格工作站) holds a grid's grid workers
GRID_STATION = "WG"
OTHER_KINDS = (GRID_STATION,)
# the unit kinds (those the routing table speaks in, then the others), and every
# responsibility code the seeds use
UNIT_KINDS = tuple(seed.code for seed in ALL_DEPARTMENTS) + OTHER_KINDS
RESPONSIBILITIES = tuple(dict.fromkeys(code for seed in ALL_DEPARTMENTS
                                       for code in seed.responsibilities))


def seed_roles(session: Session) -> dict[str, Role]:
    """Insert the roles if missing; return them by code."""
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
