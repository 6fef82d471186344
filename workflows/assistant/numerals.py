"""Numbers written with Chinese numerals (三十八, 两千五, 一万二, 二十六) or digits (38.6, 12,600)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}
SMALL = {"十": 10, "百": 100, "千": 1000}
LARGE = {"万": 10_000, "亿": 100_000_000}
CHARS = "".join(DIGITS) + "".join(SMALL) + "".join(LARGE)


def to_decimal(text: str) -> Decimal | None:
    """The value of ``text``: digits (with thousands commas and a decimal point), Chinese
    numerals, or digits followed by 万 / 亿 (38.6万). None when it is not a number."""
    text = text.strip().replace(",", "").replace("，", "")
    if not text:
        return None
    if text[-1] in LARGE and len(text) > 1 and not any(ch in CHARS for ch in text[:-1]):
        head = to_decimal(text[:-1])
        return None if head is None else head * LARGE[text[-1]]
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    if all(ch in CHARS for ch in text):
        return Decimal(_chinese(text))
    return None


def _chinese(text: str) -> int:
    """三十八 = 38, 一百零五 = 105, 两千五 = 2500 and 一万二 = 12000 (a last digit right after a
    unit counts one unit lower, as people say it)."""
    total = section = number = 0
    unit = 1                    # the unit just passed
    zero = False
    for ch in text:
        if ch in DIGITS:
            number = DIGITS[ch]
            zero = zero or number == 0
        elif ch in SMALL:
            section += (number or 1) * SMALL[ch]
            number, unit, zero = 0, SMALL[ch], False
        else:
            total += (section + number) * LARGE[ch]
            section = number = 0
            unit, zero = LARGE[ch], False
    if number and unit > 1 and not zero:
        number *= unit // 10
    return total + section + number
