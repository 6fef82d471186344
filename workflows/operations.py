"""Service-task operations registered by name; they run inside the unit of work's transaction."""

from __future__ import annotations

from typing import Any

from engine.operations import OperationRegistry


def notify(context: Any, task_data: dict, *, template: str, to: str = "applicant") -> dict:
    """Queue a notification in the outbox (delivered after commit by the outbox job)."""
    if context is None:  # dry runs and deploy smoke runs have no unit of work
        return {"queued": False}
    case = context.case
    case_key = getattr(case, "id", None) or task_data.get("case_id")
    stamp = context.uow.clock.now().strftime("%Y%m%dT%H")
    message = context.uow.outbox.add(
        channel="file", recipient_type="role" if to != "applicant" else "party",
        recipient_id=to, template=template,
        params={"case_no": task_data.get("case_no"), "to": to},
        dedupe_key=f"case:{case_key}:{template}:{to}:{stamp}", case=case)
    return {"queued": message is not None}


def build_registry() -> OperationRegistry:
    """Every operation the shipped processes may name."""
    return OperationRegistry({"notify": notify})
