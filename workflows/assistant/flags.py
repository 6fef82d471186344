"""Urgency flags: transparent keyword rules over the description.

A flag never changes a case by itself: the clerk sees it while registering, and a registered
case with a flag gets a red-flag review by a person (``records.py``). A negation right before a
word (没有扬言) does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Flag(StrEnum):
    """What in a description calls for a person's review."""

    THREAT = "threat"                # 扬言, 威胁, 报复
    SELF_HARM = "self_harm"          # 自杀, 跳楼, 轻生
    GATHERING = "gathering"          # 聚集, 围堵, 拉横幅, 集体上访
    ROAD_BLOCK = "road_block"        # 堵路, 堵门, 拦车
    VIOLENCE = "violence"            # 持刀, 动手, 殴打
    MASS_WAGE_ARREARS = "mass_wage_arrears"   # wages owed to ten people or more


WORDS: dict[Flag, tuple[str, ...]] = {
    Flag.THREAT: ("扬言", "威胁", "报复", "同归于尽", "拼命", "放火", "炸掉", "炸了"),
    Flag.SELF_HARM: ("自杀", "跳楼", "跳下来", "跳河", "轻生", "寻死", "不想活", "喝农药", "自焚",
                     "割腕", "上吊"),
    Flag.GATHERING: ("聚集", "围堵", "拉横幅", "静坐", "集体上访", "闹访", "聚众", "去区政府",
                     "到区政府", "集体到"),
    Flag.ROAD_BLOCK: ("堵路", "堵门", "堵住厂门", "堵住大门", "堵厂门", "拦路", "拦车", "阻断交通", "封路"),
    Flag.VIOLENCE: ("持刀", "动刀", "动手", "殴打", "打起来", "打人", "砍人", "推搡", "打架"),
}
# owed pay: 讨薪, 欠薪, 被欠了四个月工资, 工资没有发, 工钱没结
WAGES = re.compile(r"讨薪|欠薪|(欠|没发|未发|不发|拿不到|没拿到|没有拿到)[^，。；]{0,8}(工资|工钱|劳务费|薪)"
                   r"|(工资|工钱|劳务费)[^，。；]{0,6}(没|未|不)[^，。；]{0,3}(发|给|结|到账)")
MASS = 10   # 劳动争议 with ten people or more is a collective matter
_NEGATION = re.compile(r"(没有|没|并未|未|不会|无)$")


@dataclass(frozen=True)
class FoundFlag:
    """A flag and the words of the text that raised it."""

    code: Flag
    words: tuple[str, ...]


def find(text: str, people: int | None = None) -> list[FoundFlag]:
    """The flags of ``text`` in ``Flag`` order; ``people``: how many the text says are
    involved (points.people), for the wage-arrears rule."""
    found = []
    for flag, words in WORDS.items():
        hits = tuple(w for w in words if _said(text, w))
        if hits:
            found.append(FoundFlag(flag, hits))
    wages = WAGES.search(text)
    if wages and people is not None and people >= MASS:
        found.append(FoundFlag(Flag.MASS_WAGE_ARREARS, (wages.group(0), f"{people}人")))
    return found


def _said(text: str, word: str) -> bool:
    start = text.find(word)
    while start >= 0:
        if not _NEGATION.search(text[max(0, start - 2):start]):
            return True
        start = text.find(word, start + 1)
    return False


# Chinese words of the flags in texts workflows writes itself (notices, CLI); pages use
# web/labels.py.
FLAG_LABELS: dict[str, str] = {Flag.THREAT: "扬言威胁", Flag.SELF_HARM: "自杀自伤",
                               Flag.GATHERING: "聚集上访", Flag.ROAD_BLOCK: "堵路堵门",
                               Flag.VIOLENCE: "暴力冲突", Flag.MASS_WAGE_ARREARS: "群体讨薪"}
