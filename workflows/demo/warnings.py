"""The demo's early warnings: three noise reports at one building of 东湖街道 (a hotspot at
intake), then the hourly rules run once at the demo's "now" (the big cases C02, C03 and C06 are
large-group warnings, the colours triage raised are risk-rise warnings), and the district's
supervisor confirms one, so the warnings page shows open and decided warnings of several rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.clock import FrozenClock
from workflows.cases.parties import PartyInput
from workflows.early_warning.decide import decide_warning
from workflows.early_warning.evaluate import evaluate
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import WARNING_KIND_LABELS, EarlyWarning, Place, WarningKind
from workflows.runtime.bootstrap import Services

BUILDING = "990102003001W02B02"          # 东湖街道锦苑小区4栋
NOISE = ((12, "13812347701"), (6, "13812347702"), (1, "13812347703"))   # days ago, phone


def load_warnings(services: Services, now: datetime, clerk, supervisor) -> list[str]:
    """Raise the demo's warnings; one line per warning (rule, place or case, state)."""
    with services.session_factory() as session:
        building = session.scalars(select(Place.id).where(Place.code == BUILDING)).one()
    for days, phone in NOISE:
        local = replace(services, clock=FrozenClock(now - timedelta(days=days)))
        submit_intake(local.new_uow(), clerk, IntakeRequest(
            channel="hotline_12345", category="noise", summary="夜间装修噪声扰民",
            description="锦苑小区4栋有住户夜间十点后仍在装修施工，噪声扰民。",
            parties=[PartyInput(name="居民", phone=phone, contact_preference="sms")],
            place_id=building))
    at_now = replace(services, clock=FrozenClock(now))
    evaluate(at_now, now)
    with services.session_factory() as session:
        group = session.scalars(select(EarlyWarning.id).where(
            EarlyWarning.kind == WarningKind.LARGE_GROUP).order_by(EarlyWarning.id)).first()
    if group is not None:
        decide_warning(at_now.new_uow(), supervisor, group, decision="confirmed",
                       note="已核实：人数属实，已通知属地街道做好稳控")
    with services.session_factory() as session:
        rows = session.scalars(select(EarlyWarning).order_by(EarlyWarning.id)).all()
        return [f"{WARNING_KIND_LABELS.get(w.kind, w.kind)}  {w.count}  {w.state}" for w in rows]
