"""Personal data typed into free text: found, so that it is never stored there.

Summaries, narratives, task text, reasons and notes must not carry a party's identifiers: those
belong in the party fields, where they are encrypted, indexed and masked (docs/personal-data.md).
``find`` names what a text holds:

* ``id_number``: an 18-character resident ID (GB 11643) with a valid birth date and check
  character, written whole or as 6-8-4 groups;
* ``bank_card``: 16 to 19 digits (whole or in groups of four) passing the Luhn check;
* ``mobile``: a mainland mobile number (1[3-9] and 9 digits, also 3-4-4 groups, +86/0086);
* ``landline``: an area code (010, 02x, or 0 and three digits, also in parentheses) and a
  7-8 digit number;
* ``email``: an e-mail address.

A number counts only when no digit touches it (so a longer number, a date, an amount or a case
code is not a phone number). Its groups are read with one space or hyphen between them; a check
of a text typed freely reads it ``joined`` first, so that ``138  1234 - 5678`` or a number split
over lines is one number as well. Landline numbers without an area code are not recognised: eight
digits are as often an amount or a reference. Services refuse a text that holds any of these
with ``PERSONAL_DATA_IN_TEXT`` (the field, and the first kind found).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from engine.crypto import id_check_digit
from workflows.core.errors import ErrorCode, FieldError, InvalidInput


class PersonalDataKind(StrEnum):
    """What was found in a free text."""

    ID_NUMBER = "id_number"
    BANK_CARD = "bank_card"
    MOBILE = "mobile"
    LANDLINE = "landline"
    EMAIL = "email"


_SEP = r"[ \-]?"
_ID = re.compile(rf"(?<![0-9A-Za-z])(\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx])(?![0-9A-Za-z])")
_CARD = re.compile(rf"(?<!\d)(\d{{4}}(?:{_SEP}\d{{4}}){{3}}(?:{_SEP}\d{{1,3}})?)(?!\d)")
_MOBILE = re.compile(rf"(?<![\d+])((?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)((?:\(0\d{2,3}\)|0\d{2,3})[ \-]?[2-9]\d{6,7})(?!\d)")
_AREA = re.compile(r"0(?:10|2\d|[3-9]\d{2})")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


_RUN = re.compile(r"\s*-[\s-]*|\s+")


def joined(text: str) -> str:
    """``text`` with each run of spaces and line breaks made one space and each hyphen with spaces
    or hyphens around it one hyphen: how ``find`` should read a loosely typed number."""
    return _RUN.sub(lambda run: "-" if "-" in run.group(0) else " ", text)


def find(text: str) -> list[PersonalDataKind]:
    """The kinds of personal data in ``text``, in this order, each once."""
    if not text:
        return []
    plain = unicodedata.normalize("NFKC", text)  # full-width digits and symbols
    found: list[PersonalDataKind] = []
    taken: list[tuple[int, int]] = []  # a number is counted once, as the first kind it is
    for kind, pattern, valid in _NUMBERS:
        for match in pattern.finditer(plain):
            span = match.span(1)
            if all(span[1] <= start or span[0] >= end for start, end in taken) \
                    and valid(_digits(match.group(1))):
                taken.append(span)
                if kind not in found:
                    found.append(kind)
    if "@" in plain and _EMAIL.search(plain):
        found.append(PersonalDataKind.EMAIL)
    return found


def mask(text: str) -> tuple[str, list[PersonalDataKind]]:
    """``text`` with every number and e-mail address ``find`` names masked (all but the last
    four characters of a number starred, an e-mail address reduced to its first letter and
    domain), and the kinds that were masked. Used where a text from outside must be kept rather
    than refused (a pushed work order's content)."""
    kinds = find(text)
    if not kinds:
        return text, []
    plain = unicodedata.normalize("NFKC", text)
    spans: list[tuple[int, int]] = []
    for _kind, pattern, valid in _NUMBERS:
        for match in pattern.finditer(plain):
            span = match.span(1)
            if all(span[1] <= start or span[0] >= end for start, end in spans) \
                    and valid(_digits(match.group(1))):
                spans.append(span)
    # the spans index the normalised text; the original keeps its punctuation when they align
    out = text if len(text) == len(plain) else plain
    for start, end in sorted(spans, reverse=True):
        part = out[start:end]
        keep = 4
        starred = "".join("*" if ch.isalnum() else ch for ch in part[:-keep]) + part[-keep:]
        out = out[:start] + starred + out[end:]
    out = _EMAIL.sub(lambda m: m.group(0)[0] + "***@" + m.group(0).split("@", 1)[1], out)
    return out, kinds


def field_errors(values: Mapping[str, Any], names: Iterable[str] | None = None
                 ) -> dict[str, FieldError]:
    """``PERSONAL_DATA_IN_TEXT`` for each text value (of ``names``, default all) that holds
    personal data; the parameter ``kind`` is the first kind found."""
    errors = {}
    for name in names if names is not None else values:
        value = values.get(name)
        kinds = find(value) if isinstance(value, str) else []
        if kinds:
            errors[name] = FieldError(ErrorCode.PERSONAL_DATA_IN_TEXT, {"kind": str(kinds[0])})
    return errors


def _card(digits: str) -> bool:
    return _luhn(digits) and not _birth_date(digits)


def _landline(digits: str) -> bool:
    return _AREA.match(digits) is not None and len(digits) in (10, 11, 12)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "Xx").upper()


def _is_id_number(text: str) -> bool:
    return _birth_date(text) and id_check_digit(text[:17]) == text[17]


def _birth_date(text: str) -> bool:
    """18 characters with a birth date where an ID number has one (a mistyped ID number is no
    bank card)."""
    if len(text) != 18 or not text[:17].isdigit() or not 1900 <= int(text[6:10]) <= 2099:
        return False
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return True


def _luhn(digits: str) -> bool:
    if not digits.isdigit() or not 16 <= len(digits) <= 19:
        return False
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


_NUMBERS = ((PersonalDataKind.ID_NUMBER, _ID, _is_id_number),
            (PersonalDataKind.BANK_CARD, _CARD, _card),
            (PersonalDataKind.MOBILE, _MOBILE, lambda _digits: True),
            (PersonalDataKind.LANDLINE, _LANDLINE, _landline))


def refuse(**texts: str | None) -> None:
    """InvalidInput naming every one of ``texts`` that holds personal data (services call it
    on the free text they are about to store)."""
    errors = field_errors(texts)
    if errors:
        raise InvalidInput(errors)
