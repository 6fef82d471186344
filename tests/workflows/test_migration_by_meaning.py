"""A guidance-text edit is safe to migrate, and the migrated case keeps its armed timer and its
deadline: the timer fires at the same moment as if nothing had been deployed."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.process_fixtures import PROCESSES, complete_step, deploy_version, owner, start_case
from tests.workflows.test_migration import _open_tasks, _row, _version_of
from workflows.processes.case_migration import migrate_case, preview_migration
from workflows.processes.deploy import deploy_bundle
from workflows.scheduler.timers import sweep

DUE_15D = datetime.fromisoformat("2025-03-18T01:00:00+00:00")
OWNER = owner()


def _guidance_edit() -> dict[str, str]:
    text = (PROCESSES / "mediation_v1.bpmn").read_text(encoding="utf-8")
    old = "请在 15 日内组织调解。"
    assert old in text
    return {"mediation.bpmn": text.replace(old, "请在 15 日内组织调解，先电话约定时间并告知双方权利义务。")}


def test_guidance_edit_migrates_as_safe_and_the_timer_fires_at_the_same_time(services, clock):
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-G")
    assert complete_step(services, "JF-G", "register", {"category": "labour"}) == ["mediate"]
    assert _open_tasks(services, "JF-G") == [("mediate", DUE_15D)]

    clock.advance(days=3)
    [v2] = deploy_bundle(services.new_uow(), OWNER, _guidance_edit(), note="调解说明补充")
    [planned] = preview_migration(services.new_uow(), OWNER, "mediation", v2.version).cases
    assert planned.safe and planned.plan.wording == ["mediate"] and planned.plan.blocking == []
    outcome = migrate_case(services.new_uow(), OWNER, "JF-G", v2.version, "说明文字修改")
    assert outcome.migrated and not outcome.forced and _version_of(services, "JF-G") == 2

    # the deadline and the armed timer are those of before the migration
    assert _row(services, "JF-G").due_at == DUE_15D
    assert _open_tasks(services, "JF-G") == [("mediate", DUE_15D)]

    # a minute before the deadline nothing fires; just after it the timer fires
    clock.set(DUE_15D - timedelta(minutes=1))
    sweep(services)
    assert _open_tasks(services, "JF-G") == [("mediate", DUE_15D)]
    clock.set(DUE_15D + timedelta(seconds=1))
    sweep(services)
    assert [bpmn_id for bpmn_id, _due in _open_tasks(services, "JF-G")] == ["refer_arbitration"]
