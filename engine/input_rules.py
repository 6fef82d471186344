"""What any value from outside may hold: the input boundary's rules, as pure functions.

The web layer applies them to every URL value, query string, form field, header, file name and
JSON body before a view runs; services and the engine apply them again to the fields they store
(names, free text, numbers), so the CLI, the demo and tests meet the same rules. Each check
answers a ``FieldError`` (a code) or None; nothing here raises on hostile input.

What is refused:

* characters no column can hold or no reader can see: NUL and the other C0/C1 control
  characters (tab, newline and carriage return are allowed in multi-line text), lone surrogates
  (PostgreSQL and SQLite cannot encode them), U+FFFD (what a decoder leaves of invalid UTF-8)
  and the non-characters U+FFFE/U+FFFF;
* names with nothing visible (zero-width spaces, bidi controls, byte-order marks, fillers), and
  bidi embedding/override controls inside a name (they reorder what a reader sees);
* integers outside the range of the column (32-bit ``Integer``) or of a JSON number (64-bit);
* JSON nested deeper than ``MAX_JSON_DEPTH`` (Python's parser recurses: thousands of levels are
  a RecursionError).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from engine.errors import FieldCode, FieldError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 16

_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff"
_BAD_MULTILINE = re.compile(f"[{_NEVER}]")
_BAD_LINE = re.compile(f"[{_NEVER}\t\n\r]")
# bidi embeddings, overrides and isolates: invisible, and they reorder the text around them
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# letters and symbols that draw as blank (Hangul fillers, braille blank, Mongolian separator)
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
_STRUCTURE = re.compile(r'[\[\]{}"\\]')
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})

BAD_CHARACTERS = FieldError(FieldCode.BAD_CHARACTERS)
INVISIBLE = FieldError(FieldCode.INVISIBLE)


def has_bad_characters(text: str, *, multiline: bool = False) -> bool:
    """True when ``text`` holds a character no stored value may hold (see the module doc);
    ``multiline`` allows tab, newline and carriage return."""
    return (_BAD_MULTILINE if multiline else _BAD_LINE).search(text) is not None


def text_error(value: Any, *, multiline: bool = False, max_length: int | None = None
               ) -> FieldError | None:
    """The refusal of one text value (characters first, then length), or None."""
    if not isinstance(value, str):
        return None
    if has_bad_characters(value, multiline=multiline):
        return BAD_CHARACTERS
    if max_length is not None and len(value) > max_length:
        return FieldError(FieldCode.TOO_LONG, {"limit": max_length})
    return None


def is_visible(text: str) -> bool:
    """True when at least one character of ``text`` draws something."""
    return any(ch not in _BLANK_LOOKING and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
               for ch in text)


def name_error(value: Any, *, max_length: int | None = None) -> FieldError | None:
    """The refusal of a name (a person, an organisation, an account): one line, something
    visible, no bidi controls; None when it may be stored."""
    if not isinstance(value, str):
        return None
    error = text_error(value, max_length=max_length)
    if error is not None:
        return error
    if value.strip() and not is_visible(value):
        return INVISIBLE
    if BIDI_CONTROLS.intersection(value):
        return BAD_CHARACTERS
    return None


def int_error(value: int, minimum: int | None = None, maximum: int | None = None
              ) -> FieldError | None:
    """TOO_SMALL / TOO_LARGE (with the limit) when ``value`` is outside the bounds."""
    if minimum is not None and value < minimum:
        return FieldError(FieldCode.TOO_SMALL, {"limit": minimum})
    if maximum is not None and value > maximum:
        return FieldError(FieldCode.TOO_LARGE, {"limit": maximum})
    return None


def json_too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``limit`` (checked before
    parsing; brackets inside strings do not count; only structural characters are visited)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, skip_at = 0, False, -1
    for match in _STRUCTURE.finditer(text):
        ch, at = match.group(), match.start()
        if at == skip_at:  # the character after a backslash
            continue
        if in_string:
            if ch == "\\":
                skip_at = at + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def json_errors(value: Any, name: str = "body") -> dict[str, FieldError]:
    """Refusals inside a parsed JSON value, by field path (``parties-0-name``): bad characters
    in keys and strings (multi-line allowed), integers beyond 64 bits, non-finite numbers."""
    return dict(_json_walk(value, name, 0))


def _json_walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, FieldError]]:
    if depth > MAX_JSON_DEPTH:
        yield path, FieldError(FieldCode.TOO_DEEP, {"limit": MAX_JSON_DEPTH})
    elif isinstance(value, dict):
        for key, item in value.items():
            where = key if path == "body" else f"{path}-{key}"
            if has_bad_characters(key):
                yield printable(where), BAD_CHARACTERS
            else:
                yield from _json_walk(item, where, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_walk(item, f"{path}-{index}", depth + 1)
    else:
        error = _scalar_error(value)
        if error is not None:
            yield path, error


def _scalar_error(value: Any) -> FieldError | None:
    if isinstance(value, str):
        return BAD_CHARACTERS if has_bad_characters(value, multiline=True) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int_error(value, INT64_MIN, INT64_MAX)
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return FieldError(FieldCode.BAD_FORMAT)
    return None


def printable(name: str, limit: int = 64) -> str:
    """A field name safe to echo in an answer: unprintable characters as '?', cut at ``limit``."""
    return "".join(ch if ch.isprintable() else "?" for ch in name[:limit])
