"""Crafted query strings and numbers get an ordinary page or a 4xx, never a 500."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string

from tests.web.conftest import post
from tests.web.test_case_pages import INTAKE
from web.params import whole_number
from workflows.casework import task_effects as hooks

ODD_NUMBERS = ("²", "٣", "1e3", "-1", "0", "9" * 2000, "99999999999999999999", " 2 ")


@pytest.mark.parametrize("value", ODD_NUMBERS)
@pytest.mark.parametrize("path", ["/cases", "/inbox", "/dispatch"])
def test_page_numbers_that_are_not_numbers(as_role, case_no, path, value):
    response = as_role("triage_officer").get(path, query_string={"page": value})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/cases", "/inbox", "/dispatch"])
def test_a_query_value_longer_than_any_is_refused_by_name(as_role, case_no, path):
    response = as_role("triage_officer").get(path, query_string={"page": "9" * 5000})
    assert response.status_code == 422
    assert "<li>页码：最多 2000 个字符</li>" in response.get_data(as_text=True)


def test_calendar_year_that_is_not_a_number(as_role):
    assert as_role("admin").get("/admin/calendar/?year=²").status_code == 200


@pytest.mark.parametrize("query", ["draft=abc", "draft=²", "version=abc&process=p",
                                   "version=²&process=p"])
def test_editor_files_with_a_bad_number_is_not_found(as_role, query):
    response = as_role("process_owner").get(f"/processes/editor/files.json?{query}")
    assert response.status_code == 404


@pytest.mark.parametrize("key", ["endpoint", "_scheme", "_anchor", "_method", "_external"])
def test_pagination_links_keep_hostile_keys_as_plain_query(app, key):
    macro = '{% import "_macros.html" as m %}{{ m.pagination({"page": 2, "pages": 3}) }}'
    with app.test_request_context("/cases", query_string={"page": "2", key: "x y",
                                                          "category": "noise"}):
        html = render_template_string(macro)
    links = re.findall(r'class="page-link" href="([^"]+)"', html)
    assert len(links) == 5 and all(link.startswith("/cases?") for link in links)
    assert f"{key}=x+y&amp;category=noise&amp;page=1" in html
    assert html.count("page=") == 5  # the old page number is replaced, not repeated


def test_intake_people_count_superscript_is_a_field_error(as_role, process):
    response = post(as_role("intake_clerk"), "/cases/new",
                    {**INTAKE, "people_count": "²", "action": "preview"})
    assert response.status_code == 422 and "不能小于 1" in response.get_data(as_text=True)


def test_mediator_typed_as_a_superscript_is_no_user(services, users):
    with services.new_uow() as uow:
        assert hooks._user(uow, "²") is None
        assert hooks._user(uow, "mediator").username == "mediator"


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12), (" 7 ", 7), (3, 3), ("²", None), ("٣", None), ("-1", None), ("", None),
    (None, None), ("1" * 13, None), ("0", None),
])
def test_whole_number(value, expected):
    assert whole_number(value, minimum=1) == expected
