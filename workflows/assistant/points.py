"""Points of dispute read from a description: amounts in yuan, dates and periods, the
organisations named, and how many people are involved. Regular expressions and the numeral
parser only; what is found is shown to the clerk, who fills in the form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from workflows.assistant.numerals import CHARS, DIGITS, to_decimal

_NUM = rf"\d+(?:[,，]\d{{3}})*(?:\.\d+)?|[{CHARS}]+"
_AMOUNT = re.compile(rf"(?P<num>\d+(?:[,，]\d{{3}})*(?:\.\d+)?|[{CHARS}]+)(?P<more>多|余)?"
                     r"(?P<unit>亿元|亿|万元|万块|万|千元|千块|元|块钱|块)")
_RATE = re.compile(r"(每|月薪|年薪|日薪|时薪|/)[^，。；]{0,6}$")
_FULL_DATE = re.compile(r"(?<!\d)(\d{4})(?:年(?:(\d{1,2})月(?:(\d{1,2})[日号])?)?"
                        r"|[\-/.](\d{1,2})[\-/.](\d{1,2})(?!\d))")
_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})[日号]")
_RELATIVE = re.compile(r"去年|今年|前年|上个月|本月|这个月|上周|春节前|春节后|年底|年初")
_PERIOD = re.compile(rf"(?P<n>半|几|好几|十几|[{CHARS}]+|\d+)(?P<more>多)?"
                     r"(?P<unit>个月|年|天|周|个星期)")
_PEOPLE = re.compile(rf"(?P<n>\d+|[{CHARS}]+)(?P<more>多|余|几)?(?P<unit>名|个人|人|位|户)"
                     r"(?!民|家|员|工作|口)")
_ORG = re.compile(r"(?P<name>[\u4e00-\u9fffA-Za-z]{0,12}?)"
                  r"(?P<kind>有限责任公司|有限公司|股份公司|公司|集团|合作社|工厂|厂|酒店|餐馆|饭店|"
                  r"超市|医院|幼儿园|学校|银行|驾校|培训机构|开发商|项目部|村委会|居委会|4S店|健身房|"
                  r"美容院|旅行社|影楼)")
# a name starts after the last of these (我在新港一家餐馆 -> 餐馆)
_BEFORE_NAME = re.compile(r".*(在|被|向|给|和|与|跟|的|是|了|到|把|由|对|我|他|她|们|一家|家|去|说|从|为|"
                          r"日起|月起|起|以后|之后|后|以前|前)")
_GENERIC = {"公司", "厂", "工厂", "医院", "学校", "银行", "超市", "酒店", "饭店", "餐馆", "开发商",
            "项目部", "村委会", "居委会", "集团", "合作社", "幼儿园", "驾校", "健身房", "美容院",
            "旅行社", "影楼", "培训机构", "4S店"}


@dataclass
class Points:
    """What the description says about money, time, the other side and the people involved."""

    amounts: list[dict] = field(default_factory=list)    # {"text", "yuan", "rate"}
    amount: Decimal | None = None                        # the largest amount that is no rate
    dates: list[dict] = field(default_factory=list)      # {"text", "iso"} (iso None: no year)
    periods: list[str] = field(default_factory=list)     # 三个月, 半年
    organisations: list[str] = field(default_factory=list)
    people: int | None = None                            # the largest head count named

    def as_json(self) -> dict:
        """The JSON form (amounts as strings of yuan with two decimals)."""
        return {"amount": _yuan(self.amount),
                "amounts": [{**a, "yuan": _yuan(a["yuan"])} for a in self.amounts],
                "dates": self.dates, "periods": self.periods,
                "organisations": self.organisations, "people": self.people}


def _yuan(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def extract(text: str) -> Points:
    """The points of dispute in ``text``."""
    return Points(amounts=(found := amounts(text)),
                  amount=max((a["yuan"] for a in found if not a["rate"]), default=None),
                  dates=dates(text), periods=periods(text), organisations=organisations(text),
                  people=people(text))


_UNITS = {"亿元": Decimal(100_000_000), "亿": Decimal(100_000_000), "万元": Decimal(10_000),
          "万块": Decimal(10_000), "万": Decimal(10_000), "千元": Decimal(1000),
          "千块": Decimal(1000)}


def amounts(text: str) -> list[dict]:
    """Every sum of money: 38.6万元, 12600元, 两千块钱, 一万二千元, 二十多万."""
    found = []
    for match in _AMOUNT.finditer(text):
        number = to_decimal(match.group("num"))
        if number is None or number <= 0:
            continue
        yuan = number * _UNITS.get(match.group("unit"), Decimal(1))
        said = match.group(0)
        tail = text[match.end():match.end() + 2]
        if match.group("unit") == "万" and tail[:1] in DIGITS and tail[1:2] not in CHARS:
            yuan += DIGITS[tail[0]] * 1000      # 一万二: twelve thousand
            said += tail[0]
        rate = _RATE.search(text[max(0, match.start() - 8):match.start()]) is not None
        found.append({"text": said, "yuan": yuan, "rate": rate})
    return found


def dates(text: str) -> list[dict]:
    """Dates as written, with an ISO form when the year is given (2025-03, 2025-03-15)."""
    found, taken = [], []
    for match in _FULL_DATE.finditer(text):
        year = match.group(1)
        month, day = match.group(2) or match.group(4), match.group(3) or match.group(5)
        if (month is not None and not 1 <= int(month) <= 12) \
                or (day is not None and not 1 <= int(day) <= 31):
            continue
        iso = year if month is None else f"{year}-{int(month):02d}" + (
            f"-{int(day):02d}" if day else "")
        found.append({"text": match.group(0), "iso": iso})
        taken.append(match.span())
    for match in _DAY.finditer(text):
        if not any(a <= match.start() < b for a, b in taken) and 1 <= int(match.group(1)) <= 12:
            found.append({"text": match.group(0), "iso": None})
    found += [{"text": m.group(0), "iso": None} for m in _RELATIVE.finditer(text)]
    return found


def periods(text: str) -> list[str]:
    """Lengths of time: 三个月, 半年, 两年多, 十几天."""
    out = []
    for match in _PERIOD.finditer(text):
        n = match.group("n")
        if n[-1] in "万亿" or (n.isdigit() and match.group("unit") == "年" and len(n) == 4):
            continue        # 2025年 is a date
        if match.group(0) not in out:
            out.append(match.group(0))
    return out


def people(text: str) -> int | None:
    """The largest number of people named (三十多名农民工 -> 30, 十几个人 -> 10)."""
    counts = []
    for match in _PEOPLE.finditer(text):
        n = match.group("n")
        value = 10 if n == "十" and match.group("more") == "几" else to_decimal(n)
        if value is not None and 1 <= value < 1_000_000:
            counts.append(int(value))
    return max(counts, default=None)


def organisations(text: str) -> list[str]:
    """Organisations named (临江宏达劳务有限公司, 电子公司); a bare 公司 names nobody."""
    out: list[str] = []
    for match in _ORG.finditer(text):
        name = _BEFORE_NAME.sub("", match.group("name")) + match.group("kind")
        if name not in _GENERIC and len(name) >= 3 and name not in out:
            out.append(name)
    return out[:5]
