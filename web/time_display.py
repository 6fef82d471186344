"""Instants shown in the configured zone (Asia/Shanghai), for templates and data panels alike."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app


def localtime(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware UTC time (or ISO text) shown in the configured zone (Asia/Shanghai)."""
    if value is None or value == "":
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # a date-only ISO string or a naive value: show as is
        return moment.strftime(fmt)
    zone = ZoneInfo(current_app.config["JIEFEN_SETTINGS"].timezone)
    return moment.astimezone(zone).strftime(fmt)
