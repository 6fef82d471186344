"""Every page the demo district produces speaks the users' words: no engine code, English enum or
Python list/dict literal in the visible text, in Chinese and in English.

The demo walks its sample cases through the real services to realistic points (registered,
in triage, in handling, in mediation, closed), so signing in as each of its people and following
the links of their pages reaches each role's inbox, every open task page, the case pages at each
stage, supervision, reports, the audit and replay pages.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html

from tests.bpmn.helpers import BPMN_DIR
from tests.second_factor_support import enrol_if_required
from tests.web.conftest import csrf_token, login
from web import create_app
from web.labels import CODE_LISTS
from workflows.demo.loader import load_demo

NOW = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
PEOPLE = ("clerk", "triage", "supervisor", "leader", "handler", "handler_zj", "mediator",
          "mediator_rs", "handler_jdtj", "auditor", "owner", "admin", "expert_engineer")
PAGES_PER_PERSON = 60
PER_KIND = 6
SEEDS = ("/", "/inbox", "/cases", "/dispatch", "/supervision", "/supervision/notices", "/reports",
         "/warnings", "/cockpit", "/audit", "/audit/access", "/processes", "/admin/users",
         "/channels", "/channels/interfaces", "/experts", "/expert")
SKIP = re.compile(r"^/(static|auth/logout|i18n)|\.(xlsx|pdf|csv|json|bpmn|dmn|png|svg)$|/export|"
                  r"/download|/diagram\.xml")
# Python literals: a list or dict of strings; None/True/False on a Chinese page ("None" is an
# English word)
LITERAL = re.compile(r"\[\s*'|'\s*\]|\{\s*'")
CONSTANT = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b")
# what process owners write for each other: timer ids (T-20), sources still to check (Markdown
# shows *verify* as an italic "verify")
AUTHORING = re.compile(r"\bT-\d\d|\*verify\*|\[proposal\]")
MARKER_WORD = re.compile(r"\bverify\b|\bproposal\b")


def _codes() -> set[str]:
    """Every code of every label table that could be mistaken for nothing but a code: lower
    case identifiers of three letters or more (English words like 'red' are codes only on a
    Chinese page)."""
    out = set()
    for codes in CODE_LISTS.values():
        for code in codes:
            text = str(code)
            if re.fullmatch(r"[a-z][a-z0-9_]{2,}", text):
                out.add(text)
    for bpmn in BPMN_DIR.glob("*.bpmn"):    # process ids: general_dispute names no page
        out.update(re.findall(r'<bpmn:process id="([a-z_]+)"', bpmn.read_text(encoding="utf-8")))
    return out


def visible_text(page: str) -> str:
    """The text a reader sees; <code> marks deliberate technical text (file column names,
    hashes) and is left out."""
    tree = lxml_html.fromstring(page)
    for bad in tree.xpath("//script|//style|//template|//input[@type='hidden']|//noscript"
                          "|//code"):
        bad.drop_tree()
    return " ".join(tree.text_content().split())


def problems(text: str, codes: set[str], chinese: bool) -> list[str]:
    """Each code or literal found, with a little of the text around it (what a reader sees)."""
    found = list(LITERAL.finditer(text)) + list(AUTHORING.finditer(text)) + (
        list(CONSTANT.finditer(text)) + list(MARKER_WORD.finditer(text)) if chinese else [])
    for m in re.finditer(r"\b[A-Za-z][A-Za-z0-9_]*\b(?!\.[a-z])", text):   # not file names
        word = m.group(0)
        if word in codes and ("_" in word or chinese):
            found.append(m)            # in_handling, labour_collective / orange, urgent...
    return [f"{m.group(0)} «{text[max(0, m.start() - 25):m.end() + 25]}»" for m in found]


def links(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    out = []
    for href in tree.xpath("//a/@href"):
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or SKIP.search(parts.path):
            continue
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def crawl(client, codes: set[str], chinese: bool) -> dict[str, list[str]]:
    """Breadth-first over the pages one person can reach, a few of each kind (the first two
    path segments), so every kind of page is seen; {url: problems}."""
    seen: set[str] = set()
    per_kind: Counter = Counter()
    bad = {}
    queue = deque(SEEDS)
    while queue and len(seen) < PAGES_PER_PERSON:
        url = queue.popleft()
        kind = "/".join(url.split("?")[0].split("/")[:3])
        if url in seen or per_kind[kind] >= PER_KIND:
            continue
        seen.add(url)
        per_kind[kind] += 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        page = response.get_data(as_text=True)
        found = problems(visible_text(page), codes, chinese)
        if found:
            bad[url] = found[:12]
        queue.extend(u for u in links(page) if u not in seen)
    return bad


@pytest.fixture
def demo(committed_services, settings):
    report = load_demo(committed_services, now=NOW)
    for user in report.users:
        if user.username in PEOPLE:      # privileged people sign in with a second factor
            enrol_if_required(committed_services, user.username, user.role.split(";"))
    passwords = {u.username: u.password for u in report.users}
    return create_app(settings, services=committed_services), passwords


def test_no_page_shows_a_code_or_a_python_value(demo):
    """Each person, in Chinese and in English (one demo load serves both)."""
    app, passwords = demo
    codes = _codes() - set(passwords)     # people's login names are theirs, not codes
    report = {}
    for locale in ("zh_Hans_CN", "en"):
        for username in PEOPLE:
            client = app.test_client()
            login(client, username, passwords[username])
            client.post(f"/i18n/locale/{locale}", data={    # every role sees its account page
                "next": "/", "csrf_token": csrf_token(client, "/auth/account")})
            for url, found in crawl(client, codes, chinese=locale.startswith("zh")).items():
                report[f"{locale} {username} {url}"] = found
    if report and os.environ.get("WORDS_REPORT"):     # the whole list, for whoever fixes it
        Path(os.environ["WORDS_REPORT"]).write_text(json.dumps(report, ensure_ascii=False,
                                                               indent=1))
    assert report == {}
