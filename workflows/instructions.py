"""Task instructions: Jinja SandboxedEnvironment -> Markdown (raw HTML off) -> nh3 (R-TPL-1)."""

from __future__ import annotations

from typing import Any

import nh3
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "blockquote", "h1", "h2",
        "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "hr"}
ATTRIBUTES = {"a": {"href", "title"}}
_env = SandboxedEnvironment(autoescape=True)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def render_instructions(text: str | None, data: dict[str, Any] | None = None) -> str:
    """Sanitized HTML for a task's instructions; template errors fall back to the plain text."""
    if not text:
        return ""
    try:
        # task data holds no personal data (party ids only), so it may appear in instructions
        source = _env.from_string(text).render(**{k: v for k, v in (data or {}).items()
                                                  if isinstance(k, str) and k.isidentifier()})
    except (TemplateError, TypeError, ValueError):
        source = text
    html = _markdown.render(source)
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer")
