"""The input boundary of the web app: every request is checked before any view (or sign-in, or
token lookup) reads it. The rules are engine/input_rules.py; this module applies them to what
HTTP carries.

* URL path values with characters no stored value may hold, or longer than ``MAX_PATH_VALUE``:
  404 (no object has such a name); ``<int:…>`` path values beyond a 32-bit column: 404.
* Headers with control characters; query-string keys and values (one line, at most
  ``MAX_QUERY_VALUE`` characters); form keys and values (tab and newline allowed, at most
  ``MAX_FORM_VALUE``); either of them not UTF-8 once percent-decoded; uploaded file names; JSON bodies nested deeper than ``MAX_JSON_DEPTH``,
  or holding such strings or integers beyond 64 bits: 422 ``invalid_input`` naming the field.
* JSON is parsed with the same depth limit and without NaN/Infinity (not JSON; a database's
  JSON column refuses them): a body that breaks either is "not JSON".

Field-specific limits (a column's length, a form's maximum) stay with the services that store
the values; they answer with the same codes.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from engine.input_rules import (
    BAD_CHARACTERS,
    INT32_MAX,
    MAX_JSON_DEPTH,
    has_bad_characters,
    json_errors,
    json_too_deep,
    printable,
    text_error,
)
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound

MAX_PATH_VALUE = 200
MAX_QUERY_VALUE = 2000
MAX_FORM_VALUE = 100_000
MAX_FILE_NAME = 255
# control characters in a header (values are latin-1 text: other bytes are the client's business)
_HEADER_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


class BoundedInt(IntegerConverter):
    """``<int:…>``: ASCII digits within a 32-bit column, else the route does not match (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = INT32_MAX, signed: bool = False):  # noqa: A002
        super().__init__(map, fixed_digits, min, INT32_MAX if max is None else max, signed)


class BoundedJSON(DefaultJSONProvider):
    """Flask's JSON with a nesting limit and without NaN/Infinity when reading."""

    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if json_too_deep(s):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        kwargs.setdefault("parse_constant", _not_json)
        return json.loads(s, **kwargs)


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def check_request() -> None:
    """before_request: 404 for impossible path values, 422 naming every refused field."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and (len(value) > MAX_PATH_VALUE or has_bad_characters(value)):
            raise NotFound(ErrorCode.NOT_FOUND)
    errors: dict[str, FieldError] = {}
    for name, value in request.headers.items():
        if _HEADER_CONTROL.search(value):
            errors[printable(name)] = BAD_CHARACTERS
    errors.update(_undecodable(request.query_string))
    _check_pairs(request.args, errors, multiline=False, limit=MAX_QUERY_VALUE)
    if request.mimetype == "application/x-www-form-urlencoded":
        errors.update(_undecodable(request.get_data(cache=True)))  # the form parser reuses it
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form, errors, multiline=True, limit=MAX_FORM_VALUE)
        for name, storage in request.files.items(multi=True):
            error = text_error(storage.filename or "", max_length=MAX_FILE_NAME)
            if error is not None:
                errors[printable(name)] = error
    if request.is_json:
        errors.update(_json_body_errors())
    if errors:
        raise InvalidInput(errors)


def _undecodable(encoded: bytes) -> dict[str, FieldError]:
    """Fields of a query string or form body that are not UTF-8 once percent-decoded (the
    parser would keep them as %-text, or drop the whole form)."""
    errors = {}
    for pair in encoded.split(b"&"):
        name, _eq, value = pair.partition(b"=")
        try:
            for part in (name, value):
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            errors[printable(unquote_to_bytes(name).decode("utf-8", "replace"))] = BAD_CHARACTERS
    return errors


def _check_pairs(pairs, errors: dict[str, FieldError], *, multiline: bool, limit: int) -> None:
    for name, values in pairs.lists():
        if has_bad_characters(name) or len(name) > MAX_PATH_VALUE:
            errors[printable(name)] = BAD_CHARACTERS
            continue
        for value in values:
            error = text_error(value, multiline=multiline, max_length=limit)
            if error is not None:
                errors[name] = error
                break


def _json_body_errors() -> dict[str, FieldError]:
    data = request.get_data(cache=True)
    if json_too_deep(data):
        return {"body": FieldError(FieldCode.TOO_DEEP, {"limit": MAX_JSON_DEPTH})}
    body = request.get_json(silent=True)  # cached: the view reads the same value
    return json_errors(body) if body is not None else {}


def init_app(app: Flask) -> None:
    """Before the blueprints (their ``<int:…>`` rules use the bounded converter) and before any
    other before_request hook (sign-in and token lookups read headers and forms)."""
    app.url_map.converters["int"] = BoundedInt
    app.json = BoundedJSON(app)
    app.before_request(check_request)
