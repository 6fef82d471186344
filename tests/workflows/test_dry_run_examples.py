"""Regression examples: a dry run kept with its path, re-run against new files."""

from __future__ import annotations

import pytest

from engine.path_compare import compare
from tests.process_fixtures import owner, process_files
from workflows.core.errors import InvalidInput
from workflows.processes import examples

OWNER = owner()
AGREED = [{"complete": "register", "data": {"category": "labour"}},
          {"complete": "mediate", "data": {"outcome": "agreed"}}]


def test_an_example_keeps_its_path_and_a_rerun_on_the_same_files_is_unchanged(services):
    saved = examples.save_example(services, OWNER, process_files("mediation_v1"),
                                  process_id="mediation", title="调解成功",
                                  data={"case_no": "EX-1"}, actions=AGREED)
    assert saved.actions == 2
    assert [e.title for e in examples.list_examples(services, OWNER, "mediation")] == ["调解成功"]
    [check] = examples.check_examples(services, OWNER, process_files("mediation_v1"), "mediation")
    assert check.same


def test_a_new_step_after_mediation_changes_the_path_and_says_where(services):
    examples.save_example(services, OWNER, process_files("mediation_v1"), process_id="mediation",
                          title="调解成功", data={"case_no": "EX-1"}, actions=AGREED)
    [check] = examples.check_examples(services, OWNER, process_files("mediation_v2"), "mediation")
    assert not check.same
    by_code = {d.code: d.params for d in check.differences}
    assert by_code["path"] == {"step": 5, "before": ["end_done", "completed"], "after": None,
                               "missing": ["end_done"], "extra": []}
    assert by_code["ready"] == {"before": [], "after": ["record_agreement"]}
    assert by_code["completed"] == {"before": True, "after": False}


def test_a_rerun_is_refused_per_example_when_the_process_is_gone(services):
    examples.save_example(services, OWNER, process_files("mediation_v1"), process_id="mediation",
                          title="调解成功", data={}, actions=AGREED[:1])
    other = {"huge.bpmn": process_files("mediation_v1")["mediation.bpmn"].replace(
        b'id="mediation"', b'id="other_process"')}
    [check] = examples.check_examples(services, OWNER, other, "mediation")
    assert check.problems and check.problems[0]["code"] == "no_process"


def test_a_title_is_required_and_personal_data_is_refused(services):
    with pytest.raises(InvalidInput) as no_title:
        examples.save_example(services, OWNER, process_files("mediation_v1"),
                              process_id="mediation", title=" ", data={}, actions=[])
    assert "title" in no_title.value.field_errors
    with pytest.raises(InvalidInput):
        examples.save_example(services, OWNER, process_files("mediation_v1"),
                              process_id="mediation", title="测试",
                              data={"phone": "13912345678"}, actions=[])


def test_compare_names_an_action_refused_now():
    before = {"path": [["a", "completed"]], "ready": ["b"], "armed": [], "completed": False,
              "error": None}
    after = {**before, "error": {"action": 2, "code": "form", "element_id": "b"}}
    assert [d.code for d in compare(before, after)] == ["error_now"]
    assert compare(before, before) == []
