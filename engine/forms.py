"""User-task forms declared in BPMN (camunda:formData) and their server-side validation."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.errors import FieldCode, FieldError, FieldRefused
from engine.input_rules import INT64_MAX, INT64_MIN, has_bad_characters

# "enums": several of the options (a list in task data; sent empty: none of them; not sent at
# all: the field is left as it was, so an API client that does not know it changes nothing)
FIELD_TYPES = ("string", "long", "boolean", "date", "enum", "enums", "textarea")
MAX_TEXT = {"string": 500, "textarea": 5000}
NESTED_QUANTIFIER = re.compile(r"\([^)]*[+*][^)]*\)[+*{]")
TRUE_WORDS = {"true", "on", "1", "yes", "y"}
FALSE_WORDS = {"false", "off", "0", "no", "n", ""}


@dataclass(frozen=True)
class FormField:
    """One form field of a user task."""

    id: str
    type: str = "string"
    label: str = ""
    default: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    validation: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FormField:
        return cls(id=raw["id"], type=raw.get("type") or "string", label=raw.get("label") or raw["id"],
                   default=raw.get("default"),
                   options=tuple((str(v), str(n)) for v, n in raw.get("options") or ()),
                   validation=dict(raw.get("validation") or {}))

    @property
    def required(self) -> bool:
        return "required" in self.validation

    def constraint(self, name: str) -> str | None:
        return self.validation.get(name)


def fields_of(form: Sequence[Mapping[str, Any]] | None) -> list[FormField]:
    """FormField objects from the parsed ``extensions['form']`` list."""
    return [FormField.from_dict(f) for f in form or ()]


class FormInvalid(ValueError):
    """Submitted data failed validation; ``errors`` maps field id to a FieldError (a code)."""

    def __init__(self, errors: dict[str, FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def validate_submission(fields: list[FormField], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Clean ``raw`` against ``fields``; raise FormInvalid with every field error at once."""
    known = {f.id for f in fields}
    errors: dict[str, FieldError] = {}
    for key in raw:
        if key not in known and key not in ("csrf_token",):
            errors[str(key)] = FieldError(FieldCode.UNKNOWN_FIELD)
    clean: dict[str, Any] = {}
    for f in fields:
        try:
            value = _clean(f, _raw_value(raw, f))
        except FieldRefused as exc:
            errors[f.id] = exc.error
            continue
        except ValueError:  # a constraint the deploy lint let through
            errors[f.id] = FieldError(FieldCode.BAD_FORMAT)
            continue
        if value is not None:
            clean[f.id] = value
    if errors:
        raise FormInvalid(errors)
    return clean


def _raw_value(raw: Mapping[str, Any], f: FormField) -> Any:
    value = raw.get(f.id)
    if value is None and f.type == "boolean":
        return False  # an unticked checkbox is simply absent from a form post
    return value


def _clean(f: FormField, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "" or value == []:
        if f.required:
            raise FieldRefused(FieldCode.REQUIRED)
        # a choice of several sent empty is "none of them"; not sent at all, "unchanged"
        return [] if f.type == "enums" and value is not None else None
    cleaner = _CLEANERS.get(f.type)
    if cleaner is None:
        raise FieldRefused(FieldCode.UNSUPPORTED_TYPE, type=f.type)
    return cleaner(f, value)


def _text(f: FormField, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldRefused(FieldCode.NOT_TEXT)
    if has_bad_characters(value, multiline=f.type == "textarea"):
        raise FieldRefused(FieldCode.BAD_CHARACTERS)
    limit = int(f.constraint("maxlength") or MAX_TEXT.get(f.type, 500))
    if len(value) > limit:
        raise FieldRefused(FieldCode.TOO_LONG, limit=limit)
    minimum = f.constraint("minlength")
    if minimum and len(value) < int(minimum):
        raise FieldRefused(FieldCode.TOO_SHORT, limit=int(minimum))
    pattern = f.constraint("pattern")
    if pattern and not re.fullmatch(pattern, value):
        raise FieldRefused(FieldCode.BAD_FORMAT)
    return value


def _long(f: FormField, value: Any) -> int:
    if isinstance(value, bool):
        raise FieldRefused(FieldCode.NOT_INTEGER)
    try:
        number = int(value) if isinstance(value, int) else int(str(value), 10)
    except ValueError:
        raise FieldRefused(FieldCode.NOT_INTEGER) from None
    low, high = f.constraint("min"), f.constraint("max")
    low_limit = INT64_MIN if low is None else max(int(low), INT64_MIN)
    high_limit = INT64_MAX if high is None else min(int(high), INT64_MAX)
    if number < low_limit:
        raise FieldRefused(FieldCode.TOO_SMALL, limit=low_limit)
    if number > high_limit:
        raise FieldRefused(FieldCode.TOO_LARGE, limit=high_limit)
    return number


def _boolean(_f: FormField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldRefused(FieldCode.NOT_BOOLEAN)


def _date(f: FormField, value: Any) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise FieldRefused(FieldCode.NOT_DATE) from None
    low, high = f.constraint("min"), f.constraint("max")
    if low and day < date.fromisoformat(low):
        raise FieldRefused(FieldCode.TOO_EARLY, limit=low)
    if high and day > date.fromisoformat(high):
        raise FieldRefused(FieldCode.TOO_LATE, limit=high)
    return day.isoformat()  # ISO text: task data stays plain JSON


def _enum(f: FormField, value: Any) -> str:
    allowed = {v for v, _ in f.options}
    if str(value) not in allowed:
        raise FieldRefused(FieldCode.NOT_AN_OPTION)
    return str(value)


def _enums(f: FormField, value: Any) -> list[str]:
    """Several options, each once, in the order the form lists them."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise FieldRefused(FieldCode.NOT_AN_OPTION)
    values = [v for v in values if v]       # the form's empty marker (see the enums macro)
    allowed = [v for v, _ in f.options]
    if set(values) - set(allowed):
        raise FieldRefused(FieldCode.NOT_AN_OPTION)
    return [v for v in allowed if v in values]


_CLEANERS = {"string": _text, "textarea": _text, "long": _long, "boolean": _boolean,
             "date": _date, "enum": _enum, "enums": _enums}


def form_problems(fields: list[FormField]) -> list[tuple[str, str]]:
    """Static problems of a form definition: (field id, message); used by the deploy lint."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for f in fields:
        problems.extend((f.id or "?", message) for message in _field_problems(f, seen))
        seen.add(f.id)
    return problems


def _field_problems(f: FormField, seen: set[str]) -> list[str]:  # noqa: C901
    out = []
    if not f.id or not re.fullmatch(r"[a-z][a-z0-9_]*", f.id):
        out.append("field id must be snake_case")
    if f.id in seen:
        out.append("duplicate field id")
    if f.type not in FIELD_TYPES:
        out.append(f"unknown field type {f.type!r} (use {', '.join(FIELD_TYPES)})")
    if f.type in ("enum", "enums") and not f.options:
        out.append(f"{f.type} field without options")
    for name in ("min", "max", "minlength", "maxlength"):
        value = f.constraint(name)
        if value is not None and f.type != "date" and not re.fullmatch(r"-?\d+", value):
            out.append(f"constraint {name} must be a whole number")
    pattern = f.constraint("pattern")
    if pattern is not None:
        out.extend(_pattern_problems(pattern))
    unknown = set(f.validation) - {"required", "min", "max", "minlength", "maxlength", "pattern",
                                   "readonly"}
    if unknown:
        out.append(f"unknown constraint {sorted(unknown)[0]!r}")
    return out


def _pattern_problems(pattern: str) -> list[str]:
    if len(pattern) > 200:
        return ["pattern longer than 200 characters"]
    if NESTED_QUANTIFIER.search(pattern):
        return ["pattern has nested quantifiers (catastrophic backtracking)"]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"pattern does not compile: {exc}"]
    return []
