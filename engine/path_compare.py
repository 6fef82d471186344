"""Did a change alter this path? A dry run's outcome, kept as a regression example, compared with
the same run against a new draft.

The outcome is what a process owner checks by eye: the elements passed (with completed or
cancelled), the tasks waiting at the end, the timers armed, whether the process ended, and the
refused action if any. Times are left out: the example re-runs from its own start time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.simulate import SimulationResult


def outcome_of(result: SimulationResult) -> dict[str, Any]:
    """The JSON kept with an example."""
    error = result.error
    return {
        "path": [[step.element_id, step.outcome] for step in result.path],
        "ready": sorted({t["element_id"] for t in result.ready_tasks}),
        "armed": sorted({t["element_id"] for t in result.armed_timers}),
        "completed": result.completed,
        "error": ({"action": error.get("action"), "code": error.get("code"),
                   "element_id": error.get("element_id")} if error else None),
    }


@dataclass
class Difference:
    """One way the new run differs: ``code`` (path, ready, armed, completed, error_now,
    error_gone) and its parameters (element ids, step numbers)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[Difference]:
    """Every difference between two outcomes (empty: the change did not alter this path)."""
    out: list[Difference] = []
    old_error, new_error = before.get("error"), after.get("error")
    if new_error and not old_error:
        out.append(Difference("error_now", {"action": new_error.get("action"),
                                            "element_id": new_error.get("element_id")}))
    elif old_error and not new_error:
        out.append(Difference("error_gone", {"action": old_error.get("action")}))
    old_path = [tuple(step) for step in before.get("path", [])]
    new_path = [tuple(step) for step in after.get("path", [])]
    if old_path != new_path:
        step = next((i for i, (a, b) in enumerate(zip(old_path, new_path)) if a != b),
                    min(len(old_path), len(new_path)))
        out.append(Difference("path", {
            "step": step + 1,
            "before": _step(old_path, step), "after": _step(new_path, step),
            "missing": sorted({e for e, _ in old_path} - {e for e, _ in new_path}),
            "extra": sorted({e for e, _ in new_path} - {e for e, _ in old_path})}))
    for key in ("ready", "armed"):
        if sorted(before.get(key, [])) != sorted(after.get(key, [])):
            out.append(Difference(key, {"before": sorted(before.get(key, [])),
                                        "after": sorted(after.get(key, []))}))
    if bool(before.get("completed")) != bool(after.get("completed")):
        out.append(Difference("completed", {"before": bool(before.get("completed")),
                                            "after": bool(after.get("completed"))}))
    return out


def _step(path: list[tuple], index: int) -> list | None:
    return list(path[index]) if index < len(path) else None
