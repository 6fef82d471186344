"""Validation problems and dry-run errors in the page's language.

The engine reports problems as English sentences (for logs and the CLI) and, where it can, as a
code with parameters. The editor shows them in words: by code first, else by recognising the
engine's sentence; expressions and ids come from the BPMN file and stay as drawn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask_babel import gettext as _

from web.messages import field_errors

Words = Callable[[re.Match], str]


def _what(kind: str) -> str:
    return {
        "condition": _("条件"), "timer": _("计时器"), "loop cardinality": _("多实例数量"),
        "completion condition": _("完成条件"), "loop condition": _("循环条件"),
        "loop maximum": _("循环上限"), "message payload": _("消息内容"),
        "correlation expression": _("消息关联表达式"), "input entry": _("决策表输入条件"),
        "output entry": _("决策表输出"), "expression": _("表达式"),
    }.get(kind) or (_("参数 %(name)s", name=kind.split(" ", 1)[1])
                    if kind.startswith("parameter ") else _("表达式"))


def expression_reason(text: str) -> str:
    """Why an expression was refused (engine.expressions), in words."""
    for pattern, words in _REASONS:
        match = pattern.search(text)
        if match:
            return words(match)
    return _("无法计算")


_REASONS: list[tuple[re.Pattern, Words]] = [
    (re.compile(r"unknown name '(?P<n>[^']+)'"),
     lambda m: _("用到的数据 %(name)s 不存在", name=m["n"])),
    (re.compile(r"name '(?P<n>[^']+)' is not allowed"),
     lambda m: _("不允许使用名称 %(name)s", name=m["n"])),
    (re.compile(r"syntax error"), lambda m: _("写法有语法错误")),
    (re.compile(r"too complex"), lambda m: _("表达式过于复杂")),
    (re.compile(r"longer than"), lambda m: _("表达式超过 2000 个字符")),
    (re.compile(r"only calls to allowed functions"), lambda m: _("只能调用允许的函数")),
    (re.compile(r"literals are allowed"), lambda m: _("只允许文字、数字、真假值和空值")),
    (re.compile(r"(?P<n>\w+) is not allowed"), lambda m: _("不允许这种写法（%(kind)s）", kind=m["n"])),
    (re.compile(r"division by zero"), lambda m: _("除数为零")),
    (re.compile(r"cannot compare"), lambda m: _("两边的值无法比较")),
    (re.compile(r"no item '?(?P<k>[^':]+)'?"), lambda m: _("没有 %(key)s 这一项", key=m["k"])),
    (re.compile(r"needs numbers|needs a number"), lambda m: _("需要数字")),
]

_EXPR_KINDS = (r"condition|timer|loop cardinality|completion condition|loop condition|"
               r"loop maximum|message payload|correlation expression|input entry|output entry|"
               r"parameter \w+")

_PATTERNS: list[tuple[re.Pattern, Words]] = [
    (re.compile(rf"^(?P<k>{_EXPR_KINDS}) (?P<e>'.*'|\".*\"): (?P<r>.*)$", re.DOTALL),
     lambda m: _("%(what)s %(expr)s：%(reason)s", what=_what(m["k"]), expr=m["e"],
                 reason=expression_reason(m["r"]))),
    (re.compile(rf"^empty (?P<k>{_EXPR_KINDS})$"), lambda m: _("%(what)s为空", what=_what(m["k"]))),
    (re.compile(r"^Error evaluating expression '(?P<e>.*)'(?::(?P<r>.*))?$", re.DOTALL),
     lambda m: _("计算表达式 %(expr)s 出错：%(reason)s", expr=m["e"],
                 reason=expression_reason(m["r"] or ""))),
    (re.compile(r"^timeCycle (?P<c>'.*'|\".*\") is not an ISO-8601 cycle$"),
     lambda m: _("重复计时器 %(cycle)s 不是 ISO-8601 重复格式（如 R3/PT24H）", cycle=m["c"])),
    (re.compile(r"^timer (?P<s>'.*'|\".*\") is not an ISO-8601 duration"),
     lambda m: _("计时器 %(spec)s 不是 ISO-8601 时长（如 PT2H、P15D）、带时区的日期时间、"
                 "working_days(n)、statutory_days(n)、statutory_months(n) 或数据名", spec=m["s"])),
    (re.compile(r"^timeCycle must be an ISO-8601 cycle such as R3/PT1H, not (?P<c>.*)$"),
     lambda m: _("重复计时器 %(cycle)s 不是 ISO-8601 重复格式（如 R3/PT24H）", cycle=m["c"])),
    (re.compile(r"^(?:timer|deadline|timeCycle period) (?P<s>'.*'|\".*\"): (?P<r>.*)$"),
     lambda m: _("期限 %(spec)s 无法计算", spec=m["s"])),
    (re.compile(r"^event-based gateway"),
     lambda m: _("事件网关：其计时器不进入期限索引，请改用边界事件")),
    (re.compile(r"^element cannot be reached"), lambda m: _("从开始事件无法到达此元素")),
    (re.compile(r"^gateway has conditions but no default flow"),
     lambda m: _("网关有条件分支，但没有默认分支")),
    (re.compile(r"^multi-instance collection (?P<c>.*) must be a data name$"),
     lambda m: _("多实例集合 %(name)s 必须是一个数据名", name=m["c"])),
    (re.compile(r"^unknown service operation '(?P<o>[^']*)'"),
     lambda m: _("未知的服务操作 %(name)s", name=m["o"])),
    (re.compile(r"^service task names no operation"),
     lambda m: _("服务任务没有指定操作（spiffworkflow:serviceTaskOperator）")),
    (re.compile(r"^messageVariable must be inside"),
     lambda m: _("messageVariable 必须放在消息事件定义内（否则消息内容会丢失）")),
    (re.compile(r"^form field (?P<f>[^:]+): personal data"),
     lambda m: _("表单字段 %(field)s：个人信息应记在当事人档案中，不能放进任务数据", field=m["f"])),
    (re.compile(r"^form field (?P<f>[^:]+): (?P<r>.*)$"),
     lambda m: _("表单字段 %(field)s：%(reason)s", field=m["f"], reason=_form_reason(m["r"]))),
    (re.compile(r"^user task is in no lane"),
     lambda m: _("用户任务不在任何泳道中（没有角色可以办理）")),
    (re.compile(r"^instructions template"), lambda m: _("办理说明模板有语法错误")),
    (re.compile(r"^called process '(?P<p>[^']+)' is not in the bundle"),
     lambda m: _("调用的流程 %(process)s 不在这组文件中", process=m["p"])),
    (re.compile(r"^scripts are not allowed"), lambda m: _("不允许使用脚本")),
    (re.compile(r"^no files$"), lambda m: _("没有文件")),
    (re.compile(r"^bundle is larger than"), lambda m: _("文件总大小超过 10 MiB")),
    (re.compile(r"^file name must be a plain name"),
     lambda m: _("文件名须为不含文件夹的 .bpmn 或 .dmn 文件名")),
]


def _form_reason(text: str) -> str:
    for pattern, words in [
        (r"snake_case", lambda: _("字段标识须为小写字母、数字和下划线")),
        (r"duplicate field id", lambda: _("字段标识重复")),
        (r"unknown field type", lambda: _("未知的字段类型")),
        (r"enum field without options", lambda: _("下拉字段没有选项")),
        (r"must be a whole number", lambda: _("约束值须为整数")),
        (r"unknown constraint", lambda: _("未知的约束")),
        (r"pattern", lambda: _("格式约束不安全或过长")),
    ]:
        if re.search(pattern, text):
            return words()
    return _("定义有误")


def _by_code(code: str, params: Mapping[str, Any]) -> str | None:
    if code == "limit_cardinality" or code == "cardinality":
        return _("多实例或循环数量 %(count)s 超过上限 %(limit)s（设置 max_cardinality）",
                 count=params.get("count"), limit=params.get("limit"))
    if code == "limit_steps":
        return _("运行超过 %(limit)s 步仍未停下（可能是没有出口的循环），已中止",
                 limit=params.get("limit"))
    if code == "no_process":
        return _("这组文件中没有流程 %(process_id)s", process_id=params.get("process_id"))
    if code == "limit_seconds":
        return _("运行超过 %(limit)s 秒仍未停下，已中止", limit=params.get("limit"))
    return None


def problem_message(problem: Mapping[str, Any]) -> str:
    """One problem (``Problem.as_dict()``) in words."""
    text = _by_code(str(problem.get("code") or ""), problem.get("params") or {})
    if text:
        return text
    message = str(problem.get("message") or "")
    for pattern, words in _PATTERNS:
        match = pattern.search(message)
        if match:
            return words(match)
    return _("流程定义有误，无法解析（请对照 BPMN 规范检查此元素）")


def in_words(problems: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Problems with ``message`` in words; the engine's sentence kept as ``detail``."""
    return [{**p, "message": problem_message(p), "detail": p.get("message")} for p in problems]


def dry_run_error(error: Mapping[str, Any]) -> dict:
    """A dry run's refused action in words (``engine.simulate._error``), field codes worded."""
    params = error.get("params") or {}
    element = error.get("element_id")
    text = {
        "no_timer": lambda: _("没有等待中的计时器"),
        "no_calendar": lambda: _("没有工作日历，无法按时长推进"),
        "bad_duration": lambda: _("时长 %(spec)s 无法识别（如 PT2H、P1D、working_days(2)）",
                                  spec=params.get("spec")),
        "no_offset": lambda: _("推进到的时间须带时区"),
        "clock_back": lambda: _("时钟不能倒退"),
        "unknown_action": lambda: _("无法识别的操作"),
        "bad_action": lambda: _("无法识别的操作"),
        "not_ready": lambda: _("任务 %(element)s 当前不可办理", element=element),
        "form": lambda: _("表单有误，请按字段提示修改"),
        "missing_data": lambda: _("表达式 %(expr)s 用到的数据 %(name)s 不存在：请在示例数据中补上它",
                                  expr=params.get("expression"), name=params.get("name")),
        "expression": lambda: _("计算表达式 %(expr)s 出错：%(reason)s",
                                expr=params.get("expression"),
                                reason=expression_reason(str(params.get("detail") or ""))),
    }.get(str(error.get("code") or ""))
    words = text() if text else problem_message({"message": error.get("message")})
    if element:
        words = _("元素 %(element)s：%(text)s", element=element, text=words)
    out = {**error, "message": words, "detail": error.get("message")}
    if error.get("field_errors"):
        out["field_errors"] = field_errors(error["field_errors"])
    return out


def _step_words(step: list | None) -> str:
    if not step:
        return _("（路径已结束）")
    element, outcome = step[0], step[1] if len(step) > 1 else "completed"
    return _("%(element)s（已取消）", element=element) if outcome == "cancelled" else str(element)


def _ids(values: list) -> str:
    return "、".join(str(v) for v in values) or _("（无）")


def difference_words(difference: Mapping[str, Any]) -> str:
    """One way a re-run example differs from when it was saved (engine.path_compare)."""
    p = difference.get("params") or {}
    code = difference.get("code")
    if code == "path":
        text = _("第 %(step)s 步不同：原来是 %(before)s，现在是 %(after)s", step=p.get("step"),
                 before=_step_words(p.get("before")), after=_step_words(p.get("after")))
        if p.get("missing"):
            text += _("；不再经过：%(ids)s", ids=_ids(p["missing"]))
        if p.get("extra"):
            text += _("；新经过：%(ids)s", ids=_ids(p["extra"]))
        return text
    if code == "ready":
        return _("最后等待办理的任务：原来 %(before)s，现在 %(after)s",
                 before=_ids(p.get("before") or []), after=_ids(p.get("after") or []))
    if code == "armed":
        return _("最后等待中的计时器：原来 %(before)s，现在 %(after)s",
                 before=_ids(p.get("before") or []), after=_ids(p.get("after") or []))
    if code == "completed":
        return _("流程现在会走到结束") if p.get("after") else _("流程现在不再走到结束")
    if code == "error_now":
        return _("现在第 %(action)s 步操作被拒绝（元素 %(element)s）", action=p.get("action"),
                 element=p.get("element_id") or "—")
    if code == "error_gone":
        return _("原来第 %(action)s 步被拒绝的操作现在可以执行", action=p.get("action"))
    return _("结果不同")


def check_words(check: Mapping[str, Any]) -> dict:
    """A re-run example with its verdict in words."""
    if check.get("problems"):
        verdict = _("新草稿无法运行此示例：%(why)s",
                    why="；".join(problem_message(p) for p in check["problems"]))
    elif check.get("same"):
        verdict = _("路径没有变化")
    else:
        verdict = _("路径有变化")
    return {**check, "verdict": verdict,
            "details": [difference_words(d) for d in check.get("differences") or []]}
