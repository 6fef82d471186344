"""``jiefen bench generate --cases N [--seed S]``: fill a database with a year of believable cases
in bulk (COPY on PostgreSQL, executemany on SQLite), for the list, search, inbox and cockpit
benchmarks. Run it on a database that holds a district (``jiefen demo`` loads 临江区).

What each generated case gets: a category, a grid or building of the district and the unit that
serves it at the case's tier; a status from registration to closed (older cases mostly closed,
with an outcome and a rating); one applicant (encrypted, blind-indexed and masked like intake
does); work orders for its lead unit (and co-units for some); one or two open tasks while it is
open, for the lead unit's handlers, the triage officers, a mediator or the leaders; a supervision
notice for some; and a short audit chain (case_opened, its orders, its close) whose HMACs verify.

What they do not get: a workflow state. They are cases as lists, searches, inboxes and the
cockpit see them; pages that run the process (a task form, the diagram, replay) are for cases
registered through the services. Their open tasks belong to one placeholder instance (status
``completed``), so no scheduler sweep touches them.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection, Engine

from engine.audit_chain import GENESIS, canonical_json, chain_hash, event_body
from engine.crypto import KeyPurpose, blind_index, field_aad, id_check_digit
from engine.models import AuditChainHead, AuditEvent, InstanceRow, ProcessVersion
from workflows.core.masking import mask_fields
from workflows.library.contract import OUTCOMES
from workflows.models import (
    Case,
    CaseNumber,
    CaseParty,
    CaseStatus,
    Category,
    Department,
    OpenTask,
    Party,
    Place,
    Role,
    RoleCode,
    User,
    UserRole,
    WorkOrder,
)
from workflows.models.scheduling import SupervisionNotice
from workflows.models.search_text import case_terms, fts_text, tsvector_literal
from workflows.rollups import maintain as rollups
from workflows.runtime.bootstrap import Services

CHUNK = 20_000
DAY = timedelta(days=1)
CHANNELS = ("hotline_12345", "counter", "grid_app", "portal", "police_110", "petition_transfer")
TIER_WEIGHTS = (("community", 45), ("street", 40), ("district", 15))
RISKS = (("blue", 55), ("green", 15), ("yellow", 18), ("orange", 9), ("red", 3))
OPEN_STATUSES = ((CaseStatus.REGISTERED, 5), (CaseStatus.TRIAGE, 10), (CaseStatus.DISPATCHED, 20),
                 (CaseStatus.IN_HANDLING, 35), (CaseStatus.IN_MEDIATION, 15),
                 (CaseStatus.AWAITING_FEEDBACK, 10), (CaseStatus.REOPENED, 5))
OUTCOME_WEIGHTS = dict(zip(OUTCOMES, (50, 20, 10, 5, 5, 7, 3), strict=True))
RATING_WEIGHTS = (("satisfied", 70), ("basically_satisfied", 18), ("dissatisfied", 7),
                  ("unrated", 5))
# category -> (summary templates, district unit kinds that lead it at the district tier)
TOPICS = {
    Category.LABOUR: (("{n}名木工被拖欠工资{m}万元", "保洁员讨要加班费", "外卖骑手工伤赔偿争议",
                       "装修工人工资被克扣"), ("RS",)),
    Category.LABOUR_COLLECTIVE: (("工地{n}名农民工集体讨薪", "{n}名木工和钢筋工欠薪{m}万元",
                                  "服装厂停产拖欠{n}名工人工资"), ("RS", "ZJ")),
    Category.NEIGHBOUR: (("楼上漏水殃及楼下", "邻居占用公共楼道堆物", "宠物犬夜间吠叫扰邻",
                          "相邻院墙通行纠纷"), ("SF",)),
    Category.PROPERTY: (("业主拒交物业费", "车位被占用协商未果", "装修噪声与物业管理争议"),
                        ("ZJ", "WY")),
    Category.PROPERTY_COLLECTIVE: (("电梯停运{n}户业主联名投诉", "小区消防通道被堵", "二次供水水质问题"),
                                   ("ZJ", "WY")),
    Category.FAMILY: (("老人赡养费分担纠纷", "离婚后子女探视争议", "遗产分割家庭矛盾"), ("SF", "MZ")),
    Category.EXPROPRIATION: (("房屋征收补偿标准异议", "征收评估结果复核", "安置房分配争议"), ("ZJ", "XF")),
    Category.LAND_CONTRACT: (("土地流转租金拖欠", "承包地边界纠纷"), ("NY",)),
    Category.LAND_RIGHTS: (("宅基地权属争议", "林地确权纠纷"), ("ZR",)),
    Category.NOISE: (("夜间施工噪声扰民", "广场舞音响噪声", "餐馆油烟与噪声投诉"), ("CG", "HJ")),
    Category.PUBLIC_ORDER: (("高空抛物伤及车辆", "商铺门前纠纷引发推搡"), ("GA",)),
    Category.PETITION: (("信访转送：拆迁遗留问题", "信访转送：社保待遇核定"), ("XF",)),
    Category.OTHER: (("消费维权与商家协商未果", "共享单车乱停放引发争执"), ("SF",)),
}
DETAILS = ("东门", "3号门岗", "地下车库", "北侧围墙", "1单元", "临街商铺", "", "", "")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
TASKS = {  # status -> (bpmn id, name, lane, role, whose)
    CaseStatus.REGISTERED: ("register", "登记核对", "受理员", RoleCode.INTAKE_CLERK, "owner"),
    CaseStatus.TRIAGE: ("triage", "分流研判", "分流研判员", RoleCode.TRIAGE_OFFICER, "group"),
    CaseStatus.DISPATCHED: ("sign_off", "签收或退单", "承办人", RoleCode.DEPT_HANDLER, "lead"),
    CaseStatus.IN_HANDLING: ("handle", "办理并反馈", "承办人", RoleCode.DEPT_HANDLER, "lead"),
    CaseStatus.IN_MEDIATION: ("mediate", "组织调解", "调解员", RoleCode.MEDIATOR, "mediator"),
    CaseStatus.AWAITING_FEEDBACK: ("return_visit", "电话回访", "分流研判员",
                                   RoleCode.TRIAGE_OFFICER, "group"),
    CaseStatus.REOPENED: ("handle", "办理并反馈", "承办人", RoleCode.DEPT_HANDLER, "lead"),
}
LOCAL_KINDS = ("SQTJ", "JDTJ", "ZZ", "SQ", "WY", "JD", "XZ", "GA", "JDLT")
LADDER = ((0, "reminder", "催办：签收即将超时"), (1, "supervision", "督办单：办理超期"),
          (2, "upgrade", "挂牌督办"), (3, "leadership", "领导包案"))


def _pick(rng: random.Random, weighted: Iterable[tuple[object, int]]):
    items = list(weighted)
    return rng.choices([i for i, _ in items], [w for _, w in items])[0]


@dataclass
class District:
    """What the generator draws from: places, the units serving them and the staff."""

    places: list[tuple[int, str, str]]                  # (id, path, level) of grids and buildings
    unit_at: dict[tuple[int, str], int]                 # (place id, kind) -> unit id
    place_ids: dict[str, int]                           # path -> id of each ancestor
    district_units: dict[str, int]                      # kind -> district-level unit id
    staff: dict[tuple[str, int | None], list[int]]      # (role, unit id) -> user ids
    anyone: dict[str, list[int]]                        # role -> user ids
    instance_id: int = 0


@dataclass
class Counters:
    """Next ids, and the last case number per year (stepping by ``step`` from ``first`` when
    several workers share the years)."""

    ids: dict[str, int] = field(default_factory=dict)
    case_no: dict[int, int] = field(default_factory=dict)
    step: int = 1
    first: int = 1

    def next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def number(self, year: int) -> int:
        last = self.case_no.get(year)
        self.case_no[year] = self.first if last is None else last + self.step
        return self.case_no[year]


def load_district(conn: Connection) -> District:
    """Read places, units and users; refuse a database without a district."""
    places = conn.execute(select(Place.id, Place.path, Place.level, Place.code)
                          .where(Place.active.is_(True))).all()
    leaves = [(p.id, p.path, p.level) for p in places if p.level in ("grid", "building")]
    if not leaves:
        raise SystemExit("no grids or buildings: load a district first (jiefen demo)")
    units = conn.execute(select(Department.id, Department.kind, Department.place_id,
                                Department.tier)).all()
    by_place = {(u.place_id, u.kind): u.id for u in units if u.place_id is not None}
    district_units = {u.kind: u.id for u in units if u.tier == "district" and u.kind}
    unit_at: dict[tuple[int, str], int] = {}
    ids = {p.path: p.id for p in places}
    for leaf, path, _level in leaves:
        ancestors = [int(x) for x in path.strip("/").split("/")]
        for kind in LOCAL_KINDS:
            for ancestor in reversed(ancestors):
                if (ancestor, kind) in by_place:
                    unit_at[(leaf, kind)] = by_place[(ancestor, kind)]
                    break
    staff: dict[tuple[str, int | None], list[int]] = {}
    anyone: dict[str, list[int]] = {}
    for user_id, role, unit in conn.execute(
            select(User.id, Role.code, User.department_id)
            .join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)):
        staff.setdefault((role, unit), []).append(user_id)
        anyone.setdefault(role, []).append(user_id)
    return District(leaves, unit_at, ids, district_units, staff, anyone)


def _placeholder_instance(conn: Connection, now: datetime) -> int:
    """One finished instance that every generated open task points at (open_task needs one)."""
    version = conn.execute(select(ProcessVersion.id, ProcessVersion.process_id,
                                  ProcessVersion.library_version)
                           .where(ProcessVersion.process_id == "general_dispute")
                           .order_by(ProcessVersion.id.desc())).first()
    if version is None:
        raise SystemExit("no general_dispute process deployed: load a district first (jiefen demo)")
    table: Table = InstanceRow.__table__  # type: ignore[assignment]
    found = conn.execute(select(table.c.id).where(table.c.process_id == "generated",
                                                  table.c.status == "completed")).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(table.insert().values(
        process_version_id=version.id, process_id="generated", state="{}",
        serializer_version="-", library_version=version.library_version, status="completed",
        version_id=1, created_at=now, updated_at=now).returning(table.c.id)).scalar_one())


class Generator:
    """Builds the rows of one chunk of cases at a time (pure Python, no database)."""

    def __init__(self, services: Services, district: District, counters: Counters,
                 rng: random.Random, now: datetime):
        self.services, self.d, self.c, self.rng, self.now = services, district, counters, rng, now
        self.tz = ZoneInfo(services.settings.timezone)
        keyring = services.keyring
        self.audit_key_id = keyring.primary_id(KeyPurpose.AUDIT_HMAC)
        self.audit_key = keyring.key(KeyPurpose.AUDIT_HMAC, self.audit_key_id)
        self.rows: dict[str, list[tuple]] = {}
        # applicants come back: about one person per eight cases (and encryption is the costly
        # part of a generated row)
        self.people: list[str] = []
        self.max_people = 1000
        self.history = False     # closed cases only (the demo's year: no generated open tasks)

    # -- one case ---------------------------------------------------------------------------
    def case(self) -> None:
        rng, now = self.rng, self.now
        registered = now - timedelta(seconds=rng.uniform(3 * 86400 if self.history else 3600,
                                                         365 * 86400))
        opened = registered - timedelta(minutes=rng.uniform(0, 240))
        age = (now - registered) / DAY
        closed = self.history or rng.random() < min(0.95, age / 60 * 0.9)
        status = CaseStatus.CLOSED if closed else _pick(rng, OPEN_STATUSES)
        category = rng.choice(list(TOPICS))
        templates, district_kinds = TOPICS[category]
        summary = rng.choice(templates).format(n=rng.randint(3, 60), m=rng.randint(2, 90))
        place_id, path, _level = rng.choice(self.d.places)
        tier = _pick(rng, TIER_WEIGHTS)
        lead = self._lead(place_id, tier, district_kinds)
        year = registered.astimezone(self.tz).year
        case_id = self.c.next("dispute_case")
        case_no = f"JF-{year}-{self.c.number(year):06d}"
        detail = rng.choice(DETAILS) or None
        risk = _pick(rng, RISKS)
        outcome = _pick(rng, OUTCOME_WEIGHTS.items()) if closed else None
        rating = _pick(rng, RATING_WEIGHTS) if outcome in ("R1", "R2", "R3") else None
        closed_at = min(now, registered + timedelta(days=rng.uniform(1, 40))) if closed else None
        mediator = rng.choice(self.d.anyone.get("mediator", [None])) \
            if status == CaseStatus.IN_MEDIATION or (closed and rng.random() < 0.3) else None
        owner = self._one("intake_clerk", self.d.unit_at.get((place_id, "ZZ")))
        terms = case_terms(case_no, summary, detail, category, path)
        self._add("dispute_case", (
            case_id, case_no, rng.choice(CHANNELS), category, "urgent" if risk in ("orange", "red")
            else "general", rng.randint(1, 60), tier, risk, summary, status,
            TASKS[status][1] if status in TASKS else None, lead, mediator, owner, False,
            1 if status == CaseStatus.REOPENED else 0, opened, registered, place_id, path, detail,
            rng.randint(1, 900) * 1000 if category in (Category.LABOUR,
                                                     Category.LABOUR_COLLECTIVE) else None,
            closed_at, outcome, rating, 1,
            tsvector_literal(terms) if self.pg else fts_text(terms)))
        self._party(case_id, registered)
        events = [("case_opened", "case", case_no, {"category": category, "channel": "generated",
                                                    "tier": tier, "status": "registered"},
                   registered)]
        orders = self._orders(case_id, place_id, status, lead, registered, closed_at, events)
        if status in TASKS:
            self._tasks(case_id, status, lead, mediator, owner, orders, registered, risk)
        if rng.random() < 0.06 and orders:
            self._notice(case_id, orders[0], registered)
        if closed_at is not None:
            events.append(("case_updated", "case", case_no,
                           {"change": "closed", "outcome": outcome, "rating": rating}, closed_at))
        self._chain(case_id, events)

    @property
    def pg(self) -> bool:
        return self.services.db.dialect.name == "postgresql"

    def _lead(self, place_id: int, tier: str, district_kinds: tuple[str, ...]) -> int | None:
        if tier == "community":
            return self.d.unit_at.get((place_id, "SQTJ")) or self.d.unit_at.get((place_id, "JDTJ"))
        if tier == "street":
            return self.d.unit_at.get((place_id, "JDTJ")) or self.d.unit_at.get((place_id, "ZZ"))
        for kind in district_kinds:
            if kind in self.d.district_units:
                return self.d.district_units[kind]
        return next(iter(self.d.district_units.values()), None)

    def _one(self, role: str, unit: int | None) -> int | None:
        people = self.d.staff.get((role, unit)) or self.d.anyone.get(role)
        return self.rng.choice(people) if people else None

    def _party(self, case_id: int, at: datetime) -> None:
        rng = self.rng
        if len(self.people) >= self.max_people:
            party_id = rng.choice(self.people)
        else:
            party_id = self._person(at)
            self.people.append(party_id)
        self._add("case_party", (self.c.next("case_party"), case_id, party_id, "applicant"))

    def _person(self, at: datetime) -> str:
        rng, keyring, cipher = self.rng, self.services.keyring, self.services.cipher
        party_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
        first17 = f"{rng.choice((110101, 310101, 330106, 420102, 510104))}" \
                  f"{born:%Y%m%d}{rng.randint(0, 999):03d}"
        values = {"name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN)),
                  "id_number": first17 + id_check_digit(first17),
                  "phone": f"1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}"}
        encrypted = {name: cipher.encrypt(value, aad=field_aad("party", f"{name}_enc", party_id))
                     for name, value in values.items()}
        self._add("party", (
            party_id, "person", encrypted["name"], encrypted["id_number"], encrypted["phone"],
            blind_index(keyring, "id_number", values["id_number"]),
            blind_index(keyring, "phone", values["phone"]),
            json.dumps(mask_fields(values), ensure_ascii=False), "sms", "[]", at, at))
        return party_id

    def _orders(self, case_id: int, place_id: int, status: str, lead: int | None,
                registered: datetime,
                closed_at: datetime | None, events: list) -> list[tuple[int, int]]:
        if lead is None or status in (CaseStatus.REGISTERED, CaseStatus.TRIAGE):
            return []
        rng = self.rng
        units = [(lead, "lead")]
        if rng.random() < 0.35:   # co-units: the place's own units and district departments
            local = [self.d.unit_at[(place_id, k)] for k in LOCAL_KINDS
                     if (place_id, k) in self.d.unit_at]
            extra = rng.sample(local, k=min(len(local), rng.randint(1, 2)))
            extra += rng.sample(list(self.d.district_units.values()), k=rng.randint(0, 1))
            units += [(u, "co") for u in dict.fromkeys(extra) if u != lead]
        out = []
        for unit, role in units:
            order_id = self.c.next("work_order")
            dispatched = registered + timedelta(hours=rng.uniform(1, 30))
            due = dispatched + timedelta(days=rng.choice((1, 3, 5, 15)))
            done = closed_at is not None
            state = "done" if done else ("dispatched" if status == CaseStatus.DISPATCHED
                                         else rng.choice(("accepted", "in_progress")))
            late = not done and due < self.now
            light = rng.choice(("orange", "red")) if late else _pick(
                rng, (("green", 85), ("yellow", 10), ("orange", 4), ("red", 1)))
            self._add("work_order", (
                order_id, case_id, unit, 1, role, state, dispatched,
                None if state == "dispatched" else dispatched + timedelta(hours=rng.uniform(1, 20)),
                due, closed_at if done else None, light, 1 if light == "red" else 0, 1))
            events.append(("work_order_changed", "work_order", str(order_id),
                           {"before": None, "after": "dispatched", "department_id": unit,
                            "role": role, "round": 1}, dispatched))
            out.append((order_id, unit))
        return out

    def _tasks(self, case_id: int, status: str, lead: int | None, mediator: int | None,
               owner: int | None, orders: list[tuple[int, int]], registered: datetime,
               risk: str) -> None:
        bpmn_id, name, lane, role, whose = TASKS[CaseStatus(status)]
        rng = self.rng
        targets: list[tuple[int | None, int | None, int | None]] = []   # (dept, assignee, order)
        if whose == "lead":
            targets = [(unit, None, order) for order, unit in orders] or [(lead, None, None)]
        elif whose == "mediator":
            targets = [(None, mediator, None)]
        elif whose == "owner":
            targets = [(None, owner, None)]
        else:
            targets = [(None, None, None)]
        if risk == "red":
            self._task(case_id, "leader_take_charge", "领导包案", "领导", RoleCode.LEADER,
                       None, None, None, registered)
        for dept, assignee, order in targets:
            self._task(case_id, bpmn_id, name, lane, role, dept, assignee, order,
                       registered + timedelta(hours=rng.uniform(1, 48)))

    def _task(self, case_id, bpmn_id, name, lane, role, dept, assignee, order, ready) -> None:
        due = ready + timedelta(days=self.rng.choice((1, 2, 3, 5, 15)))
        self._add("open_task", (
            self.c.next("open_task"), self.d.instance_id, case_id,
            str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), bpmn_id, name, lane,
            str(role), dept, assignee, None, order, ready, due))

    def _notice(self, case_id: int, order: tuple[int, int], registered: datetime) -> None:
        level, kind, reason = self.rng.choice(LADDER)
        issued = min(self.now, registered + timedelta(days=self.rng.uniform(1, 10)))
        notice_id = self.c.next("supervision_notice")
        self._add("supervision_notice", (
            notice_id, case_id, order[0], order[1], level, kind, reason, "work_order:response",
            issued, "scheduler", issued, issued + timedelta(days=3) if level >= 1 else None,
            f"generated:{notice_id}"))

    def _chain(self, case_id: int, events: list) -> None:
        chain, prev = f"case:{case_id}", GENESIS
        for seq, (action, object_type, object_id, payload, at) in enumerate(events, 1):
            header = {"chain_key": chain, "seq": seq, "case_id": case_id, "occurred_at": at,
                      "actor_type": "system", "actor_id": "generator", "actor_role": None,
                      "actor_department_id": None, "action": action, "object_type": object_type,
                      "object_id": object_id, "key_id": self.audit_key_id}
            body = canonical_json(payload)
            digest = chain_hash(self.audit_key, prev, event_body(header, body))
            self._add("audit_event", (
                self.c.next("audit_event"), chain, seq, case_id, at, "system", "generator", None,
                None, action, object_type, object_id, body, prev, digest, self.audit_key_id))
            prev = digest
        self._add("audit_chain_head", (chain, len(events), prev))

    def _add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)

    def take(self) -> dict[str, list[tuple]]:
        rows, self.rows = self.rows, {}
        return rows


COLUMNS = {
    "dispute_case": ("id", "case_no", "channel", "category", "urgency", "people_count", "tier",
                     "risk_level", "summary", "status", "stage", "lead_department_id",
                     "mediator_id", "owner_id", "second_complaint", "reopened_count", "opened_at",
                     "registered_at", "place_id", "place_path", "location_detail", "amount",
                     "closed_at", "outcome", "satisfaction", "version_id", "search_terms"),
    "party": ("id", "kind", "name_enc", "id_number_enc", "phone_enc", "id_number_bidx",
              "phone_bidx", "masked", "contact_preference", "vulnerable", "created_at",
              "updated_at"),
    "case_party": ("id", "case_id", "party_id", "role"),
    "work_order": ("id", "case_id", "department_id", "round", "role", "status", "dispatched_at",
                   "accepted_at", "due_at", "completed_at", "light", "breach_count", "version_id"),
    "open_task": ("id", "instance_id", "case_id", "task_id", "bpmn_id", "name", "lane", "role",
                  "department_id", "assignee_id", "claimed_by", "work_order_id", "ready_at",
                  "due_at"),
    "supervision_notice": ("id", "case_id", "work_order_id", "department_id", "level", "kind",
                           "reason", "source", "issued_at", "issued_by", "limit_due_at",
                           "reply_due_at", "dedupe_key"),
    "audit_event": ("id", "chain_key", "seq", "case_id", "occurred_at", "actor_type", "actor_id",
                    "actor_role", "actor_department_id", "action", "object_type", "object_id",
                    "payload", "prev_hash", "hash", "key_id"),
    "audit_chain_head": ("chain_key", "last_seq", "last_hash"),
}
ORDER = ("dispute_case", "party", "case_party", "work_order", "open_task", "supervision_notice",
         "audit_event", "audit_chain_head")
ID_TABLES = ("dispute_case", "case_party", "work_order", "open_task", "supervision_notice",
             "audit_event")
MODELS = {"dispute_case": Case, "case_party": CaseParty, "work_order": WorkOrder,
          "open_task": OpenTask, "supervision_notice": SupervisionNotice,
          "audit_event": AuditEvent, "party": Party, "audit_chain_head": AuditChainHead}


def _write_pg(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # the rows are consistent by construction: no per-row foreign-key triggers for a bulk load
    cursor.execute("SET LOCAL session_replication_role = replica")
    for table in ORDER:
        if not rows.get(table):
            continue
        with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows[table]:
                copy.write_row(row)



def _write_sqlite(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    for table in ORDER:
        if rows.get(table):
            model_table: Table = MODELS[table].__table__  # type: ignore[assignment]
            conn.execute(model_table.insert(), [dict(zip(COLUMNS[table], row, strict=True))
                                                for row in rows[table]])


def _fix_sqlite_types(rows: dict[str, list[tuple]]) -> None:
    """Core inserts on SQLite go through the column types: JSON columns want Python values."""
    rows["party"] = [(*r[:7], json.loads(r[7]), r[8], [], *r[10:]) for r in rows.get("party", [])]


def generate(services: Services, cases: int, seed: int = 1, workers: int = 1,
             echo: Callable[[str], None] = print, history: bool = False) -> dict[str, float]:
    """Add ``cases`` generated cases; returns figures (seconds, rows) for the report.

    ``history``: closed cases only (the demo's year of history; no open tasks appear in
    anyone's inbox). ``workers`` > 1 (PostgreSQL) builds and writes in that many processes: each gets its own
    id ranges and every ``workers``-th case number of a year, so they never collide."""
    started = time.perf_counter()
    now = services.clock.now().astimezone(UTC)
    engine = _engine(services)
    pg = engine.dialect.name == "postgresql"
    workers = max(1, workers) if pg else 1
    with engine.begin() as conn:
        district = load_district(conn)
        district.instance_id = _placeholder_instance(conn, now)
        base = {t: int(conn.execute(select(func.coalesce(func.max(
            MODELS[t].__table__.c.id), 0))).scalar_one()) for t in ID_TABLES}
        numbers = {row.year: row.last_no for row in conn.execute(
            select(CaseNumber.year, CaseNumber.last_no))}
        for code in conn.execute(select(Case.case_no)).scalars():
            year, number = int(code[3:7]), int(code[8:])
            numbers[year] = max(numbers.get(year, 0), number)
    parts = [cases // workers + (1 if k < cases % workers else 0) for k in range(workers)]
    stride = max(parts) * ROWS_PER_CASE
    jobs = [Part(k, workers, parts[k], seed + k, {t: base[t] + k * stride for t in ID_TABLES},
                 numbers, history) for k in range(workers)]
    if workers == 1:
        results = [_run_part(services, district, now, jobs[0], echo)]
    else:
        engine.dispose(close=False)   # children open their own
        context = multiprocessing.get_context("fork")   # fork: nothing is pickled but results
        queue = context.Queue()
        children = [context.Process(target=_run_part_quiet,
                                    args=(services, district, now, job, queue)) for job in jobs]
        for child in children:
            child.start()
        results = [queue.get() for _ in children]
        for child in children:
            child.join()
        if any(child.exitcode != 0 for child in children) or None in results:
            raise SystemExit("a worker failed; the cases it wrote before stay (see above)")
    last_numbers: dict[int, int] = dict(numbers)
    for result in results:
        for year, number in result.items():
            last_numbers[year] = max(last_numbers.get(year, 0), number)
    with engine.begin() as conn:
        _finish(conn, last_numbers, pg)
    written = time.perf_counter() - started
    # the cockpit's rollups: the same rebuild as `jiefen cockpit rebuild`
    with services.new_uow() as uow:
        rollups.rebuild(uow.session, services.settings.timezone, services.clock.now())
        uow.commit()
    echo(f"  rollups rebuilt in {time.perf_counter() - started - written:.1f} s")
    return {"cases": cases, "seconds": time.perf_counter() - started, "written": written}


ROWS_PER_CASE = 16   # the most rows of one table a case can add (audit events), with room


@dataclass
class Part:
    """One worker's share: how many cases, its seed, first ids and case-number stepping."""

    index: int
    step: int
    cases: int
    seed: int
    ids: dict[str, int]
    numbers: dict[int, int]
    history: bool = False


def _run_part_quiet(services: Services, district: District, now: datetime, job: Part,
                    queue) -> None:
    _engine(services).dispose(close=False)  # a forked child's own pool
    try:
        queue.put(_run_part(services, district, now, job,
                            _flushed if job.index == 0 else (lambda _line: None)))
    except BaseException:
        queue.put(None)
        raise


def _run_part(services: Services, district: District, now: datetime, job: Part,
              echo: Callable[[str], None]) -> dict[int, int]:
    counters = Counters(dict(job.ids), {y: n + job.index + 1 - job.step
                                        for y, n in job.numbers.items()},
                        step=job.step, first=job.index + 1)
    generator = Generator(services, district, counters, random.Random(job.seed), now)
    generator.max_people = max(100, job.cases // 8)
    generator.history = job.history
    engine, pg = _engine(services), services.db.dialect.name == "postgresql"
    started, done, building, writing = time.perf_counter(), 0, 0.0, 0.0
    while done < job.cases:
        size = min(CHUNK, job.cases - done)
        mark = time.perf_counter()
        for _ in range(size):
            generator.case()
        rows = generator.take()
        building += time.perf_counter() - mark
        mark = time.perf_counter()
        with engine.begin() as conn:
            if pg:
                _write_pg(conn, rows)
            else:
                _fix_sqlite_types(rows)
                _write_sqlite(conn, rows)
        writing += time.perf_counter() - mark
        done += size
        echo(f"  {done * job.step:>9,} cases  {time.perf_counter() - started:7.1f} s "
             f"(rows built {building:.1f} s, written {writing:.1f} s)")
    return counters.case_no


def _finish(conn: Connection, numbers: dict[int, int], pg: bool) -> None:
    """Case-code counters past the generated codes, sequences past the generated ids, and fresh
    planner statistics."""
    table: Table = CaseNumber.__table__  # type: ignore[assignment]
    for year, last in numbers.items():
        if conn.execute(table.update().where(table.c.year == year)
                        .values(last_no=func.max(table.c.last_no, last) if not pg
                                else func.greatest(table.c.last_no, last))).rowcount == 0:
            conn.execute(table.insert().values(year=year, last_no=last))
    if pg:
        for name in ID_TABLES:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                              f"(SELECT max(id) FROM {name}))"))
        conn.execute(text("ANALYZE"))
    else:
        conn.execute(text("ANALYZE"))


def _engine(services: Services) -> Engine:
    if not isinstance(services.db, Engine):
        raise SystemExit("the generator needs an engine, not a connection")
    return services.db


def _flushed(line: str) -> None:
    sys.stdout.write(line + "\n")   # a child's stdout may be a file
    sys.stdout.flush()
