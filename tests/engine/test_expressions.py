"""The restricted expression language: what it evaluates and what it refuses."""

from __future__ import annotations

import pytest

from engine.errors import ExpressionError
from engine.expressions import BASE_FUNCTIONS, Evaluator

EVAL = Evaluator(BASE_FUNCTIONS)
DATA = {"urgency": "urgent", "amount": 5000, "reply": {"accepted": True}, "departments": ["GA", "SF"],
        "urgent": False}


@pytest.mark.parametrize(("expression", "expected"), [
    ("urgency == 'urgent' and amount > 1000", True),
    ("reply['accepted'] is True", True),
    ("'GA' in departments", True),
    ("len(departments) >= 2", True),
    ("amount * 2 > 10", True),
    ("3 if urgent else 5", 5),
    ("departments + ['ZJ']", ["GA", "SF", "ZJ"]),
    ("max(1, amount, 3) % 7", 5000 % 7),
    ("not urgent or amount < 0", True),
    ("-amount", -5000),
    ("{'a': [1, 2]}['a'][1]", 2),
])
def test_allowed_expressions_evaluate(expression, expected):
    assert EVAL.evaluate(expression, DATA) == expected


@pytest.mark.parametrize(("expression", "reason"), [
    ("__import__('os').getcwd()", "allowed functions"),
    ("open('x')", "allowed functions"),
    ("reply.get('a')", "allowed"),
    ("len(x=1)", "allowed functions"),
    ("().__class__.__base__", "Attribute is not allowed"),
    ("[x for x in departments]", "ListComp is not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("departments[1:2]", "Slice is not allowed"),
    ("f'{amount}'", "JoinedStr is not allowed"),
    ("2 ** 10 ** 10", "Pow is not allowed"),
    ("_secret", "not allowed"),
    ("x = 1", "syntax error"),
])
def test_forbidden_syntax_is_refused_before_running(expression, reason):
    with pytest.raises(ExpressionError, match=reason):
        EVAL.check(expression)


@pytest.mark.parametrize(("expression", "reason"), [
    ("'ab' * 3", "Mult needs numbers"),
    ("missing == 1", "unknown name"),
    ("amount / 0", "division by zero"),
    ("reply['nope']", "no item"),
    ("departments + departments * 1", "needs numbers"),
])
def test_runtime_errors_are_expression_errors(expression, reason):
    with pytest.raises(ExpressionError, match=reason):
        EVAL.evaluate(expression, DATA)


def test_sequences_cannot_grow_without_bound():
    big = {"s": "x" * 6000}
    with pytest.raises(ExpressionError, match="too long"):
        EVAL.evaluate("s + s", big)


def test_long_or_deep_expressions_are_refused():
    with pytest.raises(ExpressionError, match="longer than"):
        EVAL.check("1 + " * 700 + "1")
    with pytest.raises(ExpressionError, match="too complex"):
        EVAL.check(" + ".join(["a"] * 200))
