"""base.html and _macros.html render what users and htmx rely on; the catalogs compile."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask import Flask, render_template_string, session
from flask_babel import Babel, get_locale
from flask_wtf import CSRFProtect

WEB = Path(__file__).resolve().parents[2] / "web"
TRANSLATIONS = WEB / "translations"
MACROS = '{% import "_macros.html" as m with context %}'


def load_compile_module():
    """Import web/translations/compile.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("jf_compile", TRANSLATIONS / "compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("translations")
    assert load_compile_module().compile_all(out=out, strict=True) == []
    return out


@pytest.fixture
def app(compiled) -> Flask:
    app = Flask("frontend_templates", root_path=str(WEB))
    app.config.update(SECRET_KEY="test-only", BABEL_TRANSLATION_DIRECTORIES=str(compiled))
    CSRFProtect(app)
    Babel(app, locale_selector=lambda: session.get("locale", "zh_Hans_CN"))
    app.jinja_env.globals["get_locale"] = get_locale
    app.add_url_rule("/cases/<int:dept>", "cases", lambda dept: "")
    return app


def render(app: Flask, source: str, path: str = "/", **context) -> str:
    with app.test_request_context(path):
        return render_template_string(MACROS + source, **context)


def field(**kwargs) -> dict:
    return {"id": "x", "label": "标签", "type": "string", **kwargs}


def test_string_field_with_error_is_invalid_and_explains(app):
    html = render(app, "{{ m.form_field(f) }}", f=field(maxlength=20, error="必填", required=True))
    assert 'class="form-control is-invalid"' in html
    assert 'maxlength="20"' in html and " required" in html
    assert 'aria-describedby="f-x-error"' in html
    assert '<div class="invalid-feedback" id="f-x-error">必填</div>' in html


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("long", 'type="number" class="form-control" name="x" id="f-x"'),
        ("date", 'type="date"'),
        ("textarea", "<textarea"),
        ("mystery", 'type="text"'),
    ],
)
def test_field_types_render_their_control(app, kind, expected):
    html = render(app, "{{ m.form_field(f) }}", f=field(type=kind, min=1, max=9))
    assert expected in html
    assert "is-invalid" not in html


def test_long_field_keeps_bounds(app):
    html = render(app, "{{ m.form_field(f) }}", f=field(type="long", min=0, max=200, value=3))
    assert 'min="0"' in html and 'max="200"' in html and 'value="3"' in html


def test_boolean_field_checked_only_when_true(app):
    on = render(app, "{{ m.form_field(f) }}", f=field(type="boolean", value=True))
    off = render(app, "{{ m.form_field(f) }}", f=field(type="boolean", value=False))
    assert " checked" in on and " checked" not in off


def test_enum_field_selects_current_value_and_escapes(app):
    options = [("a&b", "甲<乙>"), ("c", "丙")]
    html = render(app, "{{ m.form_field(f) }}", f=field(type="enum", options=options, value="a&b"))
    assert '<option value="a&amp;b" selected>甲&lt;乙&gt;</option>' in html
    assert '<option value="c">丙</option>' in html


def test_user_text_is_escaped(app):
    html = render(app, "{{ m.form_field(f) }}", f=field(type="textarea", value="</textarea><b>x"))
    assert "&lt;/textarea&gt;&lt;b&gt;x</textarea>" in html


def test_risk_and_light_badges(app):
    html = render(
        app, "{% for c in cs %}{{ m.risk_badge(c) }}{% endfor %}", cs=["red", "GREEN", None]
    )
    assert re.findall(r'data-risk="(\w*)">([^<]+)<', html) == [
        ("red", "红"),
        ("green", "绿"),
        ("", "未评估"),
    ]
    assert "预警" in render(app, "{{ m.light_badge('yellow') }}")


def test_pagination_keeps_filters_and_windows_pages(app):
    html = render(
        app,
        "{{ m.pagination(p) }}",
        path="/cases/7?status=a&status=b&page=5",
        p={"page": 5, "pages": 20},
    )
    assert 'href="/cases/7?status=a&amp;status=b&amp;page=6"' in html
    assert re.findall(r">(\d+)</a>", html) == ["1", "3", "4", "5", "6", "7", "20"]
    assert 'aria-current="page">5<' in html
    assert (
        render(app, "{{ m.pagination(p) }}", path="/cases/7", p={"page": 1, "pages": 1}).strip()
        == ""
    )


def test_base_layout_sends_csrf_to_htmx_and_skips_missing_language_endpoint(app):
    html = render(app, '{% extends "base.html" %}{% block content %}正文{% endblock %}')
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)
    headers = re.search(r"hx-headers='([^']+)'", html).group(1)
    assert json.loads(headers) == {"X-CSRFToken": token}
    assert '<html lang="zh-Hans-CN"' in html
    assert "正文" in html and "jf-lang" not in html  # no i18n.set_locale endpoint here
    assert "http" not in html  # every asset is served from /static, never a CDN


def test_english_locale_translates_layout(app):
    with app.test_request_context("/"):
        session["locale"] = "en"
        html = render_template_string(MACROS + '{% extends "base.html" %}{{ m.risk_badge("red") }}')
    assert '<html lang="en"' in html
    assert "Skip to main content" in html and "跳到主要内容" not in html


def test_every_layout_string_has_an_english_translation():
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        english = {m.id: m.string for m in read_po(fh) if m.id}
    for template in ("base.html", "_macros.html"):
        found = extract_from_file("jinja2", WEB / "templates" / template)
        missing = [msg for _, msg, _, _ in found if not english.get(msg)]
        assert missing == [], template


def test_compile_reports_a_broken_placeholder(tmp_path):
    po = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('#, python-format\nmsgid "共 %(n)s 条"\nmsgstr "%(count)s in total"\n', "utf-8")
    problems = load_compile_module().compile_all(src=tmp_path)
    assert len(problems) == 1 and "共 %(n)s 条" in problems[0]
    assert not po.with_suffix(".mo").exists()
