"""Chinese words of a description, for the classifier.

jieba segments the text. Its full dictionary (350,000 words) takes seconds to load on a busy
machine, so the tokenizer is built once per process from the words jieba's own dictionary
counts at least ``MIN_FREQ`` times (about 36,000) plus the domain words below; rarer words fall
to jieba's HMM for unknown words. Training and suggesting use the same tokenizer.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings
from pathlib import Path

MIN_FREQ = 100
# words of disputes that a frequency cut would lose or split
DOMAIN_WORDS = (
    "物业费", "维修基金", "维修资金", "业委会", "业主委员会", "电梯", "包工头", "农民工", "讨薪",
    "欠薪", "拖欠工资", "劳务费", "工伤", "经济补偿", "劳动合同", "社保", "征收", "拆迁",
    "安置房", "过渡费", "评估价", "承包地", "土地流转", "流转费", "宅基地", "自留山", "林权证",
    "确权", "赡养费", "抚养费", "彩礼", "广场舞", "占道经营", "夜间施工", "高空抛物", "扬言",
    "跳楼", "信访", "信访人", "转办", "交办", "漏水", "噪声", "油烟",
)
_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}")
_lock = threading.Lock()
_tokenizer = None


def words(text: str) -> list[str]:
    """The words of ``text`` that carry meaning: Chinese words and Latin ones of two letters or
    more; numbers and punctuation are dropped (amounts are a point of dispute, not a topic)."""
    return [w for w in _cut(text) if _WORD.search(w)]


def _cut(text: str) -> list[str]:
    return list(tokenizer().cut(text, HMM=True))


def tokenizer():
    """The process's jieba tokenizer (built at first use)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _build()
    return _tokenizer


def _build():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba imports pkg_resources
        import jieba
    jieba.setLogLevel(logging.WARNING)
    source = Path(jieba.__file__).with_name("dict.txt")
    kept = bytearray()
    with source.open("rb") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and int(parts[1]) >= MIN_FREQ:
                kept += line
    tok = jieba.Tokenizer()
    tok.FREQ, tok.total = tok.gen_pfdict(io.BytesIO(bytes(kept)))
    tok.initialized = True
    for word in DOMAIN_WORDS:
        tok.add_word(word, freq=2000)
    return tok
