"""Browser test fixtures: Debian's Chromium driven by Python Playwright, and a live Flask server."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.browser.downloads import ServerLog

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
BROWSER_DIR = Path(__file__).resolve().parent
REPO = BROWSER_DIR.parent.parent
SCREENSHOTS = REPO / "docs" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# JIEFEN_BROWSER_TRACES=<dir>: a failing test's Playwright trace (screenshots, DOM, network) is
# saved there as <test name>.zip (`playwright show-trace` opens it)
TRACES = os.environ.get("JIEFEN_BROWSER_TRACES")
# how long an expect() waits for the page to get there: Playwright's 5 s default is passed on a
# CI host running two test workers, each with its browser and server (a deploy in the editor
# walk has taken longer); a passing check returns as soon as it holds, so this costs nothing
EXPECT_MS = 20_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, for the page fixture to know the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/browser with pytest.mark.browser."""
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium for the whole session (never a downloaded browser)."""
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: run `make browser` (Debian chromium + fonts-wqy-microhei)"
        )
        if os.environ.get("JIEFEN_ALLOW_NO_BROWSER") == "1":
            pytest.skip(message)
        pytest.fail(message + " — set JIEFEN_ALLOW_NO_BROWSER=1 to skip locally", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_MS)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class BrowserLog:
    """What a page did that tests may want to assert on."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and blocked external requests, for one assert."""
        return self.console_errors + self.page_errors + self.external_requests


@pytest.fixture
def browser_log() -> BrowserLog:
    """Console errors, page errors and external requests of the test's page."""
    return BrowserLog()


def _block_external(log: BrowserLog):
    """Route handler: abort and record any request leaving the machine (assets are vendored)."""

    def handle(route):
        url = route.request.url
        host = urlsplit(url).hostname
        if urlsplit(url).scheme in ("data", "blob") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            log.external_requests.append(f"external request blocked: {url}")
            route.abort()

    return handle


@pytest.fixture
def page(browser, browser_log: BrowserLog, request):
    """A fresh context (zh-CN, Asia/Shanghai) and page per test; external requests fail the test."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800}
    )
    context.route("**/*", _block_external(browser_log))
    if TRACES:
        context.tracing.start(screenshots=True, snapshots=True)
    pg = context.new_page()
    pg.on("console", lambda m: m.type == "error" and browser_log.console_errors.append(m.text))
    pg.on("pageerror", lambda e: browser_log.page_errors.append(str(e)))
    yield pg
    if TRACES:
        report = getattr(request.node, "report_call", None)
        failed = report is None or report.failed
        name = request.node.name.replace("/", "_")
        Path(TRACES).mkdir(parents=True, exist_ok=True)
        context.tracing.stop(path=str(Path(TRACES) / f"{name}.zip") if failed else None)
    context.close()
    assert not browser_log.external_requests, browser_log.external_requests


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """docs/screenshots/, where browser tests save the pictures the docs refer to."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def server_log() -> ServerLog:
    """The live server's requests: when each arrived and when and how the app answered."""
    return ServerLog()


@pytest.fixture
def live_server(server_log: ServerLog) -> Iterator[Callable[..., str]]:
    """Factory: serve a Flask (WSGI) app on 127.0.0.1 with a free port; returns its base URL."""
    running = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, server_log.wrap(app), threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
