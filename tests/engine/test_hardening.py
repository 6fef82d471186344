"""Resource bounds of BPMN text (expressions, instructions) and what reaches the error log."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from engine.db import make_engine
from engine.errors import ExpressionError
from engine.expressions import BASE_FUNCTIONS, Evaluator
from workflows.library.instructions import render_instructions

EVAL = Evaluator(BASE_FUNCTIONS)


@pytest.mark.parametrize("expression", [
    "round(1, -1000000000)", "round(1, 1000000000)", "round(2.5, 16)", "round(1, 2.5)",
    "round('x')", "sum(['a', 'b'])", "sum([[1], [2]], [])", "sum(3)",
    "1e308 * 10 * 0 + round(1e308 * 10)", "99999999999999999999 ** 2",
])
def test_function_arguments_are_bounded(expression):
    started = time.process_time()  # CPU time: other processes on a loaded machine do not count
    with pytest.raises(ExpressionError):
        EVAL.evaluate(expression, {})
    assert time.process_time() - started < 0.5


def test_integer_too_large_for_a_float_is_an_expression_error():
    big = "9" * 400
    with pytest.raises(ExpressionError, match="out of range"):
        EVAL.evaluate(f"{big} / 1", {})


@pytest.mark.parametrize(("expression", "expected"), [
    ("round(2.675, 2)", 2.67), ("round(1234, -2)", 1200), ("round(2.5)", 2),
    ("sum([1, 2, 3])", 6), ("sum([1.5, 2], 1)", 4.5), ("round(amount / 3, 15) > 0", True),
])
def test_ordinary_rounding_and_sums_still_work(expression, expected):
    assert EVAL.evaluate(expression, {"amount": 10}) == expected


@pytest.mark.parametrize("template", [
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    '{{ "a" * 1000000000 }}',
    "{{ 9 ** 9 ** 9 }}",
    "{{ amount|round(1000000000) }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ range(10)|list }}",
])
def test_costly_instructions_show_as_plain_text(template):
    started = time.process_time()
    html = render_instructions(template, {"amount": 1})
    assert time.process_time() - started < 0.5
    assert "{" in html and "aaaa" not in html


def test_substitution_conditions_and_filters_render():
    text = "案件 **{{ case_no }}**{% if urgent %}（紧急）{% endif %}：{{ note|default('无') }}"
    html = render_instructions(text, {"case_no": "C-1", "urgent": True})
    assert html == "<p>案件 <strong>C-1</strong>（紧急）：无</p>\n"


def test_sql_parameters_stay_out_of_error_messages(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", String))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table).values(id=1, v="a"))
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(table).values(id=1, v="电话13912345678"))
    assert "13912345678" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)
    engine.dispose()
