"""Display masks for personal data, applied on the server before templating."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

MASK = "*"
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_ADDRESS_UNITS = frozenset("省市区县旗盟州镇乡道路街巷弄村")  # administrative and street markers
_ADDRESS_PREFIX = 6


# two-character family names (复姓): the mask keeps the whole family name ('欧阳**')
COMPOUND_SURNAMES = frozenset((
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 独孤 南宫 "
    "西门 百里 呼延 端木 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 仲孙 闻人 万俟 赫连 拓跋 司空 "
    "东郭 第五 羊舌 微生 梁丘 左丘 东门 谷梁 公羊 乐正 漆雕").split())


def mask_name(name: str | None) -> str:
    """Family name + one '*' per other character: '张三' -> '张*',
    '王小明' -> '王**', '欧阳娜娜' -> '欧阳**'; a one-character name is '*'."""
    text = (name or "").strip()
    if len(text) <= 1:
        return MASK * len(text)
    keep = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    return text[:keep] + MASK * (len(text) - keep)


def mask_phone(phone: str | None) -> str:
    """'13812345678' -> '138****5678'; landlines keep area code and last 4; short -> all '*'."""
    text = _PHONE_SEPARATORS.sub("", (phone or "").strip())
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        return MASK * len(text)
    for prefix in ("0086", "86"):  # country code of a mainland mobile number
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix + "1"):
            digits = digits[len(prefix) :]
    if len(digits) >= 11:
        return digits[:3] + MASK * (len(digits) - 7) + digits[-4:]
    if len(digits) >= 7:
        return MASK * (len(digits) - 4) + digits[-4:]
    return MASK * len(digits)


def mask_id_number(id_number: str | None) -> str:
    """First 4 and last 4 of an 18-digit ID ('3101**********1234'); birth date always hidden."""
    text = re.sub(r"\s", "", id_number or "").upper()
    if len(text) == 18:
        return text[:4] + MASK * 10 + text[-4:]
    if len(text) == 15:  # legacy: the 6 birth digits (YYMMDD) sit at positions 7-12
        return text[:4] + MASK * 8 + text[-3:]
    if len(text) >= 8:  # passports and other documents
        return text[:2] + MASK * (len(text) - 4) + text[-2:]
    return MASK * len(text)


def mask_address(address: str | None) -> str:
    """Keep the district/street prefix (at most 6 characters, no house numbers), mask the rest."""
    text = (address or "").strip()
    prefix = text[:_ADDRESS_PREFIX]
    first_digit = next((i for i, char in enumerate(prefix) if char.isdigit()), len(prefix))
    prefix = prefix[:first_digit]
    unit_ends = [i + 1 for i, char in enumerate(prefix) if char in _ADDRESS_UNITS]
    # without an administrative marker nothing says where the public part ends: keep little
    keep = unit_ends[-1] if unit_ends else min(len(prefix), 3, len(text) // 2)
    return text[:keep] + MASK * (len(text) - keep)


MASKERS: dict[str, Callable[[str | None], str]] = {
    "name": mask_name,
    "phone": mask_phone,
    "id_number": mask_id_number,
    "address": mask_address,
}


def mask_fields(values: Mapping[str, str | None]) -> dict[str, str]:
    """Masked display values for the known party fields present in values (party.masked JSON)."""
    return {field: MASKERS[field](value) for field, value in values.items() if field in MASKERS}
