"""The district itself: the tree of places, and early warnings raised at a place."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
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
    """Life cycle of an early warning."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


# Chinese words of the states in texts workflows writes itself (CLI); pages use web/labels.py.
WARNING_STATE_LABELS: dict[str, str] = {WarningState.OPEN: "待处置",
                                        WarningState.CONFIRMED: "已确认",
                                        WarningState.DISMISSED: "已排除"}


class WarningKind(StrEnum):
    """What raised a warning."""

    HOTSPOT = "hotspot"   # many reports of one category at one place


class EarlyWarning(Base):
    """A warning raised once per place, category and window."""

    __tablename__ = "early_warning"
    __table_args__ = (
        Index("ix_early_warning_place_id_category_window_start", "place_id", "category",
              "window_start"),
        Index("ix_early_warning_state_raised_at", "state", "raised_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=WarningKind.HOTSPOT)
    place_id: Mapped[int] = mapped_column(IdType, ForeignKey("place.id"))
    category: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    case_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default=WarningState.OPEN)
