"""Hotspot warnings as people meet them: the case page banner, the place page, the
``jiefen warnings list`` command, and ``linked_by`` in the intake API's answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from tests.web.conftest import login
from web.commands import warnings as warnings_command
from workflows.access import tokens
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.district.places import child_path
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Department, Place

TREE = (("D", "示范区", "district", None), ("QS", "青山镇", "township", "D"),
        ("SM", "石门村", "village", "QS"), ("SM-G1", "石门村第1网格", "grid", "SM"),
        ("SM-B1", "幸福家园1栋", "building", "SM-G1"), ("SM-B2", "幸福家园2栋", "building", "SM-G1"),
        ("BS", "白沙镇", "township", "D"))


@pytest.fixture
def places(services, reference) -> dict[str, int]:
    ids: dict[str, Place] = {}
    with services.new_uow() as uow:
        for code, name, level, parent in TREE:
            above = ids.get(parent) if parent else None
            place = Place(code=code, name=name, level=level,
                          parent_id=above.id if above else None)
            uow.session.add(place)
            uow.session.flush()
            place.path = child_path(above, place.id)
            ids[code] = place
        uow.session.add(Department(code="BS-ZZ", name="白沙镇综治中心", tier="street", kind="ZZ",
                                   place_id=ids["BS"].id, responsibilities=[]))
        out = {code: place.id for code, place in ids.items()}
        uow.commit()
    return out


def report(services, users, place_id: int, phone: str, category: str = "public_order") -> str:
    request = IntakeRequest(channel="hotline_12345", category=category, summary="高空抛物",
                            description="楼上有人往下扔酒瓶",
                            parties=[PartyInput(name="居民", phone=phone)], place_id=place_id)
    return submit_intake(services.new_uow(), users.actor("intake_clerk"), request).case_no


@pytest.fixture
def hotspot(services, clock, users, process, places) -> list[str]:
    """Three reports at 幸福家园1栋 ten days apart (new cases: outside the 7-day window)."""
    codes = []
    for index in range(3):
        codes.append(report(services, users, places["SM-B1"], f"1390000000{index}"))
        clock.advance(days=10)
    return codes


def test_the_case_page_shows_the_warnings_that_count_the_case(client, users, hotspot, places,
                                                               services):
    login(client, "supervisor")
    page = client.get(f"/cases/{hotspot[0]}").get_data(as_text=True)
    assert page.count('data-testid="case-warning"') == 2        # the building's and the grid's
    assert "预警：该楼栋30天内同类纠纷3起" in page
    assert "预警：该网格30天内同类纠纷3起" in page
    assert "高空抛物/治安" in page and "待核实" in page
    assert all(code in page for code in hotspot)
    assert 'href="/places/SM-B1"' in page                       # the supervisor may open it
    other = report(services, users, places["SM-B2"], "13900000009", category="noise")
    assert 'data-testid="case-warning"' not in client.get(f"/cases/{other}").get_data(as_text=True)


def test_a_clerk_sees_the_banner_without_the_place_link(client, users, hotspot):
    login(client, "intake_clerk")
    page = client.get(f"/cases/{hotspot[2]}").get_data(as_text=True)
    assert "预警：该楼栋30天内同类纠纷3起" in page and "/places/" not in page


def test_the_place_page_shows_the_path_the_open_warnings_and_recent_cases(client, users, hotspot):
    login(client, "supervisor")
    response = client.get("/places/SM-G1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in ("示范区", "青山镇", "石门村", "石门村第1网格"):
        assert name in page
    assert page.count("<tr data-warning=") == 2      # the grid's and its building's
    assert "幸福家园1栋（楼栋）" in page and "30天内3起" in page
    assert 'data-testid="recent-cases">3件' in page
    assert f'href="/cases/{hotspot[0]}"' in page


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("leader", 200),
                                              ("intake_clerk", 403), ("mediator", 403)])
def test_the_place_page_is_for_supervisors_leaders_and_administrators(client, users, hotspot,
                                                                     role, status):
    login(client, role)
    response = client.get("/places/SM-B1")
    assert response.status_code == status
    if role == "admin":   # administrators see no case content: codes without links
        assert "/cases/" not in response.get_data(as_text=True)


def test_a_supervisor_of_another_township_cannot_open_the_place(client, users, hotspot,
                                                                 services):
    users.add("bs_supervisor", "supervisor", "BS-ZZ")
    login(client, "bs_supervisor")
    assert client.get("/places/SM-B1").status_code == 403
    assert client.get("/places/BS").status_code == 200
    assert client.get("/places/NOPE").status_code == 404


@pytest.fixture
def cli(services, monkeypatch):
    monkeypatch.setattr(warnings_command, "cli_services", lambda: services)
    runner = CliRunner()

    def run(*args):
        from web.cli import cli as group

        return runner.invoke(group, ["warnings", "list", *args], catch_exceptions=False)

    return run


def test_warnings_list_json_with_state_and_place_filters(cli, hotspot, clock):
    result = cli("--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["kind"], r["place_code"], r["place_name"], r["category"], r["count"], r["state"])
            for r in rows] == [("hotspot", "SM-G1", "石门村第1网格", "public_order", 3, "open"),
                               ("hotspot", "SM-B1", "幸福家园1栋", "public_order", 3, "open")]
    assert rows[0]["cases"] == rows[1]["cases"] == hotspot
    assert rows[0]["raised_at"] == (clock.now() - timedelta(days=10)).isoformat()
    assert json.loads(cli("--json", "--state", "false_alarm").output) == []
    assert len(json.loads(cli("--json", "--place", "QS").output)) == 2
    assert [r["place_code"] for r in json.loads(cli("--json", "--place", "SM-B1").output)] == \
        ["SM-B1"]
    assert json.loads(cli("--json", "--place", "BS").output) == []
    text = cli().output
    assert "待核实" in text and "幸福家园1栋" in text and "高空抛物/治安 3起" in text
    unknown = cli("--place", "NOPE")
    assert unknown.exit_code == 1 and "地点 NOPE 不存在" in unknown.output


def test_the_api_says_what_linked_a_duplicate(client, services, users, process):
    headers = {"Authorization": "Bearer " + tokens.issue_token(
        services.new_uow(), SYSTEM, username="intake_clerk", channel="hotline_12345").token}
    body = {"category": "noise", "description": "夜间施工噪声", "summary": "噪声",
            "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13812345678"}]}
    first = client.post("/api/v1/cases", json=body, headers=headers).get_json()
    again = client.post("/api/v1/cases", json=body, headers=headers).get_json()
    assert (first["linked_as"], first["linked_by"]) == ("new", None)
    assert (again["linked_as"], again["linked_by"], again["case_no"]) == (
        "duplicate", "person", first["case_no"])


def test_the_case_history_names_a_linked_report_in_words(client, services, clock, users, process,
                                                         places):
    master = report(services, users, places["SM-B1"], "13900000001")
    clock.advance(days=1)
    assert report(services, users, places["SM-B1"], "13900000002") == master
    login(client, "supervisor")
    page = client.get(f"/cases/{master}").get_data(as_text=True)
    timeline = page[page.index('data-testid="timeline"'):]
    assert "重复件，同一地点，12345 热线" in timeline
    assert "duplicate" not in timeline and "hotline_12345" not in timeline
