"""Restricted expression language: an AST allow-list interpreted by a tree walker.

No BPMN text ever reaches Python's eval/exec/compile; docs/bpmn-authoring.md lists what an
expression may contain.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from engine.errors import ExpressionError

MAX_EXPRESSION_CHARS = 2_000
MAX_NODES = 300
MAX_SEQUENCE = 10_000

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Mod: operator.mod}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_,
            ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b}
_ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BoolOp, ast.And, ast.Or,
            ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.BinOp, ast.Compare, ast.IfExp,
            ast.Subscript, ast.List, ast.Tuple, ast.Dict, ast.Call, *_BINARY, *_COMPARE)
_CONSTANTS = (str, int, float, bool, type(None))
_NUMBER = (int, float)


@lru_cache(maxsize=4096)
def parse(expression: str, function_names: frozenset[str]) -> ast.Expression:
    """Parse and statically check an expression (also used by the deploy lint)."""
    if not isinstance(expression, str):
        raise ExpressionError("expression must be text")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ExpressionError("expression is longer than 2000 characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError("expression is too complex")
    for node in nodes:
        _check_node(node, function_names)
    return tree


def _check_node(node: ast.AST, function_names: frozenset[str]) -> None:
    if not isinstance(node, _ALLOWED):
        raise ExpressionError(f"{type(node).__name__} is not allowed")
    if isinstance(node, ast.Constant) and not isinstance(node.value, _CONSTANTS):
        raise ExpressionError("only str, number, bool and None literals are allowed")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExpressionError(f"name {node.id!r} is not allowed")
    if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in function_names
            and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)):
        raise ExpressionError("only calls to allowed functions with positional arguments")


class Evaluator:
    """Evaluates checked expressions over plain data (dict/list/str/int/float/bool/None)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]):
        self.functions = dict(functions)
        self.names = frozenset(self.functions)

    def check(self, expression: str) -> None:
        parse(expression, self.names)

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        return self._eval(parse(expression, self.names).body, data)

    # node None: the ``**`` entry of a dict display, refused like any node not matched
    def _eval(self, node: ast.AST | None, data: Mapping[str, Any]) -> Any:  # noqa: C901
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                if name not in data:
                    raise ExpressionError(f"unknown name {name!r}")
                return data[name]
            case ast.BoolOp(op=ast.And(), values=values):
                result: Any = True
                for value in values:
                    result = self._eval(value, data)
                    if not result:
                        return result
                return result
            case ast.BoolOp(op=ast.Or(), values=values):
                result = False
                for value in values:
                    result = self._eval(value, data)
                    if result:
                        return result
                return result
            case ast.UnaryOp(op=op, operand=operand):
                return self._unary(op, self._eval(operand, data))
            case ast.BinOp(left=left, op=op, right=right):
                return self._binary(op, self._eval(left, data), self._eval(right, data))
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                return self._compare(left, ops, comparators, data)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self._eval(body if self._eval(test, data) else orelse, data)
            case ast.Subscript(value=value, slice=key):
                return self._subscript(self._eval(value, data), self._eval(key, data))
            case ast.List(elts=elts) | ast.Tuple(elts=elts):
                return [self._eval(e, data) for e in elts]
            case ast.Dict(keys=keys, values=values):
                return {self._eval(k, data): self._eval(v, data) for k, v in zip(keys, values)}
            case ast.Call(func=ast.Name(id=name), args=args):
                function = self.functions[name]
                values = [self._eval(a, data) for a in args]
                try:
                    if getattr(function, "reads_data", False):  # e.g. due_from: a typed date
                        return function(data, *values)
                    return function(*values)
                except ExpressionError:
                    raise
                except (TypeError, ValueError, KeyError, OverflowError) as exc:
                    raise ExpressionError(f"{name}(): {exc}") from None
        raise ExpressionError(f"{type(node).__name__} is not allowed")

    def _compare(self, left, ops, comparators, data) -> bool:
        current = self._eval(left, data)
        for op, comparator in zip(ops, comparators):
            other = self._eval(comparator, data)
            try:
                ok = _COMPARE[type(op)](current, other)
            except TypeError as exc:
                raise ExpressionError(f"cannot compare: {exc}") from None
            if not ok:
                return False
            current = other
        return True

    @staticmethod
    def _unary(op: ast.unaryop, value: Any) -> Any:
        if isinstance(op, ast.Not):
            return not value
        if not isinstance(value, _NUMBER):
            raise ExpressionError("unary minus needs a number")
        return -value if isinstance(op, ast.USub) else value

    @staticmethod
    def _subscript(container: Any, key: Any) -> Any:
        if not isinstance(container, dict | list | tuple | str):
            raise ExpressionError("subscript needs a dict, list or string")
        try:
            return container[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise ExpressionError(f"no item {key!r}: {type(exc).__name__}") from None

    @staticmethod
    def _binary(op: ast.operator, left: Any, right: Any) -> Any:
        if isinstance(op, ast.Add) and isinstance(left, str | list) and isinstance(right, type(left)):
            if len(left) + len(right) > MAX_SEQUENCE:
                raise ExpressionError("result is too long")
            return left + right  # type: ignore[operator]  # same type, checked above
        if not (isinstance(left, _NUMBER) and isinstance(right, _NUMBER)):
            raise ExpressionError(f"{type(op).__name__} needs numbers")
        try:
            return _BINARY[type(op)](left, right)
        except ZeroDivisionError:
            raise ExpressionError("division by zero") from None
        except OverflowError:  # an integer too large for a float (huge / 1)
            raise ExpressionError("number out of range") from None


MAX_NDIGITS = 15        # round(): more digits than a double holds change nothing


def _round(number: Any, ndigits: Any = None) -> Any:
    """round() with ``ndigits`` bounded: round(1, -10**9) would hold a worker for minutes."""
    if not isinstance(number, _NUMBER):
        raise ExpressionError("round() needs a number")
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or isinstance(ndigits, bool) \
            or abs(ndigits) > MAX_NDIGITS:
        raise ExpressionError(f"round(): ndigits must be a whole number from "
                              f"-{MAX_NDIGITS} to {MAX_NDIGITS}")
    return round(number, ndigits)


def _sum(values: Any, start: Any = 0) -> Any:
    """sum() of numbers only (no list or string concatenation through ``start``)."""
    if not isinstance(values, list | tuple) or len(values) > MAX_SEQUENCE:
        raise ExpressionError(f"sum() needs a list of at most {MAX_SEQUENCE} numbers")
    if not isinstance(start, _NUMBER) or not all(isinstance(v, _NUMBER) for v in values):
        raise ExpressionError("sum() adds numbers only")
    return sum(values, start)


BASE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": _round, "sum": _sum,
}
