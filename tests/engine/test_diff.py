"""Element-level diff between two versions: what a process owner sees in the CLI and on the diagram."""

from __future__ import annotations

from engine.diff import diff_bundles
from tests.process_fixtures import PROCESSES


def _files(*names: str) -> dict[str, str]:
    """Fixture versions by logical name: 'routing_v2' -> {'routing.dmn': text}."""
    out = {}
    for name in names:
        path = next(PROCESSES.glob(f"{name}.*"))
        out[name.split("_v")[0] + path.suffix] = path.read_text(encoding="utf-8")
    return out


def _ids(changes) -> list[str]:
    return [c.element_id for c in changes]


def test_added_step_shows_the_new_task_and_its_flow_and_rewired_neighbours():
    diff = diff_bundles(_files("mediation_v1"), _files("mediation_v2"))
    assert _ids(diff.added) == ["f_agreement", "record_agreement"]
    assert diff.removed == []
    changed = {c.element_id: c.changes for c in diff.changed}
    assert changed == {"end_done": ["incoming"], "f_mediate": ["target"], "mediate": ["outgoing"]}
    added = {c.element_id: c for c in diff.added}
    assert added["record_agreement"].kind == "userTask"
    assert added["record_agreement"].name == "制作调解协议书"


def test_the_reverse_diff_reports_removals():
    diff = diff_bundles(_files("mediation_v2"), _files("mediation_v1"))
    assert _ids(diff.removed) == ["f_agreement", "record_agreement"]
    assert diff.added == []


def test_form_change_is_named_as_form():
    diff = diff_bundles(_files("mediation_v2"), _files("mediation_v3"))
    assert [(c.element_id, c.changes) for c in diff.changed] == [("register", ["form"])]


def test_identical_versions_and_moved_shapes_are_no_change():
    v1 = _files("mediation_v1")
    assert diff_bundles(v1, v1).empty
    moved = {k: v.replace('<dc:Bounds x="250" y="80"', '<dc:Bounds x="260" y="90"') for k, v in v1.items()}
    assert moved != v1
    assert diff_bundles(v1, moved).empty


def test_timer_condition_name_and_lane_changes_are_named():
    v1 = _files("mediation_v1")
    text = v1["mediation.bpmn"]
    changed = text.replace("<bpmn:timeDuration>P15D</bpmn:timeDuration>",
                           "<bpmn:timeDuration>statutory_days(15)</bpmn:timeDuration>")
    changed = changed.replace('name="组织调解"', 'name="组织人民调解"')
    changed = changed.replace("<bpmn:flowNodeRef>register</bpmn:flowNodeRef>", "")
    changed = changed.replace("<bpmn:flowNodeRef>mediate</bpmn:flowNodeRef>",
                              "<bpmn:flowNodeRef>mediate</bpmn:flowNodeRef>"
                              "<bpmn:flowNodeRef>register</bpmn:flowNodeRef>")
    diff = diff_bundles(v1, {"mediation.bpmn": changed})
    found = {c.element_id: c.changes for c in diff.changed}
    assert found["deadline_15d"] == ["timer"]
    assert found["mediate"] == ["name"]
    assert found["register"] == ["lane"]


def test_dmn_cell_change_is_located_at_its_rule():
    diff = diff_bundles(_files("routing_v1"), _files("routing_v2"))
    assert [(c.element_id, c.kind, c.changes) for c in diff.changed] == [
        ("r_labour", "rule", ["output_entry"])]


def test_files_added_and_removed_are_listed():
    both = {**_files("mediation_v1"), **_files("routing_v1")}
    diff = diff_bundles(_files("mediation_v1"), both)
    assert diff.files_added == ["routing.dmn"]
    assert "route_case" in _ids(diff.added)
    assert diff_bundles(both, _files("mediation_v1")).files_removed == ["routing.dmn"]
