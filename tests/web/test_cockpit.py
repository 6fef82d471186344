"""The cockpit page, its drill-down into the case list, the KPI API, the ranking download and
the admin's KPI targets, on the hand-counted month of tests/kpi_fixtures.py."""

from __future__ import annotations

import io
import re

import pytest
from lxml import html as lxml_html
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, select

from engine.models import AuditEvent
from tests.district_fixtures import build_district
from tests.kpi_fixtures import PERSONAL, at, build_month, failing_facts
from tests.web.conftest import login, post
from tests.web.test_api import conforms
from tests.web.test_pages_in_words import visible_text
from workflows.access import tokens
from workflows.audit.log import AuditAction
from workflows.core.actors import SYSTEM
from workflows.models import Case, KpiTarget
from workflows.models.scheduling import SupervisionNotice

MARCH = {"from": "2025-03-01", "to": "2025-03-31"}


@pytest.fixture
def month(services, users):
    district = build_district(services)
    cases = build_month(services, district)
    users.add("qs_leader", "leader", "QS-ZZ")
    return district, cases


def _bearer(services, username):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username=username,
                                channel="portal")
    return {"Authorization": f"Bearer {issued.token}"}


def _total(client, url) -> int:
    body = client.get(url).get_data(as_text=True)
    found = re.search(r'data-testid="drill-total">共 (\d+) 件', body)
    assert found, body[:2000]
    return int(found.group(1))


def test_kpi_api_answers_the_contract_and_each_drill_down_lists_the_denominator(
        app, services, month):
    client = app.test_client()
    response = client.get("/api/v1/kpis", query_string=MARCH,
                          headers=_bearer(services, "supervisor"))
    assert response.status_code == 200
    body = conforms(response, "/api/v1/kpis")
    kpis = {k["id"]: k for k in body["kpis"]}
    assert body["from"] == "2025-03-01" and body["place"] is None
    assert (kpis["K-01"]["value"], kpis["K-01"]["numerator"], kpis["K-01"]["denominator"]) \
        == (33.3, 1, 3)
    assert kpis["K-01"]["target"]["value"] == 80.0 and kpis["K-01"]["status"] == "missed"
    assert kpis["K-01"]["cases_url"] == "/api/v1/cases?kpi=K-01&from=2025-03-01&to=2025-03-31"
    assert kpis["K-11"]["cases_url"] is None and kpis["K-11"]["status"] == "no_data"
    web = app.test_client()
    login(web, "supervisor")
    token = _bearer(services, "supervisor")
    for kpi in kpis.values():
        if kpi["cases_url"]:
            listed = client.get(kpi["cases_url"], headers=token)
            assert listed.status_code == 200, listed.get_json()
            total = conforms(listed, "/api/v1/cases")["total"]
            if kpi["id"] in ("K-05", "K-06", "K-07", "K-25", "K-26"):
                # orders: the cases of the denominator's orders (tests/workflows/test_kpis.py)
                assert kpi["cases"] is None and 0 < total <= kpi["denominator"], kpi["id"]
            else:
                assert total == kpi["cases"] == kpi["denominator"], kpi["id"]
            web_url = kpi["cases_url"].replace("/api/v1/cases", "/cases")
            assert _total(web, web_url) == total, kpi["id"]


def test_kpi_api_refuses_bad_dates_other_roles_and_places_outside_the_scope(app, services,
                                                                            month):
    client = app.test_client()
    supervisor = _bearer(services, "supervisor")
    bad = client.get("/api/v1/kpis", query_string={"from": "2025-13-01", "to": "2025-03-31"},
                     headers=supervisor)
    assert bad.status_code == 422 and "from" in bad.get_json()["errors"]
    reversed_ = client.get("/api/v1/kpis", query_string={"from": "2025-03-31",
                                                         "to": "2025-03-01"}, headers=supervisor)
    assert reversed_.status_code == 422
    handler = client.get("/api/v1/kpis", query_string=MARCH,
                         headers=_bearer(services, "dept_handler"))
    assert handler.status_code == 403
    township = client.get("/api/v1/kpis", query_string={**MARCH, "place": "CD"},
                          headers=_bearer(services, "qs_leader"))
    assert township.status_code == 403


def test_a_township_leader_sees_only_the_township(app, services, month):
    client = app.test_client()
    body = client.get("/api/v1/kpis", query_string=MARCH,
                      headers=_bearer(services, "qs_leader")).get_json()
    kpis = {k["id"]: k for k in body["kpis"]}
    assert body["place"] == "QS"
    assert (kpis["K-01"]["numerator"], kpis["K-01"]["denominator"]) == (1, 2)
    assert kpis["K-01"]["cases_url"].endswith("&place=QS")
    web = app.test_client()
    login(web, "qs_leader")
    page = web.get("/cockpit", query_string=MARCH).get_data(as_text=True)
    assert "青山镇" in page and "城东街道" not in page
    assert _total(web, "/cases?kpi=K-03&from=2025-03-01&to=2025-03-31") == 2
    assert web.get("/cases?kpi=K-03&from=2025-03-01&to=2025-03-31&place=CD").status_code == 403
    # a leader's own case list holds only escalated cases; the figure's list counts them all,
    # and shows no code of a case the leader may not open
    listed = client.get(kpis["K-03"]["cases_url"], headers=_bearer(services, "qs_leader"))
    rows = listed.get_json()["cases"]
    assert listed.get_json()["total"] == 2
    assert all(r["case_no"] is None and r["summary"] == "" for r in rows if not r["visible"])


def test_cockpit_page_shows_tiles_ranking_board_and_hotspots(app, month):
    client = app.test_client()
    login(client, "leader")
    response = client.get("/cockpit", query_string=MARCH)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-kpi="K-01" data-status="missed"' in page
    assert "33.3%" in page and "66.7%" in page and "25.0 小时" in page
    assert "青山镇人民调解委员会" in page                       # ranking row
    assert "城东街道" in page and "青山镇" in page               # hotspots by township
    assert "K-01" not in re.sub(r'data-[a-z-]+="[^"]*"|href="[^"]*"', "", page)
    empty = client.get("/cockpit", query_string={"from": "2024-06-01", "to": "2024-06-30"})
    assert empty.status_code == 200 and "—" in empty.get_data(as_text=True)
    assert client.get("/cockpit?period=year").status_code == 200


def test_board_and_hotspot_cells_drill_down_to_their_cases(app, month):
    _district, cases = month
    client = app.test_client()
    login(client, "supervisor")
    page = client.get("/cockpit", query_string=MARCH).get_data(as_text=True)
    links = set(re.findall(r'href="(/cases\?kpi=[^"]+)"', page))
    assert links
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200
    red = [link for link in links if "risk=red" in link and "light" not in link]
    assert red and _total(client, red[0].replace("&amp;", "&")) == 1   # H
    listing = client.get(red[0].replace("&amp;", "&")).get_data(as_text=True)
    assert cases["H"].case_no in listing


def test_every_board_and_ladder_figure_equals_its_drill_down_total(app, services, month):
    district, cases = month
    with services.new_uow() as uow:      # a second rung for H, and one for A (closed: not open)
        for case, level in ((cases["H"], 3), (cases["A"], 2)):
            uow.session.add(SupervisionNotice(
                case_id=case.id, department_id=district.units["QS-JDTJ"], level=level,
                kind="upgrade", reason="超期", source="sla:resolution",
                issued_at=at("2025-03-28 10:00"), issued_by="scheduler",
                dedupe_key=f"w-{case.id}-{level}"))
        uow.commit()
    client = app.test_client()
    login(client, "supervisor")
    page = client.get("/cockpit", query_string=MARCH).get_data(as_text=True)
    board = page[page.index('data-testid="board"'):page.index('data-testid="red-cases"')]
    cells = re.findall(r'<a href="(/cases\?kpi=open[^"]+)">(\d+)</a>', board)
    assert len(cells) >= 5                      # 2 grid cells and the 4 rungs (zeros included)
    for link, shown in cells:
        assert _total(client, link.replace("&amp;", "&")) == int(shown), link
    assert '>1</a></td></tr></tbody>' in board  # L3: H


def test_cockpit_runs_the_same_number_of_statements_whatever_the_data(app, services, month,
                                                                      db_engine):
    client = app.test_client()
    login(client, "supervisor")
    client.get("/cockpit")                           # caches warmed (calendar, templates)
    counted = []

    def count(*_args):
        counted.append(1)
    event.listen(db_engine, "before_cursor_execute", count)
    try:
        client.get("/cockpit", query_string=MARCH)
        first = len(counted)
        counted.clear()
        client.get("/cockpit", query_string={"from": "2025-01-01", "to": "2025-12-31"})
        second = len(counted)
        counted.clear()
        client.get("/cockpit", query_string={"from": "2024-06-01", "to": "2024-06-30"})
        third = len(counted)
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert first == second == third


def test_ranking_downloads_as_xlsx(app, month):
    client = app.test_client()
    login(client, "leader")
    response = client.get("/cockpit/ranking.xlsx", query_string={**MARCH, "sort": "returns"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "单位" and rows[2][0] == "青山镇人民调解委员会" and rows[2][7] == 1


def test_other_roles_get_no_cockpit(app, month):
    client = app.test_client()
    login(client, "dept_handler")
    assert client.get("/cockpit").status_code == 403
    assert client.get("/cases?kpi=K-01&from=2025-03-01&to=2025-03-31").status_code == 403


def test_admin_edits_and_imports_targets_audited(app, services, month):
    client = app.test_client()
    login(client, "admin")
    assert client.get("/admin/kpi-targets/").status_code == 200
    bad = post(client, "/admin/kpi-targets/", {"kpi": "K-01", "scope": "*",
                                                "valid_from": "2027-01-01", "comparator": ">=",
                                                "value": "120", "source": "测试"})
    assert bad.status_code == 422 and "目标值应为" in bad.get_data(as_text=True)
    ok = post(client, "/admin/kpi-targets/", {"kpi": "K-25", "scope": "QS",
                                               "valid_from": "2025-01-01", "comparator": ">=",
                                               "value": "95", "source": "镇考核方案"})
    assert ok.status_code == 302
    book = Workbook()
    sheet = book.active
    sheet.append(["指标", "范围", "起始日期", "截止日期", "比较", "目标值", "依据"])
    sheet.append(["K-26", "*", "2025-01-01", None, "不低于", 90, "区考核办法"])
    data = io.BytesIO()
    book.save(data)
    imported = post(client, "/admin/kpi-targets/import",
                    {"file": (io.BytesIO(data.getvalue()), "t.xlsx")},
                    content_type="multipart/form-data")
    assert imported.status_code == 302
    with services.new_uow() as uow:
        kinds = {(t.kpi, t.scope, t.value) for t in uow.session.scalars(select(KpiTarget))}
        audited = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.KPI_TARGET_CHANGED)).all()
    assert ("K-25", "QS", 95.0) in kinds and ("K-26", "*", 90.0) in kinds
    assert len(audited) == 2
    leader = app.test_client()
    login(leader, "leader")
    assert leader.get("/admin/kpi-targets/").status_code == 403


def test_the_ladder_names_its_rungs_in_words_without_engine_codes(app, month):
    client = app.test_client()
    login(client, "supervisor")
    for language, rungs in (("zh-CN", ["催办", "督办单", "提级督办", "领导包案"]),
                            ("en", ["Reminder", "Supervision notices", "Tier upgrade",
                                    "Leader takes personal charge"])):
        page = client.get("/cockpit", query_string=MARCH,
                          headers={"Accept-Language": language}).get_data(as_text=True)
        ladder = page[page.index('data-testid="ladder"'):]
        heads = re.findall(r"<th>([^<]*)</th>", ladder[:ladder.index("</thead>")])
        assert heads == rungs, language
        assert not re.search(r"\bL[0-3]\b", ladder[:ladder.index("</table>")]), language


def test_the_cockpit_shows_its_figures_and_says_what_it_has_not_counted(app, services, month,
                                                                        monkeypatch):
    _district, cases = month
    client = app.test_client()
    login(client, "supervisor")
    page = client.get("/cockpit", query_string=MARCH).get_data(as_text=True)
    assert 'data-testid="not-counted"' not in page
    failing_facts(monkeypatch).add(cases["H"].id)     # H's change cannot be applied
    with services.new_uow() as uow:
        row = uow.session.get(Case, cases["H"].id)
        row.status, row.closed_at, row.outcome = "closed", at("2025-03-25 09:00"), "R1"
        uow.commit()
    response = client.get("/cockpit", query_string=MARCH)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    note = page.split('data-testid="not-counted">', 1)[1].split("</div>", 1)[0]
    assert note == "另有 1 件案件的最新变化尚未计入以下统计，系统正在后台补算，请稍后刷新。"
    assert 'data-kpi="K-01"' in page and PERSONAL not in page
    body = client.get("/api/v1/kpis", query_string=MARCH,
                      headers=_bearer(services, "supervisor")).get_json()
    assert body["not_counted"] == 1
    assert {k["id"]: k for k in body["kpis"]}["K-01"]["numerator"] == 1   # H left out
    sheet = load_workbook(io.BytesIO(client.get("/cockpit/ranking.xlsx",
                                                query_string=MARCH).data)).active
    assert "另有 1 件案件的最新变化尚未计入" in sheet["A1"].value


def test_a_figure_without_a_target_is_not_called_no_data(app, month):
    client = app.test_client()
    login(client, "leader")
    page = lxml_html.fromstring(client.get("/cockpit", query_string=MARCH).get_data(as_text=True))

    untargeted = [" ".join(tile.text_content().split())
                  for tile in page.xpath("//*[@data-kpi]") if "未设目标" in tile.text_content()]
    counted = [text for text in untargeted if not text.split(" ", 2)[1].startswith("—")]

    assert counted, untargeted
    assert all("无数据" not in text for text in counted), counted


def test_a_ladder_drill_down_names_its_rung_in_words(app, month):
    client = app.test_client()
    login(client, "supervisor")

    caption = lxml_html.fromstring(client.get(
        "/cases", query_string={**MARCH, "kpi": "open", "level": "2"}).get_data(as_text=True)
    ).xpath("//*[@data-testid='drill-caption']")[0].text_content()

    assert "督办级别 提级督办" in " ".join(caption.split())
    assert not re.search(r"\bL[0-3]\b", caption)


def test_the_targets_table_names_a_scope_by_its_place_not_its_code(app, month):
    client = app.test_client()
    login(client, "admin")
    post(client, "/admin/kpi-targets/", {"kpi": "K-25", "scope": "QS", "valid_from": "2025-01-01",
                                         "comparator": ">=", "value": "95", "source": "镇考核方案"})

    page = lxml_html.fromstring(client.get("/admin/kpi-targets/").get_data(as_text=True))
    row = [" ".join(r.text_content().split()) for r in page.xpath("//tr[@data-target]")
           if "镇考核方案" in r.text_content()]

    assert len(row) == 1 and "青山镇" in row[0] and " QS " not in f" {row[0]} "


def test_the_target_form_picks_a_scope_by_its_name_and_says_which_it_holds(app, month):
    """The scope field starts at 全区, offers places by name as the admin types, and an
    edited target's scope is named under the field."""
    client = app.test_client()
    login(client, "admin")
    new = client.get("/admin/kpi-targets/").get_data(as_text=True)
    assert 'id="t-scope" name="scope" value="全区"' in new
    offered = client.get("/admin/places/options?scope=青山").get_data(as_text=True)
    assert '<option value="QS">' in offered and "青山镇" in offered
    post(client, "/admin/kpi-targets/", {"kpi": "K-25", "scope": "QS", "valid_from": "2025-01-01",
                                         "comparator": ">=", "value": "95", "source": "镇考核方案"})
    page = lxml_html.fromstring(client.get("/admin/kpi-targets/").get_data(as_text=True))
    (link,) = [r.xpath(".//a[contains(@href, 'edit=')]/@href")[0]
               for r in page.xpath("//tr[@data-target]") if "镇考核方案" in r.text_content()]
    editing = client.get(link).get_data(as_text=True)
    assert 'value="QS"' in editing
    assert re.search(r'data-testid="scope-chosen">即：[^<]*青山镇<', editing)
    again = post(client, "/admin/kpi-targets/", {
        "kpi": "K-26", "scope": "全区", "valid_from": "2025-01-01", "comparator": ">=",
        "value": "90", "source": "区考核办法"})
    assert again.status_code == 302


def test_targets_page_and_file_name_each_kpi_not_its_code(app, services, month):
    """指标目标 names each KPI in words with its unit; the K-nn code stays in the form's values.
    The downloaded file writes names, 全区 and 不低于, and imports back as it was."""
    client = app.test_client()
    login(client, "admin")
    post(client, "/admin/kpi-targets/", {"kpi": "K-05", "scope": "QS", "valid_from": "2025-01-01",
                                         "comparator": "<=", "value": "24", "source": "镇方案"})
    page = client.get("/admin/kpi-targets/").get_data(as_text=True)
    text = visible_text(page)

    assert re.findall(r"\bK-\d\d\b", text) == []
    assert "矛盾纠纷化解率计量单位：%全区" in text and "不低于 80%" in text
    assert "部门响应时间计量单位：小时青山镇" in text and "不高于 24 小时" in text
    assert '<option value="K-05">部门响应时间（小时）</option>' in page

    download = client.get("/admin/kpi-targets/targets.xlsx")
    rows = list(load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))
    assert ("部门响应时间", "QS", "不高于", 24) in [(r[0], r[1], r[4], r[5]) for r in rows]
    assert ("矛盾纠纷化解率", "全区", "不低于", 80) in [(r[0], r[1], r[4], r[5]) for r in rows]
    assert not [row for row in rows[1:] if str(row[0]).startswith("K-")]
    with services.new_uow() as uow:
        before = sorted((t.kpi, t.scope, t.comparator, t.value)
                        for t in uow.session.scalars(select(KpiTarget)))
    again = post(client, "/admin/kpi-targets/import",
                 {"file": (io.BytesIO(download.data), "t.xlsx")},
                 content_type="multipart/form-data")
    assert again.status_code == 302
    with services.new_uow() as uow:
        after = sorted((t.kpi, t.scope, t.comparator, t.value)
                       for t in uow.session.scalars(select(KpiTarget)))
    assert after == sorted(before * 2)
