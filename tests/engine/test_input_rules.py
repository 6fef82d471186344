"""The input boundary's rules (engine/input_rules.py): characters, names, numbers, JSON."""

from __future__ import annotations

import json

import pytest

from engine.errors import FieldCode, FieldError
from engine.input_rules import (
    INT32_MAX,
    MAX_JSON_DEPTH,
    has_bad_characters,
    int_error,
    is_visible,
    json_errors,
    json_too_deep,
    name_error,
    printable,
    text_error,
)

BAD = FieldError(FieldCode.BAD_CHARACTERS)


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "x\ud800",
                                  "\udcff", "\ufffd", "\uffff", "\x0b", "\x0c"])
def test_characters_no_column_may_hold_are_refused_everywhere(text):
    assert has_bad_characters(text) and has_bad_characters(text, multiline=True)
    assert text_error(text, multiline=True) == BAD


def test_tab_and_newlines_only_in_multiline_text():
    assert text_error("第一行\n第二行\r\n\t缩进", multiline=True) is None
    assert text_error("a\tb") == BAD and text_error("a\nb") == BAD


@pytest.mark.parametrize("text", ["张三", "恒安物业服务有限公司", "😀", "Zoë", "买买提·艾力",
                                  "O'Brien", "李\u3000四"])
def test_ordinary_text_passes(text):
    assert text_error(text) is None and name_error(text) is None


def test_length_is_checked_after_the_characters():
    assert text_error("长" * 201, max_length=200) == FieldError(FieldCode.TOO_LONG, {"limit": 200})
    assert text_error("\x00" * 201, max_length=200) == BAD


@pytest.mark.parametrize("name", ["\u200b", "\u202e", "\ufeff", "\u200b\u202e\ufeff",
                                  "\u3164", "\u2800", " \u200b ", "\u0301", "\u2066\u2069"])
def test_names_with_nothing_visible_are_refused(name):
    assert not is_visible(name)
    assert name_error(name) == FieldError(FieldCode.INVISIBLE)


@pytest.mark.parametrize("name", ["张\u202e三", "abc\u202dxyz", "\u2067王五"])
def test_bidi_controls_inside_a_name_are_refused(name):
    assert name_error(name) == BAD


def test_an_empty_name_is_left_to_the_required_check():
    assert name_error("") is None and name_error("   ") is None and name_error(None) is None


@pytest.mark.parametrize(("value", "expected"), [
    (1, None), (INT32_MAX, None),
    (INT32_MAX + 1, FieldError(FieldCode.TOO_LARGE, {"limit": INT32_MAX})),
    (0, FieldError(FieldCode.TOO_SMALL, {"limit": 1})),
])
def test_integers_outside_the_bounds(value, expected):
    assert int_error(value, 1, INT32_MAX) == expected


def test_deep_json_is_found_before_parsing():
    assert json_too_deep("[" * 5000 + "]" * 5000)
    assert json_too_deep(b"{\"a\": " * 20 + b"1" + b"}" * 20)
    assert not json_too_deep(json.dumps({"parties": [{"vulnerable": ["elderly"]}]}))
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert not json_too_deep(nested) and json_too_deep("[" + nested + "]")


def test_brackets_and_escapes_inside_strings_do_not_count():
    text = json.dumps({"summary": "[" * 100 + "\\\"[[[" + "{" * 50})
    assert not json_too_deep(text)


def test_json_values_are_checked_by_field_path():
    body = {"summary": "a\x00", "parties": [{"name": "x\ud800", "age": 10**20}],
            "ok": "第一行\n第二行", "big": 2**63 - 1, "flag": True, "k\x00": 1}
    assert json_errors(body) == {
        "summary": BAD, "parties-0-name": BAD,
        "parties-0-age": FieldError(FieldCode.TOO_LARGE, {"limit": 2**63 - 1}),
        "k?": BAD}


def test_non_finite_numbers_are_refused():
    assert json_errors({"x": float("inf")}) == {"x": FieldError(FieldCode.BAD_FORMAT)}
    assert json_errors({"x": float("nan")}) == {"x": FieldError(FieldCode.BAD_FORMAT)}


def test_field_names_are_echoed_printable_and_short():
    assert printable("a\x00b\u202e") == "a?b?" and len(printable("x" * 500)) == 64


# -- task forms (engine/forms.py) apply the same rules ---------------------------------------------
def _form(type_: str, **validation):
    from engine.forms import FormField

    return [FormField(id="x", type=type_, validation=validation)]


@pytest.mark.parametrize(("type_", "value", "code"), [
    ("string", "a\x00b", FieldCode.BAD_CHARACTERS), ("string", "两行\n文字", FieldCode.BAD_CHARACTERS),
    ("textarea", "x\ud800", FieldCode.BAD_CHARACTERS), ("long", str(2**63), FieldCode.TOO_LARGE),
    ("long", -(2**63) - 1, FieldCode.TOO_SMALL), ("long", "9" * 5000, FieldCode.NOT_INTEGER),
])
def test_task_form_values_beyond_what_is_stored_are_refused(type_, value, code):
    from engine.forms import FormInvalid, validate_submission

    with pytest.raises(FormInvalid) as refused:
        validate_submission(_form(type_), {"x": value})
    assert refused.value.errors["x"].code == code


def test_task_form_textareas_keep_newlines_and_longs_their_own_bounds():
    from engine.forms import validate_submission

    assert validate_submission(_form("textarea"), {"x": "第一行\n\t第二行"}) == {
        "x": "第一行\n\t第二行"}
    assert validate_submission(_form("long", max="10"), {"x": "10"}) == {"x": 10}
