"""Forms and instructions are read from BPMN; submissions are validated with field errors."""

from __future__ import annotations

import pytest

from engine.clock import _EngineDatetime
from engine.errors import FieldCode, FieldError
from engine.forms import FormInvalid, validate_submission
from engine.specs import compile_bundle
from tests.conftest import fixture_bytes


@pytest.fixture
def mediate_form():
    bundle = compile_bundle(fixture_bytes("simple.bpmn"))
    spec = bundle.spec("simple").task_specs["mediate"]
    return spec


def test_camunda_form_fields_and_instructions_reach_the_task_spec(mediate_form):
    form = mediate_form.extensions["form"]
    assert [f["id"] for f in form] == ["amount", "outcome", "note"]
    assert form[0]["validation"] == {"required": None, "min": "0"}
    assert form[1]["options"] == [["agreed", "达成协议"], ["failed", "未达成"]]
    assert "请调解" in mediate_form.extensions["instructionsForEndUser"]
    assert mediate_form.lane == "调解员"


def test_valid_submission_is_cleaned_to_json_types(mediate_form):
    from engine.forms import fields_of

    fields = fields_of(mediate_form.extensions["form"])
    clean = validate_submission(fields, {"amount": "1200", "outcome": "agreed", "note": " 好 "})
    assert clean == {"amount": 1200, "outcome": "agreed", "note": "好"}


def test_every_field_error_is_reported_at_once(mediate_form):
    from engine.forms import fields_of

    fields = fields_of(mediate_form.extensions["form"])
    with pytest.raises(FormInvalid) as info:
        validate_submission(fields, {"amount": "-5", "outcome": "maybe", "_evil": "1"})
    assert info.value.errors == {"amount": FieldError(FieldCode.TOO_SMALL, {"limit": 0}),
                                 "outcome": FieldError(FieldCode.NOT_AN_OPTION),
                                 "_evil": FieldError(FieldCode.UNKNOWN_FIELD)}


@pytest.mark.parametrize(("field", "raw", "error"), [
    ({"id": "d", "type": "date"}, "2025-02-30", FieldError(FieldCode.NOT_DATE)),
    ({"id": "n", "type": "long", "validation": {"max": "10"}}, "11",
     FieldError(FieldCode.TOO_LARGE, {"limit": 10})),
    ({"id": "b", "type": "boolean"}, "perhaps", FieldError(FieldCode.NOT_BOOLEAN)),
    ({"id": "s", "type": "string", "validation": {"pattern": "[0-9]{4}"}}, "12a4",
     FieldError(FieldCode.BAD_FORMAT)),
    ({"id": "s", "type": "string", "validation": {"maxlength": "3"}}, "四个字符",
     FieldError(FieldCode.TOO_LONG, {"limit": 3})),
    ({"id": "r", "type": "string", "validation": {"required": None}}, "  ",
     FieldError(FieldCode.REQUIRED)),
])
def test_field_types_and_constraints(field, raw, error):
    from engine.forms import FormField

    with pytest.raises(FormInvalid) as info:
        validate_submission([FormField.from_dict(field)], {field["id"]: raw})
    assert info.value.errors[field["id"]] == error


def test_timer_module_still_reads_the_clock_hook():
    """Guard: the clock hook patches a module attribute of SpiffWorkflow."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    assert timer.datetime is _EngineDatetime
    assert "datetime.now(" in open(timer.__file__, encoding="utf-8").read()


def test_normalized_timers_are_stored_in_engine_files():
    bundle = compile_bundle(fixture_bytes("simple.bpmn"))
    engine_xml = bundle.engine_files["simple.bpmn"]
    assert "due_at('PT2H')" in engine_xml and "timeDate" in engine_xml
    assert "<bpmn:timeDuration>PT2H</bpmn:timeDuration>" in bundle.source_files["simple.bpmn"]
