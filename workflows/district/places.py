"""The place tree: paths, the names along a path, and the normal form of a standard address."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Place, path_ids


def child_path(parent: Place | None, place_id: int) -> str:
    """The path of a place under ``parent`` ("/1/7/" + "42/")."""
    return f"{parent.path if parent is not None else '/'}{place_id}/"


def location_of(session: Session, place_id: int | None, place_path: str | None) -> dict | None:
    """``{"place_code", "names"}`` of a case's place: the names from the district down (a city
    root is left out: everybody in one deployment knows the city)."""
    if place_id is None:
        return None
    ids = path_ids(place_path)
    rows = {row.id: row for row in session.execute(
        select(Place.id, Place.code, Place.name, Place.level).where(Place.id.in_(ids)))}
    chain = [rows[i] for i in ids if i in rows]
    names = [row.name for row in chain if row.level != "city"]
    code = rows[place_id].code if place_id in rows else None
    return {"place_code": code, "names": names}


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")
_NOISE = re.compile(r"[\s,，.。·・\-－—()（）#＃]")


def _cn_to_int(text: str) -> int:
    if not any(char in "十百" for char in text):   # read digit by digit: 一二三 = 123
        return int("".join(str(_CN_DIGITS[char]) for char in text))
    total, digit = 0, 0
    for char in text:
        if char in "十百":
            total += (digit or 1) * (10 if char == "十" else 100)
            digit = 0
        else:
            digit = _CN_DIGITS[char]
    return total + digit


def address_key(address: str) -> str:
    """Normal form for exact matching: full-width folded, spaces and punctuation gone, Chinese
    numerals as digits (十二栋 = 12栋), 号楼/幢 read as 栋."""
    text = unicodedata.normalize("NFKC", address or "").strip().lower()
    text = _CN_NUMBER.sub(lambda match: str(_cn_to_int(match.group())), text)
    text = text.replace("号楼", "栋").replace("幢", "栋")
    return _NOISE.sub("", text)
