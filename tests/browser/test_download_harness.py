"""The download helper: one bound for the whole wait, and a failure message that says where it
stopped (no request sent, or the server still working), on a plain WSGI app that answers slowly."""

from __future__ import annotations

import time

import pytest

from tests.browser.downloads import download

PAGE = b"""<!doctype html><form method="post" action="/file">
<select name="purpose" required><option value="">-</option><option value="x">x</option></select>
<button type="submit">get</button></form>"""


def slow_files(delay: float):
    """GET /: a form; POST /file: a file, after ``delay`` seconds."""

    def app(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            time.sleep(delay)
            start_response("200 OK", [("Content-Type", "application/pdf"),
                                      ("Content-Disposition", 'attachment; filename="f.pdf"')])
            return [b"%PDF-1.4 slow"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [PAGE]

    return app


def test_a_slow_answer_is_waited_for_past_the_click(page, live_server, server_log):
    page.goto(live_server(slow_files(2.0)))
    page.select_option("select", "x")
    # a click waiting for the form's navigation would run out of its own 1 s before the answer
    page.set_default_timeout(1_000)
    got = download(page, server_log, page.locator("button"), timeout_ms=20_000)
    assert got.suggested_filename == "f.pdf"
    assert got.path().read_bytes() == b"%PDF-1.4 slow"


def test_a_missing_download_names_the_request_the_server_still_works_on(
        page, live_server, server_log):
    page.goto(live_server(slow_files(5.0)))
    page.select_option("select", "x")
    with pytest.raises(AssertionError) as failure:
        download(page, server_log, page.locator("button"), timeout_ms=1_000)
    assert "sent POST /file" in str(failure.value)
    assert "Live server: POST /file: no answer yet" in str(failure.value)


def test_a_form_that_would_send_nothing_is_named_before_the_click(page, live_server, server_log):
    page.goto(live_server(slow_files(0.0)))     # the required select left empty: no submit
    with pytest.raises(AssertionError) as failure:
        download(page, server_log, page.locator("button"), timeout_ms=1_000)
    assert "is not valid: clicking would send nothing" in str(failure.value)
    assert all(r.method == "GET" for r in server_log.requests)   # no POST was sent
