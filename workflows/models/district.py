"""The district itself: the tree of places, and early warnings raised at a place."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow


class PlaceLevel(StrEnum):
    """Levels of the place tree, top to bottom (a street and a township are one level)."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"        # 街道
    TOWNSHIP = "township"    # 乡镇
    COMMUNITY = "community"  # 社区
    VILLAGE = "village"      # 村
    GRID = "grid"            # 网格
    BUILDING = "building"    # 楼栋 / 标准地址


# Depth of each level; a child must sit strictly deeper than its parent.
LEVEL_DEPTH: dict[str, int] = {
    PlaceLevel.CITY: 0, PlaceLevel.DISTRICT: 1, PlaceLevel.STREET: 2, PlaceLevel.TOWNSHIP: 2,
    PlaceLevel.COMMUNITY: 3, PlaceLevel.VILLAGE: 3, PlaceLevel.GRID: 4, PlaceLevel.BUILDING: 5,
}

# Where a case may be located (the intake form offers these).
CASE_LEVELS = (PlaceLevel.GRID, PlaceLevel.BUILDING)


class Place(Base):
    """A node of the place tree; ``path`` holds the ids from the root ("/1/7/42/")."""

    __tablename__ = "place"
    __table_args__ = (
        Index("ix_place_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        Index("ix_place_address_key", "address_key"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("place.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    # Standard address of a building, and its normalised form for exact matching.
    address: Mapped[str | None] = mapped_column(String(200))
    address_key: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this place (itself included)."""
        return path_ids(self.path)


def path_ids(path: str | None) -> list[int]:
    """The ids in a place path, root first."""
    return [int(part) for part in (path or "").split("/") if part]


class WarningState(StrEnum):
    """Life cycle of an early warning: a supervisor checks it and decides."""

    OPEN = "open"                  # 待核实
    CONFIRMED = "confirmed"        # 已核实
    FALSE_ALARM = "false_alarm"    # 误报


DECIDED_STATES = (WarningState.CONFIRMED, WarningState.FALSE_ALARM)

# Chinese words of the states in texts workflows writes itself (CLI); pages use web/labels.py.
WARNING_STATE_LABELS: dict[str, str] = {WarningState.OPEN: "待核实",
                                        WarningState.CONFIRMED: "已核实",
                                        WarningState.FALSE_ALARM: "误报"}


class WarningKind(StrEnum):
    """The rule that raised a warning (docs/warnings.md)."""

    HOTSPOT = "hotspot"              # many reports of one category at one place
    REPEAT_PERSON = "repeat_person"  # one person, many matters
    LARGE_GROUP = "large_group"      # many people in one case, or one respondent organisation
    TREND_SPIKE = "trend_spike"      # a category's week far above its usual weeks at a place
    RISK_RISE = "risk_rise"          # a case's risk colour rose
    WAGE_ARREARS = "wage_arrears"    # wage arrears before the Spring Festival


WARNING_KIND_LABELS: dict[str, str] = {
    WarningKind.HOTSPOT: "同类纠纷多发", WarningKind.REPEAT_PERSON: "同一人反复投诉",
    WarningKind.LARGE_GROUP: "群体性风险", WarningKind.TREND_SPIKE: "类型激增",
    WarningKind.RISK_RISE: "风险等级上升", WarningKind.WAGE_ARREARS: "节前欠薪",
}


class EarlyWarning(Base):
    """A warning raised once per rule, subject and window.

    ``subject_key`` names what the rule watched (a place and category, a person by the blind
    index of their identifiers, a case, a respondent organisation); it never holds clear personal
    data. ``place_id`` is None when the subject has no place (seen district-wide only)."""

    __tablename__ = "early_warning"
    __table_args__ = (
        Index("ix_early_warning_place_id_category_window_start", "place_id", "category",
              "window_start"),
        Index("ix_early_warning_state_raised_at", "state", "raised_at"),
        Index("ix_early_warning_raised_at", "raised_at"),
        # the case page: the warnings about one case (subject "case:<id>"), with its place's
        Index("ix_early_warning_subject_key", "subject_key"),
        UniqueConstraint("kind", "subject_key", "window_start",
                         name="uq_early_warning_kind_subject_key_window_start"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=WarningKind.HOTSPOT)
    place_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("place.id"))
    category: Mapped[str | None] = mapped_column(String(64))
    subject_key: Mapped[str | None] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(Integer)
    case_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # what the rule measured (threshold, days, weekly mean, colours...): numbers and codes only
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default=WarningState.OPEN)
    decided_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))


class WarningRule(Base):
    """The administrator's settings of one warning rule; a rule without a row runs on its
    defaults (workflows/early_warning/rules.py)."""

    __tablename__ = "warning_rule"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)   # empty: every one
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
