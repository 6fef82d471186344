"""Downloads in browser tests: one bound for the whole wait, and a failure that says where it stopped.

A form that answers with a file (the signing-copy PDF) starts a navigation. Playwright's click
waits for navigations it sees the click start, under the click's own 30 s bound, and
``expect_download(timeout=...)`` bounds only the wait after the click: an answer slower than 30 s
failed the click whatever the download's timeout said. Here the click does not wait
(``no_wait_after``), so ``DOWNLOAD_WAIT_MS`` is the only bound, and a missing file names what
happened: the request the browser sent (if any) and what the live server did with it. Werkzeug's
own log line is written only when the answer starts, so a request still being worked on is not in
that log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Download, Locator, Page, Request, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# how long a download may take from the click to the browser's download event (the server lays
# out the PDF with ReportLab and subsets the CJK font): a bound for a stuck download, not a
# measurement
DOWNLOAD_WAIT_MS = 120_000


@dataclass
class ServerRequest:
    """One request as the live server's WSGI app saw it (monotonic seconds)."""

    method: str
    path: str
    arrived: float
    status: str | None = None
    answered: float | None = None


@dataclass
class ServerLog:
    """The live server's requests, recorded when they arrive and when the app answers them."""

    requests: list[ServerRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: Callable) -> Callable:
        """The WSGI app, recording each request (Flask calls start_response once it has the
        answer)."""

        def logged(environ: dict, start_response: Callable) -> Iterable[bytes]:
            entry = ServerRequest(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                  time.monotonic())
            with self.lock:
                self.requests.append(entry)

            def answer(status: str, headers: list, *args: Any) -> Callable:
                entry.status, entry.answered = status, time.monotonic()
                return start_response(status, headers, *args)

            return app(environ, answer)

        return logged

    def since(self, moment: float) -> list[ServerRequest]:
        with self.lock:
            return [r for r in self.requests if r.arrived >= moment]


def download(page: Page, server_log: ServerLog, target: Locator, *,
             timeout_ms: int = DOWNLOAD_WAIT_MS) -> Download:
    """Click ``target`` (a link or a form's submit button) and return the file it downloads."""
    browser: list[str] = []

    def on_request(r: Request) -> None:
        browser.append(f"sent {r.method} {_path(r.url)}")

    def on_response(r: Response) -> None:
        browser.append(f"got {r.status} for {_path(r.url)}")

    def on_failed(r: Request) -> None:
        browser.append(f"{r.failure} for {_path(r.url)}")

    # the page settled first: a click while its own requests (the diagram) are still being
    # answered and drawn was once lost on a loaded CI host; an invalid form sends nothing
    page.wait_for_load_state("networkidle")
    assert target.evaluate("b => !b.form || b.form.checkValidity()"), \
        f"the form of {target} is not valid: clicking would send nothing"
    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    start = time.monotonic()
    try:
        with page.expect_download(timeout=timeout_ms) as info:
            target.click(no_wait_after=True)
        return info.value
    except PlaywrightTimeoutError:
        raise AssertionError(_no_download(timeout_ms, target, browser,
                                          server_log.since(start), time.monotonic())) from None
    finally:
        page.remove_listener("request", on_request)
        page.remove_listener("response", on_response)
        page.remove_listener("requestfailed", on_failed)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[-1] if url.count("/") >= 3 else url


def _no_download(timeout_ms: int, target: Locator, browser: list[str],
                 server: list[ServerRequest], now: float) -> str:
    """What happened after the click, for the failure message."""
    answers = [f"{r.method} {r.path}: " + (
        f"answered {r.status} after {r.answered - r.arrived:.1f} s" if r.answered is not None
        else f"no answer yet after {now - r.arrived:.1f} s") for r in server]
    return (f"no download {timeout_ms / 1000:.0f} s after clicking {target}. "
            f"Browser (anchor downloads send no request event): {'; '.join(browser) or 'nothing'}. "
            f"Live server: {'; '.join(answers) or 'received no request'}.")
