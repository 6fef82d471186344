"""Error codes become words in one place (web/messages.py), in Chinese and in English."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from web.messages import MESSAGES, describe, field_details, field_errors, message
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound

CODES = [*FieldCode, *ErrorCode]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _sample(code) -> FieldError:
    """The code with a value for every parameter its Chinese words name."""
    return FieldError(code, dict.fromkeys(PLACEHOLDER.findall(str(MESSAGES[code])), "7"))


def test_engine_and_service_codes_do_not_collide():
    assert not {str(c) for c in FieldCode} & {str(c) for c in ErrorCode}


@pytest.mark.parametrize("code", CODES, ids=str)
def test_every_code_has_words_in_chinese_and_english(app, code):
    assert code in MESSAGES, f"{code} has no words in web/messages.py"
    error = _sample(code)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        chinese = message(error)
    with app.test_request_context(), force_locale("en"):
        english = message(error)
    assert re.search(r"[\u4e00-\u9fff]", chinese) and "%(" not in chinese
    assert english != chinese and not re.search(r"[\u4e00-\u9fff]", english), english
    assert "%(" not in english


def test_a_field_error_renders_its_parameters_in_both_languages(app):
    errors = {"summary": FieldError(FieldCode.TOO_LONG, {"limit": 200}),
              "status": FieldError(ErrorCode.VERSION_NOT_PENDING, {"status": "active"})}
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert field_errors(errors) == {"summary": "最多 200 个字符",
                                        "status": "版本状态为 已启用，无需审批"}
    with app.test_request_context(), force_locale("en"):
        assert field_errors(errors)["summary"] == "At most 200 characters"
        assert "Active" in field_errors(errors)["status"] or "active" in field_errors(errors)[
            "status"].lower()


def test_the_api_gets_code_parameters_and_words(app):
    errors = {"people_count": FieldError(FieldCode.TOO_SMALL, {"limit": 1})}
    with app.test_request_context():
        assert field_details(errors) == {"people_count": {
            "code": "too_small", "params": {"limit": 1}, "message": "不能小于 1"}}


def test_describe_gives_the_cli_one_line_of_words_without_a_request():
    refused = InvalidInput({"role": FieldError(ErrorCode.UNKNOWN_ROLE, {"roles": "wizard"})})
    assert describe(refused) == "role：未知角色 wizard"
    assert describe(NotFound(ErrorCode.CASE_NOT_FOUND, case_no="JF1")) == "案件 JF1 不存在"
