"""Self-contained HTML report of a case's history (inline CSS, no scripts, no external links)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment

from workflows.models import STATUS_LABELS
from workflows.replay.export_words import Words

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)  # noqa: S701 - autoescape on

_TEMPLATE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>案卷审计报告 {{ case.case_no }}</title>
<style>
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;color:#212529}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border:1px solid #ced4da;padding:.3rem .4rem;vertical-align:top;text-align:left}
th{background:#f1f3f5}.ok{color:#146c43}.bad{color:#b02a37;font-weight:bold}
.hash{font-family:monospace;font-size:.75rem;word-break:break-all}
.changes{margin:0;padding-left:1rem;white-space:pre-line}.muted{color:#6c757d}
</style>
</head>
<body>
<h1>案卷审计报告 · {{ case.case_no }}</h1>
<table>
<tr><th>案件</th><td>{{ case.case_no }} · {{ case.summary }} · 状态 {{ statuses.get(case.status, case.status) }}</td></tr>
<tr><th>导出时间</th><td>{{ exported_at }}（北京时间）· 导出人 {{ doc.exported_by.username }}
 （{{ roles.get(doc.exported_by.role) or words.kind(doc.exported_by.type) }}）</td></tr>
<tr><th>审计链</th><td>{{ doc.chain }} · {{ doc.events|length }} 条事件 · 链头 seq
 {{ doc.head.seq }} <span class="hash">{{ doc.head.hash }}</span></td></tr>
<tr><th>导出时校验</th><td>{% if doc.verified_at_export.ok %}<span class="ok">链完整</span>
{% else %}<span class="bad">链已损坏：{{ doc.verified_at_export.breaks|join('；') }}</span>{% endif %}</td></tr>
<tr><th>JSON 文件</th><td>sha256 <span class="hash">{{ json_sha256 }}</span> · 算法
 {{ doc.algorithm }} · 密钥 {{ doc.key_ids|join(', ') }} · 离线校验：
 <code>jiefen audit verify-export 文件.json</code></td></tr>
</table>
<h2>事件记录</h2>
<table>
<thead><tr><th>序号</th><th>时间（北京）</th><th>操作人 / 角色</th><th>事件</th><th>内容</th>
<th>数据变化</th><th>哈希</th></tr></thead>
<tbody>
{% for e in entries %}
<tr>
<td>{{ e.seq if e.seq is not none else '—' }}{% if e.chain != doc.chain %}<br><span class="muted">{{ words.chain(e.chain) }}</span>{% endif %}</td>
<td>{{ e.local_time }}</td>
<td>{{ words.actor(e) }}{% if words.acting_as(e) %}<br><span class="muted">{{ words.acting_as(e) }}</span>{% endif %}</td>
<td>{{ e.title }}</td>
<td>{{ words.detail(e) }}</td>
<td>{% if e.changes %}<ul class="changes">{% for c in e.changes %}
<li>{{ words.field(c.key) }}：{{ words.value(c.key, c.before) }} → {{ words.value(c.key, c.after) }}</li>{% endfor %}</ul>{% endif %}</td>
<td class="hash">{{ e.hash[:16] }}</td>
</tr>
{% endfor %}
</tbody>
</table>
<p class="muted">本报告由解纷系统生成；以 JSON 文件及其校验结果为准。个人信息按规定脱敏，不在报告中出现。</p>
</body>
</html>
"""


def render_report(doc: dict, history: dict, json_sha256: str,
                  role_names: Mapping[str, str] | None = None) -> str:
    """The HTML report of an export document and the case history read model (its ``labels``
    name the changed fields); ``role_names``: role code -> the role's Chinese name (the ``role``
    table), so no row shows a role's code."""
    exported = datetime.fromisoformat(doc["exported_at"].replace("Z", "+00:00"))
    return _ENV.from_string(_TEMPLATE).render(
        doc=doc, case=doc["case"], entries=history["entries"], json_sha256=json_sha256,
        exported_at=exported.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S"),
        words=Words(history, dict(role_names or {})), roles=dict(role_names or {}),
        statuses=STATUS_LABELS)
