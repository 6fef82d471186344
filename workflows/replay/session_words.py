"""The case history's line for the events of a mediation session (booked, moved, cancelled,
attendance, a co-mediator, an expert invited), in words from their codes and instants only:
supervisors read these lines too, so nothing a person typed goes in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from workflows.audit.log import AuditAction
from workflows.models import PARTY_ROLE_LABELS
from workflows.models.words import ATTENDANCE_WORDS, SESSION_MODE_WORDS

LOCAL = ZoneInfo("Asia/Shanghai")


def _slot(facts: Mapping) -> str:
    """``现场调解 2025-03-04 09:00—10:30`` from a booking's recorded facts."""
    try:
        starts, ends = (datetime.fromisoformat(str(facts[k])).astimezone(LOCAL)
                        for k in ("starts_at", "ends_at"))
    except (KeyError, ValueError):
        return SESSION_MODE_WORDS.get(str(facts.get("mode")), "")
    mode = SESSION_MODE_WORDS.get(str(facts.get("mode")), "")
    return f"{mode} {starts:%Y-%m-%d %H:%M}—{ends:%H:%M}".strip()


def _attendance(p: Mapping) -> str:
    sides = p.get("attendance") or {}
    return "，".join(f"{PARTY_ROLE_LABELS.get(side, side)}"
                    f"{ATTENDANCE_WORDS.get(str(how), str(how))}"
                    for side, how in sides.items()) or "—"


def _moved(p: Mapping) -> str:
    return f"改为 {_slot(p.get('after') or {})}（原 {_slot(p.get('before') or {})}）"


# (payload, unit names) -> the line, as the history's other coded events
SESSION_EVENTS: dict[str, Callable[[dict, Mapping[str, str]], str]] = {
    AuditAction.SESSION_BOOKED: lambda p, _units: _slot(p),
    AuditAction.SESSION_RESCHEDULED: lambda p, _units: _moved(p),
    AuditAction.SESSION_CANCELLED: lambda p, _units: f"取消 {_slot(p)}",
    AuditAction.SESSION_ATTENDED: lambda p, _units: _attendance(p),
    AuditAction.SESSION_CO_MEDIATOR: lambda p, _units:
        "指定协助调解员" if p.get("after") is not None else "不再设协助调解员",
    AuditAction.EXPERT_INVITED: lambda p, _units:
        "存在利害关系，仍邀请并说明理由" if p.get("invited_despite_conflicts")
        else "已查利害关系，未发现",
}
