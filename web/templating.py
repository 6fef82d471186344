"""Jinja filters and globals: local time display, code labels, the signed-in user."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user
from markupsafe import Markup

from web.chain_words import break_words
from web.data_display import value_text
from web.homes import workbench
from web.labels import choices, label, labels, notice_label
from web.messages import message
from web.report_labels import report_cell, report_text, report_title
from web.time_display import localtime
from workflows.library.instructions import render_document
from workflows.reports.charts import shown_target


def document_html(body: str | None) -> Markup:
    """A generated document's Markdown as sanitized HTML (markdown-it, then nh3)."""
    return Markup(render_document(body))  # noqa: S704 - nh3-cleaned


def user_roles() -> frozenset[str]:
    """Role codes of the signed-in user (navigation only; the policy decides access)."""
    if current_user and current_user.is_authenticated:
        return current_user.session_user.roles
    return frozenset()


def has_inbox() -> bool:
    """Whether the signed-in user has case work (the menu's 待办 leads somewhere useful)."""
    return workbench(user_roles()) is None


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["label"] = lambda code, kind: label(kind, code)
    app.jinja_env.filters["labels"] = lambda codes, kind: labels(kind, codes)
    app.jinja_env.filters["notice_label"] = notice_label
    app.jinja_env.filters["message"] = message
    app.jinja_env.filters["document_html"] = document_html
    app.jinja_env.filters["data_value"] = \
        lambda value, key, units, options=None: value_text(key, value, units, options)
    app.jinja_env.filters["report_text"] = report_text
    app.jinja_env.filters["break_words"] = break_words
    app.jinja_env.filters["report_title"] = report_title
    app.jinja_env.globals["report_cell"] = report_cell
    app.jinja_env.globals["report_target"] = shown_target
    app.jinja_env.globals["label_choices"] = choices
    app.jinja_env.globals["user_roles"] = user_roles
    app.jinja_env.globals["has_inbox"] = has_inbox
