"""The vendored front-end works in Chromium: Bootstrap, htmx + CSRF, bpmn-js markers, CJK font."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from flask import Blueprint, Flask, Response, redirect, render_template_string, session, url_for
from flask_babel import Babel, get_locale
from flask_wtf import CSRFProtect
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BPMN = FIXTURES / "vendor_check.bpmn"
DMN = FIXTURES / "vendor_check.dmn"
# The app's CSP directives (docs/web.md); img-src data: is for Bootstrap's CSS icons (select
# arrow, invalid field, navbar toggler, close button); a data: image cannot run script.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'"
CJK_FONTS = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK", "Source Han", "Droid Sans Fallback")
STATE = {
    "completed": ["start", "register_case"],
    "current": ["triage"],
    "process_id": "vendor_check",
}

PAGE = """
{% extends "base.html" %}
{% import "_macros.html" as m with context %}
{% block title %}前端资源检查{% endblock %}
{% block head %}{{ m.diagram_head() }}{% endblock %}
{% block nav %}{{ m.nav_link("home", "案件收件箱") }}{{ m.nav_link("missing.endpoint", "不存在") }}{% endblock %}
{% block content %}
<h1 id="title">矛盾纠纷调处 · 前端检查</h1>
<p><button class="btn btn-primary" id="ping" hx-post="/ping" hx-target="#pong">发送</button>
<span id="pong"></span></p>
<p id="risks">{% for c in ["red", "orange", "yellow", "blue", "green"] %}{{ m.risk_badge(c) }} {% endfor %}</p>
<p id="lights">{% for c in ["green", "yellow", "orange", "red"] %}{{ m.light_badge(c) }} {% endfor %}</p>
<form>{{ m.form_field({"id": "summary", "label": "纠纷摘要", "type": "textarea",
                       "required": true, "value": "邻里噪音", "error": "摘要不能少于十个字"}) }}</form>
<div class="row"><div class="col-8">{{ m.bpmn_diagram("/diagram.bpmn", "/state.json") }}</div>
<div class="col-4">{{ m.bpmn_diagram("/diagram.bpmn", size="sm") }}</div></div>
{% endblock %}
{% block scripts %}{{ m.diagram_scripts() }}{% endblock %}
"""

MODELER_PAGE = """
{% extends "base.html" %}
{% block head %}{{ m.modeler_head() }}{{ m.dmn_head() }}{% endblock %}
{% block content %}
<div class="jf-modeler"><div id="canvas" class="jf-modeler-canvas"></div>
<div id="props" class="jf-modeler-properties"></div></div>
<div id="dmn"></div>
<div id="chart" class="jf-chart"></div>
{% endblock %}
{% block scripts %}
<script src="{{ url_for('static', filename='vendor/jiefen-modeler/modeler.bundle.js') }}"></script>
<script src="{{ url_for('static', filename='vendor/dmn-js/dmn-modeler.bundle.js') }}"></script>
<script src="{{ url_for('static', filename='vendor/echarts/echarts.min.js') }}"></script>
{% endblock %}
"""
# Driven from the test (page.evaluate), as web/static/js/modeler.js will do from a file.
MODELER_SCRIPT = """async () => {
  const modeler = JiefenModeler.createModeler({canvas: '#canvas', properties: '#props'});
  await modeler.importXML(await (await fetch('/diagram.bpmn')).text());
  const task = modeler.get('elementRegistry').get('register_case');
  const moddle = modeler.get('moddle');
  const field = moddle.create('camunda:FormField', {id: 'summary', label: '摘要', type: 'string'});
  const formData = moddle.create('camunda:FormData', {fields: [field]});
  const ext = moddle.create('bpmn:ExtensionElements', {values: [formData]});
  modeler.get('modeling').updateProperties(task, {extensionElements: ext});
  await new Promise((resolve) => setTimeout(resolve, 50));  // the panel attaches after import
  modeler.get('selection').select(task);
  const dmn = new DmnJS({container: '#dmn'});
  await dmn.importXML(await (await fetch('/risk.dmn')).text());
  echarts.init(document.getElementById('chart')).setOption({
    xAxis: {type: 'category', data: ['红', '橙', '黄']}, yAxis: {type: 'value'},
    series: [{type: 'bar', data: [1, 3, 5]}], animation: false});
  return (await modeler.saveXML({format: true})).xml;
}"""


def load_compile_module():
    """Import web/translations/compile.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("jf_compile", WEB / "translations" / "compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_app(translations: Path) -> Flask:
    """A tiny app that renders base.html and serves a BPMN file with its state."""
    assert not load_compile_module().compile_all(out=translations, strict=True)
    app = Flask("vendor_check", root_path=str(WEB))
    app.config.update(
        SECRET_KEY="browser-test-only",
        BABEL_TRANSLATION_DIRECTORIES=str(translations),
    )
    CSRFProtect(app)
    Babel(app, locale_selector=lambda: session.get("locale", "zh_Hans_CN"))
    app.jinja_env.globals["get_locale"] = get_locale
    i18n = Blueprint("i18n", __name__)

    @i18n.post("/locale/<code>")
    def set_locale(code):
        session["locale"] = code
        return redirect(url_for("home"))

    app.register_blueprint(i18n)
    app.add_url_rule("/", "home", lambda: render_template_string(PAGE))
    app.add_url_rule("/ping", "ping", lambda: "已收到", methods=["POST"])
    app.add_url_rule(
        "/diagram.bpmn", "diagram", lambda: Response(BPMN.read_bytes(), mimetype="application/xml")
    )
    app.add_url_rule("/state.json", "state", lambda: STATE)
    app.add_url_rule("/modeler", "modeler", lambda: render_template_string(MODELER_PAGE))
    app.add_url_rule(
        "/risk.dmn", "dmn", lambda: Response(DMN.read_bytes(), mimetype="application/xml")
    )
    app.after_request(_security_headers)
    return app


def _security_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    return response


def platform_fonts(page, selector: str) -> list[str]:
    """Font families Chromium actually used to draw the text of the first node matching selector."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def shape(page, element_id: str):
    """The bpmn-js graphics group of one BPMN element."""
    return page.locator(f'.jf-diagram >> nth=0 >> g.djs-element[data-element-id="{element_id}"]')


@pytest.fixture
def base_url(live_server, tmp_path):
    return live_server(make_app(tmp_path / "translations"))


def test_vendored_assets_render_in_chromium(page, base_url, browser_log, screenshot_dir):
    page.goto(base_url + "/")
    diagrams = page.locator(".jf-diagram")
    expect(diagrams.nth(0)).to_have_attribute("data-jf-state", "ready", timeout=15_000)
    expect(diagrams.nth(1)).to_have_attribute("data-jf-state", "ready", timeout=15_000)

    # Bootstrap CSS applied (primary button colour, flex navbar) and the bundle JS loaded.
    button_bg = page.eval_on_selector("#ping", "e => getComputedStyle(e).backgroundColor")
    assert button_bg == "rgb(13, 110, 253)"
    assert page.evaluate("typeof bootstrap.Dropdown") == "function"
    # htmx 2 loaded, and its POST passes CSRFProtect only because it sends X-CSRFToken.
    assert page.evaluate("htmx.version").startswith("2.")
    page.click("#ping")
    expect(page.locator("#pong")).to_have_text("已收到")

    # bpmn-js drew the tasks, with completed and current markers from the state JSON.
    for task in ("register_case", "triage", "mediate"):
        expect(shape(page, task)).to_have_count(1)
    assert diagrams.nth(0).locator("svg text", has_text="登记案件").count() == 1
    for done in ("start", "register_case", "f1", "f2"):
        expect(shape(page, done)).to_have_class(_has("jf-done"))
    expect(shape(page, "triage")).to_have_class(_has("jf-current"))
    assert "jf-" not in (shape(page, "mediate").get_attribute("class") or "")
    stroke = (
        shape(page, "triage")
        .locator(".djs-visual > rect")
        .first.evaluate("e => getComputedStyle(e).stroke")
    )
    assert stroke == "rgb(28, 100, 200)"  # jiefen.css --jf-current
    assert diagrams.nth(1).locator(".jf-done, .jf-current").count() == 0

    # The audit replay re-highlights with a CustomEvent.
    page.eval_on_selector(
        ".jf-diagram",
        """e => e.dispatchEvent(new CustomEvent('jf:highlight', {detail:
             {completed: ['start', 'register_case', 'triage'], current: ['mediate']}}))""",
    )
    expect(shape(page, "mediate")).to_have_class(_has("jf-current"))
    expect(shape(page, "triage")).to_have_class(_has("jf-done"))

    # Macros: invalid field, five risk colours, lights; the missing endpoint link is left out.
    expect(page.locator("textarea#f-summary.is-invalid")).to_have_value("邻里噪音")
    expect(page.locator("#f-summary-error")).to_be_visible()
    expect(page.locator("#risks .jf-risk")).to_have_text(["红", "橙", "黄", "蓝", "绿"])
    expect(page.locator("#lights .jf-light")).to_have_count(4)
    expect(page.locator("nav .nav-link", has_text="案件收件箱")).to_have_class(_has("active"))
    expect(page.locator("nav", has_text="不存在")).to_have_count(0)

    # Chinese is drawn with a real CJK font, in HTML and in the diagram's SVG labels.
    assert page.get_attribute("html", "lang") == "zh-Hans-CN"
    for selector in ("#title", '.jf-diagram g[data-element-id="register_case"] text'):
        fonts = platform_fonts(page, selector)
        assert any(f.startswith(CJK_FONTS) for f in fonts), (selector, fonts)
    page.screenshot(path=str(screenshot_dir / "vendor-check.png"), full_page=True)
    # CSP violations show up as console errors.
    assert not browser_log.problems(), "\n".join(browser_log.problems())


def test_language_switch_posts_and_renders_english(page, base_url, browser_log):
    page.goto(base_url + "/")
    page.click(".jf-lang .dropdown-toggle")
    page.click(".jf-lang button.dropdown-item:has-text('English')")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".navbar-brand")).to_have_text("Jiefen")
    expect(page.locator("#risks .jf-risk").first).to_have_text("Red")
    assert not browser_log.problems(), "\n".join(browser_log.problems())


def test_modeler_bundle_edits_camunda_form_fields(page, base_url, browser_log, screenshot_dir):
    page.goto(base_url + "/modeler")
    xml = page.evaluate(MODELER_SCRIPT)

    assert 'camunda:formField id="summary" label="摘要" type="string"' in xml
    expect(page.locator("#props .bio-properties-panel-header-label")).to_have_text("登记案件")
    # A modeler (palette with font icons), not a viewer.
    expect(page.locator("#canvas .djs-palette .entry.bpmn-icon-task")).to_be_visible()
    icon = page.eval_on_selector(
        "#canvas .bpmn-icon-task", "e => getComputedStyle(e, '::before').fontFamily"
    )
    assert "bpmn" in icon
    expect(page.locator("#dmn table")).to_contain_text("涉及人数")
    expect(page.locator("#chart canvas")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "vendor-modeler.png"), full_page=True)
    assert not browser_log.problems(), "\n".join(browser_log.problems())


def _has(css_class: str):
    """Regex for to_have_class: the element carries css_class among others."""
    import re

    return re.compile(rf"(^|\s){re.escape(css_class)}(\s|$)")
