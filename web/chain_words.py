"""Audit-chain breaks in the page's language. The verifier names a break in English (the CLI
and logs keep that); pages show these words."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# (pattern of the verifier's reason, words); the first match wins
_REASONS = (
    (r"^hash mismatch", _l("哈希不符：事件内容被改动")),
    (r"^missing or reordered event", _l("缺少事件或顺序被打乱")),
    (r"^duplicate sequence", _l("序号重复")),
    (r"^previous-hash link broken", _l("与前一事件的哈希链接断开（事件被重排或删除）")),
    (r"^unknown audit key", _l("使用了未知的审计密钥")),
    (r"^chain head does not match", _l("链头与最后一条事件不符（事件被删除？）")),
    (r"^the case has no audit chain", _l("案件没有审计链：其事件连同链头被删除")),
    (r"^the chain lacks the case's registration", _l("审计链缺少案件登记事件：被删除后重新开始？")),
    (r"^the chain does not open with", _l("审计链不是从案件登记开始：被删除后重新开始？")),
    (r" has no \w+ ", _l("系统对象缺少其创建事件")),
    (r"^the chain head is gone", _l("上次核验后链头不见了（事件被删除？）")),
    (r"^verified position altered", _l("保存的核验位置被改动（签名无效）")),
    (r"^events deleted since the chain", _l("上次核验后有事件被删除")),
    (r"^the event verified last time", _l("上次核验到的事件被删除或改写")),
    (r"^checkpoint MAC invalid", _l("链头检查点的签名无效（被改动）")),
    (r"MAC invalid", _l("导出的链头记录签名无效（被改动）")),
    (r"^checkpoint row deleted", _l("链头检查点记录被删除（导出副本中仍在）")),
    (r"^exported head .* is missing", _l("导出的链头已不在链中：此后有事件被删除")),
    (r"^exported head .* is different", _l("导出的链头与链中事件不同：此后有事件被改写")),
)
_COMPILED = tuple((re.compile(pattern), words) for pattern, words in _REASONS)


def break_words(reason: str | None) -> str:
    """The reason in words (the English text itself when no pattern knows it)."""
    text = reason or ""
    for pattern, words in _COMPILED:
        if pattern.search(text):
            return str(words)
    return text
