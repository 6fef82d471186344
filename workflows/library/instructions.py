"""Task instructions: Jinja SandboxedEnvironment -> Markdown (raw HTML off) -> nh3; generated
documents: Markdown -> nh3."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import nh3
from jinja2 import TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "blockquote", "h1", "h2",
        "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "hr"}
ATTRIBUTES = {"a": {"href", "title"}}
_env = SandboxedEnvironment(autoescape=True)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
# Instructions are BPMN text rendered on every task page view: only substitution, conditions and
# cheap filters. Loops, calls, macros and arithmetic could hold a worker (the sandbox's range cap
# is per call, so nested loops or "x" * 10**9 are unbounded); such templates show as plain text.
_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const,
          nodes.Getattr, nodes.Getitem, nodes.If, nodes.CondExpr, nodes.Compare, nodes.Operand,
          nodes.And, nodes.Or, nodes.Not, nodes.Test, nodes.Filter, nodes.Concat)
_FILTERS = frozenset({"default", "d", "e", "escape", "upper", "lower", "trim", "title",
                      "length", "count", "join", "first", "last", "string", "label", "unit",
                      "period"})


def _as_is(value: Any, *_: Any) -> Any:
    return value


# ``label(kind)``, ``unit`` and ``period`` turn codes into words; the pages pass their own (translated label
# tables, unit names), everything else (dry runs) shows the codes
DEFAULT_FILTERS: dict[str, Callable[..., Any]] = {"label": _as_is, "unit": _as_is, "period": _as_is}
_TESTS = frozenset({"defined", "undefined", "none", "number", "string", "true", "false"})


def render_instructions(text: str | None, data: dict[str, Any] | None = None,
                        filters: dict[str, Callable[..., Any]] | None = None) -> str:
    """Sanitized HTML for a task's instructions; template errors fall back to the plain text."""
    if not text:
        return ""
    env = _env.overlay()
    env.filters.update({**DEFAULT_FILTERS, **(filters or {})})
    try:
        # task data holds no personal data (party ids only), so it may appear in instructions
        tree = env.parse(text)
        source = env.from_string(tree).render(**{k: v for k, v in (data or {}).items()
                                                  if isinstance(k, str) and k.isidentifier()}) \
            if _cheap(tree) else text
    except (TemplateError, TypeError, ValueError):
        source = text
    html = _markdown.render(source)
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer")


_HEADING = re.compile(r"\*\*[^*]+\*\*")


def render_document(text: str | None) -> str:
    """Sanitized HTML for a generated document's (masked) Markdown body. Masks are runs of '*'
    ('138****5678', '刘*'): escaped first, so two masked values on a line never turn the text
    between them bold; a line that is one bold heading (**一、当事人**) stays bold."""
    if not text:
        return ""
    lines = [line if _HEADING.fullmatch(line.strip()) else line.replace("*", "\\*")
             for line in text.split("\n")]
    html = _markdown.render("\n".join(lines))
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer")


def _cheap(tree: nodes.Template) -> bool:
    """True when the template only substitutes, tests and filters (bounded by its data)."""
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _NODES):
            return False
        if isinstance(node, nodes.Filter) and node.name not in _FILTERS:
            return False
        if isinstance(node, nodes.Test) and node.name not in _TESTS:
            return False
    return True
