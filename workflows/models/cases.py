"""Cases, parties and work orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    false,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, new_uuid, utcnow
from workflows.models.search_text import SearchTerms, case_terms


class Channel(StrEnum):
    """Where a matter came in."""

    COUNTER = "counter"
    HOTLINE_12345 = "hotline_12345"
    GRID_APP = "grid_app"
    PORTAL = "portal"
    PETITION_TRANSFER = "petition_transfer"
    POLICE_110 = "police_110"
    IOT = "iot"                        # alarms from sensors (workflows/alarms)


class Category(StrEnum):
    """Dispute categories: the inputs routing.dmn knows (bpmn/README.md, section 3.1)."""

    NEIGHBOUR = "neighbour"
    PROPERTY = "property"
    PROPERTY_COLLECTIVE = "property_collective"
    FAMILY = "family"
    LABOUR = "labour"
    LABOUR_COLLECTIVE = "labour_collective"
    EXPROPRIATION = "expropriation"
    LAND_CONTRACT = "land_contract"
    LAND_RIGHTS = "land_rights"
    NOISE = "noise"
    PUBLIC_ORDER = "public_order"
    PETITION = "petition"
    OTHER = "other"


CATEGORY_LABELS: dict[str, str] = {
    Category.NEIGHBOUR: "邻里纠纷", Category.PROPERTY: "物业纠纷（单户）",
    Category.PROPERTY_COLLECTIVE: "物业纠纷（群体/电梯/安全）", Category.FAMILY: "婚姻家庭/赡养",
    Category.LABOUR: "劳资纠纷（个人）", Category.LABOUR_COLLECTIVE: "劳资/欠薪（群体或建筑领域）",
    Category.EXPROPRIATION: "房屋征收补偿", Category.LAND_CONTRACT: "土地承包/流转",
    Category.LAND_RIGHTS: "土地权属", Category.NOISE: "噪声/城市管理",
    Category.PUBLIC_ORDER: "高空抛物/治安", Category.PETITION: "信访转送事项", Category.OTHER: "其他",
}


class CaseStatus(StrEnum):
    """Case status projected from the workflow."""

    REGISTERED = "registered"
    TRIAGE = "triage"
    DISPATCHED = "dispatched"
    IN_HANDLING = "in_handling"
    IN_MEDIATION = "in_mediation"
    AWAITING_FEEDBACK = "awaiting_feedback"
    CLOSED = "closed"
    REOPENED = "reopened"


# Chinese words of codes in texts workflows writes itself (notices, documents, CLI); pages use
# web/labels.py, and tests/web/test_labels.py keeps the two in step.
STATUS_LABELS: dict[str, str] = {
    CaseStatus.REGISTERED: "已登记", CaseStatus.TRIAGE: "分流研判", CaseStatus.DISPATCHED: "已派单",
    CaseStatus.IN_HANDLING: "办理中", CaseStatus.IN_MEDIATION: "调解中",
    CaseStatus.AWAITING_FEEDBACK: "待回访评价", CaseStatus.CLOSED: "已结案",
    CaseStatus.REOPENED: "重新办理",
}


class Urgency(StrEnum):
    """紧急 / 一般: selects the 2 h or 24 h sign-off limit."""

    URGENT = "urgent"
    GENERAL = "general"


class RiskLevel(StrEnum):
    """The five risk colours, red highest."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"
    GREEN = "green"


RISK_LABELS: dict[str, str] = {RiskLevel.RED: "红色", RiskLevel.ORANGE: "橙色", RiskLevel.YELLOW: "黄色",
               RiskLevel.BLUE: "蓝色", RiskLevel.GREEN: "绿色"}


class Light(StrEnum):
    """Timeliness light of a work order."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class PartyRole(StrEnum):
    """Role of a party in a case."""

    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"


PARTY_ROLE_LABELS: dict[str, str] = {PartyRole.APPLICANT: "申请人", PartyRole.RESPONDENT: "被申请人",
                     PartyRole.THIRD_PARTY: "第三人"}


class ContactPreference(StrEnum):
    """How a party wants to hear from the centre; each one but NONE is a notification channel."""

    SMS = "sms"
    PHONE = "phone"
    EMAIL = "email"
    NONE = "none"


class WorkOrderRole(StrEnum):
    """牵头 (lead) or 协办 (co-department)."""

    LEAD = "lead"
    CO = "co"


class WorkOrderStatus(StrEnum):
    """Life cycle of a work order."""

    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REFUSED = "refused"
    CLOSED = "closed"          # the case closed while the order was still open


# The street or township a place path lies in: its second id, under the district root
# ("/1/2/14/…" -> "2"). Indexed with the registration order on PostgreSQL; the expression must
# read exactly like this for the planner to use the index.
STREET_KEY_SQL = "split_part(place_path, '/', 3)"


class Case(Base):
    """A dispute case (一案一码); table ``dispute_case`` because ``case`` is reserved."""

    __tablename__ = "dispute_case"
    __table_args__ = (
        Index("ix_dispute_case_status_lead_department_id", "status", "lead_department_id"),
        Index("ix_dispute_case_channel_channel_ref", "channel", "channel_ref"),
        # subtree scope and hotspot counts: place_path LIKE '/1/7/%'
        Index("ix_dispute_case_place_path", "place_path",
              postgresql_ops={"place_path": "text_pattern_ops"}),
        Index("ix_dispute_case_place_id_category_opened_at", "place_id", "category", "opened_at"),
        # the cockpit's period filters (received, closed in a date range)
        Index("ix_dispute_case_opened_at", "opened_at"),
        Index("ix_dispute_case_closed_at", "closed_at"),
        # the case list: newest registration first (keyset), and the free-text index
        Index("ix_dispute_case_registered_at_id", "registered_at", "id"),
        Index("ix_dispute_case_category_registered_at_id", "category", "registered_at", "id"),
        # a street's (township's) cases in registration order, checked without the table:
        # the case list of a unit below the district (``case_street``)
        Index("ix_dispute_case_street_registered_at_id", text(STREET_KEY_SQL), "registered_at",
              "id", postgresql_include=["tier", "place_path", "category", "status"],
              ).ddl_if(dialect="postgresql"),
        # the case list's own part "the cases I mediate"
        Index("ix_dispute_case_mediator_id", "mediator_id"),
        Index("ix_dispute_case_search_terms", "search_terms",
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_ref: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(16), default=Urgency.GENERAL)
    people_count: Mapped[int] = mapped_column(Integer, default=1)
    tier: Mapped[str | None] = mapped_column(String(16))
    risk_level: Mapped[str] = mapped_column(String(16), default=RiskLevel.BLUE)
    summary: Mapped[str] = mapped_column(String(200), default="")  # no personal data
    narrative_enc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default=CaseStatus.REGISTERED)
    stage: Mapped[str | None] = mapped_column(String(255))
    lead_department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"))
    mediator_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # 首接责任人: set at registration; NULL only between an API intake and the clerk's pickup.
    owner_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"),
                                                 index=True)
    workflow_instance_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("workflow_instance.id"), unique=True
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    second_complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    # opened_at is when a channel received the matter; registered_at when jiefen registered it
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_late_reason: Mapped[str | None] = mapped_column(String(200))
    place_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("place.id"))
    place_path: Mapped[str | None] = mapped_column(String(255))
    location_detail: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # yuan in dispute
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    version_id: Mapped[int] = mapped_column(Integer)
    # free-text terms of case_no, summary and location detail, and on PostgreSQL the category
    # and place path as facts (search_text.py); SQLite's FTS5
    # table case_search indexes them through triggers (migration 0015)
    search_terms: Mapped[str | None] = mapped_column(SearchTerms(), deferred=True)

    __mapper_args__ = {"version_id_col": version_id}

    party_links: Mapped[list[CaseParty]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    parties: Mapped[list[Party]] = relationship(secondary="case_party", viewonly=True)
    work_orders: Mapped[list[WorkOrder]] = relationship(
        back_populates="case", order_by="WorkOrder.id"
    )


SEARCHED_FIELDS = ("case_no", "summary", "location_detail", "category", "place_path")


def case_street() -> ColumnElement[str]:
    """``STREET_KEY_SQL`` of a case as an expression (constants inline, as the index has them)."""
    return func.split_part(Case.place_path, literal_column("'/'"), literal_column("3"))


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_search_terms(mapper: Any, connection: Any, case: Case) -> None:
    """The terms follow the searched fields and the facts in the same flush (hence the same
    transaction)."""
    state = sa_inspect(case)
    if state.key is None or any(state.attrs[name].history.has_changes()
                                for name in SEARCHED_FIELDS):
        case.search_terms = case_terms(case.case_no, case.summary, case.location_detail,
                                       case.category, case.place_path)


def rewrite_search_terms(session: Session, where: ColumnElement[bool], batch: int = 1000) -> None:
    """Write again the terms of the cases matching ``where`` whose facts changed without the
    ORM (a bulk ``UPDATE`` of their place paths), a batch of cases at a time."""
    table = cast(Table, Case.__table__)
    last = None
    while True:
        found = (select(Case.id, Case.case_no, Case.summary, Case.location_detail, Case.category,
                        Case.place_path).where(where).order_by(Case.id).limit(batch))
        rows = session.execute(found if last is None else found.where(Case.id > last)).all()
        if not rows:
            return
        session.execute(update(table).where(table.c.id == bindparam("case_id"))
                        .values(search_terms=bindparam("terms", type_=SearchTerms())),
                        [{"case_id": row.id, "terms": case_terms(*row[1:])} for row in rows])
        last = rows[-1].id


class PartyKind(StrEnum):
    """A natural person or an organisation (company, cooperative...)."""

    PERSON = "person"
    ORGANISATION = "organisation"


class CaseNumber(Base):
    """The last case code number handed out per year: the row is locked from allocation until the
    intake commits, so concurrent intakes queue for a number instead of colliding on one, and a
    rolled-back intake gives its number back (codes stay gap-free)."""

    __tablename__ = "case_number"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_no: Mapped[int] = mapped_column(Integer)


class Party(Base):
    """A person or organisation; personal fields are encrypted envelopes."""

    __tablename__ = "party"

    # Generated in Python (see the init listener) so the encryption AAD can include it before flush.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(16), default=PartyKind.PERSON)
    name_enc: Mapped[str] = mapped_column(Text)
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码, public data
    age: Mapped[int | None] = mapped_column(Integer)
    birth_date_enc: Mapped[str | None] = mapped_column(Text)
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    address_enc: Mapped[str | None] = mapped_column(Text)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    masked: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    contact_preference: Mapped[str] = mapped_column(String(16), default="phone")
    vulnerable: Mapped[list[str]] = mapped_column(JSONType, default=list)  # elderly/disabled/minor
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@event.listens_for(Party, "init")
def _party_id_at_construction(_target: Party, _args: tuple, kwargs: dict) -> None:
    kwargs.setdefault("id", new_uuid())


class CaseParty(Base):
    """Links a party to a case in a role."""

    __tablename__ = "case_party"
    __table_args__ = (
        UniqueConstraint("case_id", "party_id", "role", name="uq_case_party_case_id_party_id_role"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    party_id: Mapped[str] = mapped_column(String(36), ForeignKey("party.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    case: Mapped[Case] = relationship(back_populates="party_links")
    party: Mapped[Party] = relationship()


# Open work orders whose SLA light has never been computed (the partial index below and the sweep)
OPEN_ORDER_STATUSES = (WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED, WorkOrderStatus.IN_PROGRESS)
UNWATCHED_OPEN = ("NOT sla_watched AND status IN ("
                  + ", ".join(f"'{s.value}'" for s in OPEN_ORDER_STATUSES) + ")")


class WorkOrder(Base):
    """One department's order in one dispatch round."""

    __tablename__ = "work_order"
    __table_args__ = (
        UniqueConstraint(
            "case_id", "department_id", "round", name="uq_work_order_case_id_department_id_round"
        ),
        Index("ix_work_order_department_id_status", "department_id", "status"),
        Index("ix_work_order_dispatched_at", "dispatched_at"),
        Index("ix_work_order_task_id", "task_id"),
        # the SLA sweep's "open orders not watched yet": usually none, found without a scan
        Index("ix_work_order_unwatched", "case_id",
              postgresql_where=text(UNWATCHED_OPEN), sqlite_where=text(UNWATCHED_OPEN)),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    department_id: Mapped[int] = mapped_column(IdType, ForeignKey("department.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    role: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=WorkOrderStatus.DISPATCHED)
    task_id: Mapped[str | None] = mapped_column(String(36))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_summary: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)
    light: Mapped[str] = mapped_column(String(8), default=Light.GREEN)
    breach_count: Mapped[int] = mapped_column(Integer, default=0)
    # set when its SLA watch row (work_order_sla) is created
    sla_watched: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version_id: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version_id}

    case: Mapped[Case] = relationship(back_populates="work_orders")
