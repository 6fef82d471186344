"""The administrator's directory pages: accounts, units, places and imports, as an admin sees
them, every change audited; nobody else gets past the door."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.district_fixtures import build_district
from tests.web.conftest import ROLES, csrf_token, login, post
from workflows.models import Department, Place, User

OTP = re.compile(r'data-testid="one-time-password">([^<]+)<')
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def district(services, reference):
    return build_district(services)


@pytest.fixture
def admin_client(as_role, district):
    return as_role("admin")


def _events(services, action: str) -> list[dict]:
    """The payloads of the audit events of one action, oldest first."""
    with services.session_factory() as session:
        return [json.loads(payload) for payload in session.scalars(
            select(AuditEvent.payload).where(AuditEvent.action == action)
            .order_by(AuditEvent.id))]


def _user(services, username: str) -> User | None:
    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is not None:
            user.roles and user.department  # load before the session closes  # noqa: B018
        return user


def _text(response) -> str:
    return response.get_data(as_text=True)


def _visible(page: str, testid: str | None = None) -> str:
    """The words a reader sees (of one element marked data-testid, when given): no tags."""
    if testid:
        found = re.search(rf'<(\w+)[^>]*data-testid="{testid}".*?</\1>', page, re.S)
        assert found, testid
        page = found.group(0)
    return re.sub(r"<[^>]+>", " ", page)


def _create(client, **fields):
    data = {"username": "wangli", "display_name": "王丽", "unit": "QS-JDTJ",
            "roles": ["mediator"], **fields}
    return post(client, "/admin/users", data)


def _fresh_client(app):
    return app.test_client()


# -- accounts -------------------------------------------------------------------------------------
def test_new_account_signs_in_with_its_one_time_password_shown_once(app, admin_client, services):
    form = _text(admin_client.get("/admin/users/new"))
    assert "青山镇人民调解委员会" in form and "调解员" in form and "所属单位" in form
    response = _create(admin_client, roles=["mediator", "supervisor"])
    assert response.status_code == 200
    page = _text(response)
    password = OTP.search(page).group(1)
    assert "只显示这一次" in page and len(password) >= 10
    user = _user(services, "wangli")
    assert user.display_name == "王丽" and user.active
    assert password not in user.password_hash
    # the password is never in the audit log
    created = _events(services, "user_created")[-1]
    assert created["roles"] == ["mediator", "supervisor"]
    assert created["department"] == "QS-JDTJ"
    assert password not in str(created)
    # and it works
    fresh = _fresh_client(app)
    assert login(fresh, "wangli", password).status_code == 302
    assert "王丽" in _text(fresh.get("/inbox"))
    # the list shows the account with its unit and roles in Chinese
    listing = _text(admin_client.get("/admin/users?unit=QS-JDTJ"))
    assert "wangli" in listing and "青山镇人民调解委员会" in listing
    assert "调解员、督办员" in listing
    assert not re.search(r"mediator|supervisor|\[", _visible(listing, "user-list"))


def test_user_list_filters_by_text_unit_role_and_state(admin_client, users, services):
    _create(admin_client, username="zhaomin", display_name="赵敏", unit="BS-JDTJ")
    page = _text(admin_client.get("/admin/users?q=赵"))
    assert "zhaomin" in page and "wangli" not in page
    page = _text(admin_client.get("/admin/users?role=auditor"))
    assert 'data-username="auditor"' in page and 'data-username="zhaomin"' not in page
    page = _text(admin_client.get("/admin/users?unit=BS-JDTJ"))
    assert 'data-username="zhaomin"' in page and 'data-username="mediator"' not in page
    post(admin_client, "/admin/users/zhaomin/disable")
    page = _text(admin_client.get("/admin/users?state=disabled"))
    assert 'data-username="zhaomin"' in page and 'data-username="admin"' not in page
    # odd values are ignored, not errors
    assert admin_client.get("/admin/users?role=wizard&state=x&page=abc").status_code == 200


def test_edit_form_starts_from_the_account_and_saves_roles_and_unit(admin_client, users,
                                                                    services):
    page = _text(admin_client.get("/admin/users/mediator"))
    assert re.search(r'value="mediator" id="role-mediator"\s+checked', page)
    assert re.search(r'<option value="T_MEDIATION" selected>', page)
    assert 'value="mediator用户"' in page
    response = post(admin_client, "/admin/users/mediator",
                    {"display_name": "李调解", "unit": "QS-JDTJ",
                     "roles": ["mediator", "triage_officer"]})
    assert response.status_code == 302
    user = _user(services, "mediator")
    assert user.display_name == "李调解"
    assert user.department.code == "QS-JDTJ"
    assert sorted(link.role.code for link in user.roles) == ["mediator", "triage_officer"]
    event = _events(services, "user_updated")[-1]
    assert event["roles"] == {"from": ["mediator"],
                                      "to": ["mediator", "triage_officer"]}
    assert event["unit"] == {"from": "T_MEDIATION", "to": "QS-JDTJ"}
    assert "李调解" not in str(event)
    page = _text(admin_client.get("/admin/users/mediator"))
    assert "已保存" in page and "临江区 / 青山镇" in page


def test_disabled_account_cannot_sign_in_until_enabled(app, admin_client, users, services):
    signed_in = _fresh_client(app)
    assert login(signed_in, "mediator").status_code == 302
    assert post(admin_client, "/admin/users/mediator/disable").status_code == 302
    assert "已停用" in _text(admin_client.get("/admin/users/mediator"))
    assert signed_in.get("/inbox").status_code == 302          # its session ended at once
    assert login(_fresh_client(app), "mediator").status_code == 401
    assert post(admin_client, "/admin/users/mediator/enable").status_code == 302
    assert login(_fresh_client(app), "mediator").status_code == 302
    assert len(_events(services, "user_disabled")) == 1
    assert len(_events(services, "user_enabled")) == 1


def test_password_reset_shows_a_new_one_time_password(app, admin_client, users, services):
    signed_in = _fresh_client(app)
    login(signed_in, "mediator")
    response = post(admin_client, "/admin/users/mediator/password")
    assert response.status_code == 200 and "密码已重置" in _text(response)
    password = OTP.search(_text(response)).group(1)
    assert signed_in.get("/inbox").status_code == 302          # sessions ended
    assert login(_fresh_client(app), "mediator").status_code == 401   # old password
    assert login(_fresh_client(app), "mediator", password).status_code == 302
    event = _events(services, "password_reset")[-1]
    assert password not in str(event) and event["sessions_revoked"] == 1


def test_unlock_after_throttling_lets_the_user_sign_in_again(app, admin_client, users,
                                                             services, settings):
    for _ in range(settings.login_max_failures):
        assert login(_fresh_client(app), "mediator", "wrong-password-1").status_code == 401
    assert login(_fresh_client(app), "mediator").status_code == 429
    page = _text(admin_client.get("/admin/users/mediator"))
    assert "登录已锁定" in page and "解除登录锁定" in page
    response = post(admin_client, "/admin/users/mediator/unlock")
    assert response.status_code == 302
    page = _text(admin_client.get("/admin/users/mediator"))
    assert "已解除登录锁定" in page and 'data-testid="user-locked"' not in page
    assert login(_fresh_client(app), "mediator").status_code == 302
    assert len(_events(services, "user_unlocked")) == 1
    # unlocking an account that is not locked says so and writes nothing
    post(admin_client, "/admin/users/mediator/unlock")
    assert "该账号没有被锁定" in _text(admin_client.get("/admin/users/mediator"))
    assert len(_events(services, "user_unlocked")) == 1


def test_an_unlock_resets_the_count_rather_than_lifting_the_limit(app, admin_client, users,
                                                                  settings, clock):
    for _ in range(settings.login_max_failures):
        login(_fresh_client(app), "mediator", "wrong-password-1")
    post(admin_client, "/admin/users/mediator/unlock")
    clock.advance(seconds=1)
    for _ in range(settings.login_max_failures):
        login(_fresh_client(app), "mediator", "wrong-password-1")
    assert login(_fresh_client(app), "mediator").status_code == 429


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"roles": []}, "role", "请至少选择一个角色"),
    ({"roles": ["admin", "auditor"]}, "role", "管理员与审计员不能由同一账号担任"),
    ({"username": "has space"}, "username", "用户名不合法"),
    ({"username": "admin"}, "username", "用户 admin 已存在"),
    ({"display_name": ""}, "display_name", "请填写姓名"),
    ({"unit": "NOPE"}, "unit", "没有编码为 NOPE 的单位"),
    ({"unit": ""}, "unit", "请选择单位"),
    ({"mobile": "010-12345678"}, "mobile", "手机号应为 11 位"),
])
def test_bad_account_input_gets_chinese_field_errors(admin_client, users, services, fields,
                                                     field, words):
    response = _create(admin_client, **fields)
    assert response.status_code == 422
    page = _text(response)
    assert words in page and "is-invalid" in page
    assert 'value="王丽"' in page or fields.get("display_name") == ""   # what was typed stays
    assert _user(services, "wangli") is None


def test_no_unit_chosen_asks_to_choose_one_under_the_unit_list(admin_client, users, services):
    """The unit is a list to choose from, not a code to type: the error says so under it."""
    page = _text(_create(admin_client, unit=""))
    unit = page.split('name="unit"')[1].split('data-field=')[0]
    assert "请选择单位" in _visible(unit) and "单位编码" not in _visible(unit)
    assert _user(services, "wangli") is None


def test_bad_edit_keeps_what_was_typed(admin_client, users):
    response = post(admin_client, "/admin/users/mediator",
                    {"display_name": "新名字", "unit": "T_MEDIATION", "roles": []})
    assert response.status_code == 422
    page = _text(response)
    assert "请至少选择一个角色" in page and 'value="新名字"' in page


def test_unknown_account_is_404(admin_client):
    assert admin_client.get("/admin/users/nobody").status_code == 404
    assert post(admin_client, "/admin/users/nobody/disable").status_code == 404


# -- units ----------------------------------------------------------------------------------------
def test_units_page_lists_kind_place_tier_responsibilities_and_users(admin_client, users):
    page = _text(admin_client.get("/admin/units"))
    row = re.search(r'<tr data-unit="QS-JDTJ">(.*?)</tr>', page, re.S).group(1)
    assert "青山镇人民调解委员会" in row
    assert "街道（乡镇）人民调解委员会" in row          # the kind
    assert "临江区 / 青山镇" in row and "街道（乡镇）级" in row
    row = re.search(r'<tr data-unit="ZJ">(.*?)</tr>', page, re.S).group(1)
    assert "全区" in row and "区级" in row
    assert "物业纠纷（单户）" in row and "房屋征收补偿" in row      # responsibilities
    assert re.search(r'unit=ZJ">1</a>', row)                   # the dept_handler
    for code in ("township", "street", "district", "property", "labour"):
        assert f">{code}<" not in page
    assert "['" not in page
    filtered = _text(admin_client.get("/admin/units?kind=JDTJ"))
    assert "QS-JDTJ" in filtered and "BS-JDTJ" in filtered and 'data-unit="ZJ"' not in filtered
    at_place = _text(admin_client.get("/admin/units?place=QS"))
    assert 'data-unit="QS-ZZ"' in at_place and 'data-unit="BS-JDTJ"' not in at_place
    assert "临江区 / 青山镇" in at_place


def test_create_and_edit_a_unit(admin_client, services):
    form = _text(admin_client.get("/admin/units/new?place=QS-SM"))
    assert 'value="QS-SM"' in form and "社区（村）人民调解委员会" in form
    assert re.search(r'data-testid="place-chosen">即：[^<]*青山镇 / 石门村<', form)
    # typing a name in the place field offers the places by name, their code as the value
    offered = _text(admin_client.get("/admin/places/options?place=石门"))
    assert re.search(r'<option value="QS-SM">[^<]*青山镇 / 石门村', offered)
    response = post(admin_client, "/admin/units", {"code": "QS-SM-GH", "name": "石门村工会",
                                                   "kind": "GH", "place": "QS-SM"})
    assert response.status_code == 302
    with services.session_factory() as session:
        unit = session.scalars(select(Department).where(Department.code == "QS-SM-GH")).one()
        assert (unit.kind, unit.tier) == ("GH", "community")
        assert unit.responsibilities == ["labour", "labour_collective"]
    page = _text(admin_client.get("/admin/units/QS-SM-GH"))
    assert 'value="石门村工会"' in page and '<option value="GH" selected>' in page
    assert 'value="QS-SM"' in page
    response = post(admin_client, "/admin/units/QS-SM-GH",
                    {"name": "青山镇工会", "kind": "GH", "place": "QS", "active": "true"})
    assert response.status_code == 302
    with services.session_factory() as session:
        unit = session.scalars(select(Department).where(Department.code == "QS-SM-GH")).one()
        assert (unit.name, unit.tier) == ("青山镇工会", "street")
    created, updated = _events(services, "unit_created")[-1], _events(services, "unit_updated")[-1]
    assert created["place"] == "QS-SM"
    assert updated["place"] == {"from": "QS-SM", "to": "QS"}
    assert updated["tier"] == {"from": "community", "to": "street"}
    # switched off: no longer offered for accounts, still listed
    post(admin_client, "/admin/units/QS-SM-GH", {"name": "青山镇工会", "kind": "GH", "place": "QS"})
    assert "已停用" in _text(admin_client.get("/admin/units?q=QS-SM-GH"))
    assert 'value="QS-SM-GH"' not in _text(admin_client.get("/admin/users/new"))


@pytest.mark.parametrize(("fields", "field_words"), [
    ({"code": "bad code"}, "编码只能由字母、数字"),
    ({"code": "X" * 33}, "编码只能由字母、数字"),
    ({"code": "QS-JDTJ"}, "单位编码 QS-JDTJ 已被使用"),
    ({"name": ""}, "必填"),
    ({"kind": "WIZARD"}, "类型 WIZARD 不是路由表使用的类型"),
    ({"place": "NOWHERE"}, "没有编码为 NOWHERE 的地点"),
])
def test_bad_unit_input_gets_chinese_field_errors(admin_client, services, fields, field_words):
    data = {"code": "NEW-1", "name": "新单位", "kind": "GH", "place": "QS", **fields}
    response = post(admin_client, "/admin/units", data)
    assert response.status_code == 422
    assert field_words in _text(response) and "is-invalid" in _text(response)
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Department)
                              .where(Department.code == "NEW-1")) == 0


def test_unknown_unit_is_404(admin_client):
    assert admin_client.get("/admin/units/NOPE").status_code == 404


# -- places ---------------------------------------------------------------------------------------
def test_place_browser_walks_the_tree_with_counts_and_units(admin_client):
    root = _text(admin_client.get("/admin/places"))
    assert 'data-place="LJ"' in root and ">区<" in root
    district = _text(admin_client.get("/admin/places?code=LJ"))
    row = re.search(r'<tr data-place="QS">(.*?)</tr>', district, re.S).group(1)
    assert "青山镇" in row and "乡镇" in row
    assert 'code=QS">1</a>' in row                 # one village below
    assert 'place=QS">3</a>' in row                # three units placed there
    township = _text(admin_client.get("/admin/places?code=QS"))
    assert "青山镇人民调解委员会" in township and "石门村" in township
    assert re.search(r'breadcrumb-item"><a href="/admin/places\?code=LJ">临江区', township)
    building = _text(admin_client.get("/admin/places?code=QS-SM-G1-B3"))
    assert "临江区青山镇石门村3组12号" in building and "楼栋 · " in building
    assert "本地点没有单位" in building
    for code in ("township", "village", "building", "grid"):
        assert f">{code}<" not in township + building


def test_place_search_by_name_code_or_address_shows_the_path(admin_client):
    hits = _text(admin_client.get("/admin/places?q=石门"))
    assert 'data-place="QS-SM"' in hits and 'data-place="QS-SM-G1"' in hits
    assert "临江区 / 青山镇" in hits
    assert 'data-place="BS-HT"' not in hits
    assert 'data-place="CD-XF-G2-B12"' in _text(admin_client.get("/admin/places?q=幸福路8号"))
    assert 'data-place="BS"' in _text(admin_client.get("/admin/places?q=bs"))
    assert "没有名称、编码或地址含" in _text(admin_client.get("/admin/places?q=%25_"))
    assert admin_client.get("/admin/places?code=NOWHERE").status_code == 404


# -- the door -------------------------------------------------------------------------------------
PAGES = ["/admin/users", "/admin/users/new", "/admin/users/mediator", "/admin/units",
         "/admin/units/new", "/admin/units/ZJ", "/admin/places", "/admin/places?q=青山",
         "/admin/places/options?place=青山", "/admin/import/"]
WRITES = ["/admin/users", "/admin/users/mediator", "/admin/users/mediator/disable",
          "/admin/users/mediator/enable", "/admin/users/mediator/password",
          "/admin/users/mediator/unlock", "/admin/units", "/admin/units/ZJ",
          "/admin/import/preview", "/admin/import/confirm"]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_nobody_but_an_admin_gets_in(client, users, district, services, role):
    login(client, role)
    before = len(_events(services, "access_denied"))
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权访问" in _text(response)
    token = csrf_token(client, "/inbox")
    for path in WRITES:
        response = client.post(path, data={"csrf_token": token, "roles": ["admin"],
                                           "display_name": "x", "unit": ""})
        assert response.status_code == 403, path
    assert len(_events(services, "access_denied")) - before == len(PAGES) + len(WRITES)
    assert _user(services, "mediator").active
    assert _events(services, "password_reset") == []
    nav = _text(client.get("/inbox"))
    assert "/admin/users" not in nav


def test_admin_navigation_names_the_directory_pages(admin_client):
    nav = _text(admin_client.get("/admin/users"))
    for words in ("账号", "单位", "地点", "导入", "工作日历"):
        assert f">{words}</a>" in nav


def test_forms_without_csrf_token_are_refused(admin_client, services):
    response = admin_client.post("/admin/units", data={"code": "X1", "name": "x", "kind": "GH"})
    assert response.status_code == 400
    assert _events(services, "unit_created") == []


def test_roles_outside_units_need_no_unit(admin_client, services):
    response = _create(admin_client, username="shenji", display_name="审计甲", unit="",
                       roles=["auditor"])
    assert response.status_code == 200
    assert _user(services, "shenji").department_id is None


def test_work_mobile_is_stored_encrypted_and_shown_masked(admin_client, services):
    _create(admin_client, mobile="139 1234 5678")
    user = _user(services, "wangli")
    assert user.mobile_masked == "139****5678" and "13912345678" not in (user.mobile_enc or "")
    page = _text(admin_client.get("/admin/users/wangli"))
    assert "139****5678" in page and "13912345678" not in page
    assert "13912345678" not in str(_events(services, "user_created"))
    # empty keeps the number, a new one replaces it, the box removes it
    form = {"display_name": "王丽", "unit": "QS-JDTJ", "roles": ["mediator"]}
    post(admin_client, "/admin/users/wangli", {**form, "mobile": ""})
    assert _user(services, "wangli").mobile_masked == "139****5678"
    post(admin_client, "/admin/users/wangli", {**form, "mobile": "13800001111"})
    assert _user(services, "wangli").mobile_masked == "138****1111"
    post(admin_client, "/admin/users/wangli", {**form, "clear_mobile": "true"})
    assert _user(services, "wangli").mobile_enc is None
    assert [e.get("mobile") for e in _events(services, "user_updated")] == ["changed",
                                                                             "removed"]


# -- imports --------------------------------------------------------------------------------------
PLACES_CSV = ("编码,名称,层级,上级编码,地址\n"
              "QS-DH,东湖村,村,QS,\n"
              "QS-DH-G1,东湖村第一网格,网格,QS-DH,\n"
              "QS-DH-G1-B1,东湖村1组8号,楼栋,QS-DH-G1,临江区青山镇东湖村1组8号\n"
              "QS-SM,石门行政村,村,QS,\n")
UNITS_CSV = "code,name,kind,place_code\nQS-DH-SQTJ,东湖村人民调解委员会,SQTJ,QS-DH\n"
USERS_CSV = ("用户名,姓名,角色,单位编码,手机\n"
             "dh_tj,陈调解,调解员,QS-SM-SQTJ,13800002222\n"
             "mediator,李调解,调解员;督办员,QS-JDTJ,\n")


def _upload(client, kind: str, content: str | bytes, name: str = "file.csv"):
    body = content.encode() if isinstance(content, str) else content
    return post(client, "/admin/import/preview",
                {"kind": kind, "file": (io.BytesIO(body), name)},
                content_type="multipart/form-data")


def _token(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_places_import_previews_then_applies_on_confirm(admin_client, services):
    response = _upload(admin_client, "places", PLACES_CSV)
    assert response.status_code == 200
    page = _text(response)
    assert "新建 3，更新 1，不变 0" in page
    rows = _visible(page, "import-rows")
    assert "东湖村第一网格" in rows and "网格" in rows and "楼栋" in rows
    assert "名称" in rows                           # the changed column of QS-SM
    assert not re.search(r"\b(village|grid|building|name)\b", rows)
    assert admin_client.get("/admin/places?q=东湖").get_data(as_text=True).count(
        "data-place=") == 0                          # a preview writes nothing
    response = post(admin_client, "/admin/import/confirm", {"token": _token(page)})
    assert response.status_code == 200
    assert "新建 3，更新 1，不变 0" in _text(response)
    hits = _text(admin_client.get("/admin/places?q=东湖"))
    assert 'data-place="QS-DH-G1-B1"' in hits and "临江区 / 青山镇 / 东湖村" in hits
    assert _events(services, "directory_imported")[-1]["created"] == 3
    # the same token cannot be used twice
    again = post(admin_client, "/admin/import/confirm", {"token": _token(page)})
    assert again.status_code == 422 and "预览已过期" in _text(again)


def test_users_import_shows_one_time_passwords_once_and_they_work(app, admin_client, services):
    page = _text(_upload(admin_client, "users", USERS_CSV))
    rows = _visible(page, "import-rows")
    assert "138****2222" in rows and "13800002222" not in page
    assert "调解员、督办员" in rows
    done = _text(post(admin_client, "/admin/import/confirm", {"token": _token(page)}))
    assert "新建 1，更新 1" in done
    password = re.search(r'data-testid="import-password">([^<]+)<', done).group(1)
    assert login(_fresh_client(app), "dh_tj", password).status_code == 302
    assert _user(services, "mediator").department.code == "QS-JDTJ"


def test_units_import_from_xlsx(admin_client, services):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["单位编码", "单位名称", "类型", "所在地编码"])
    book.active.append(["QS-SM-GH", "石门村工会", "GH", "QS-SM"])
    buffer = io.BytesIO()
    book.save(buffer)
    page = _text(_upload(admin_client, "units", buffer.getvalue(), "units.xlsx"))
    assert "工会（GH）" in _visible(page, "import-rows")
    post(admin_client, "/admin/import/confirm", {"token": _token(page)})
    row = re.search(r'<tr data-unit="QS-SM-GH">(.*?)</tr>',
                    _text(admin_client.get("/admin/units?place=QS-SM")), re.S).group(1)
    assert "临江区 / 青山镇 / 石门村" in row and "社区（村）级" in row


def test_bad_rows_are_listed_with_row_numbers_and_nothing_is_applied(admin_client, services):
    bad = ("code,name,level,parent_code\n"
           "NEW-1,新村,村,NOWHERE\n"
           "NEW-2,新网格,网格,NEW-1\n"
           "NEW-2,重复,网格,NEW-1\n"
           "NEW-3,,星球,QS\n")
    response = _upload(admin_client, "places", bad)
    assert response.status_code == 422
    page = _text(response)
    errors = _visible(page, "import-errors")
    assert "第 2 行" in errors and "没有编码为 NOWHERE 的上级地点" in errors
    assert "第 4 行" in errors and "与第 3 行重复" in errors
    assert "第 5 行" in errors and "必填" in errors and "层级应为" in errors
    assert "上级编码" in errors and "名称" in errors          # columns by their Chinese names
    assert 'data-testid="confirm"' not in page
    assert 'data-place="NEW-2"' not in _text(admin_client.get("/admin/places?q=NEW"))


def test_a_file_that_cannot_be_read_is_refused_as_a_whole(admin_client):
    response = _upload(admin_client, "units", "编号,名字\nX,Y\n")
    assert response.status_code == 422
    problems = _visible(_text(response), "file-problems")
    assert "无法识别的列“编号”" in problems and "缺少列“编码”" in problems
    response = _upload(admin_client, "units", b"\x00\x01\x02", "units.xlsx")
    assert response.status_code == 422 and "无法读取文件" in _text(response)
    response = _upload(admin_client, "units", "")
    assert response.status_code == 422 and "请选择 CSV 或 XLSX 文件" in _text(response)
    response = _upload(admin_client, "stars", "a\n1\n")
    assert response.status_code == 422 and "请选择导入的内容" in _text(response)


def test_confirm_checks_the_file_again(admin_client, services):
    page = _text(_upload(admin_client, "units", "code,name,kind,place_code\n"
                                                "QS-B3-WY,恒安物业,WY,QS-SM-G1-B3\n"))
    with services.new_uow() as uow:      # meanwhile the building goes
        uow.session.execute(Place.__table__.delete().where(Place.code == "QS-SM-G1-B3"))
        uow.commit()
    response = post(admin_client, "/admin/import/confirm", {"token": _token(page)})
    assert response.status_code == 422
    assert "第 2 行" in _text(response) and "没有编码为 QS-SM-G1-B3 的地点" in _text(response)
    assert 'data-unit="QS-B3-WY"' not in _text(admin_client.get("/admin/units"))


def test_a_preview_belongs_to_the_admin_who_made_it_and_expires(app, admin_client, users,
                                                                services, clock):
    page = _text(_upload(admin_client, "units", UNITS_CSV.replace("QS-DH", "QS-SM")))
    token = _token(page)
    other = _fresh_client(app)
    users.add("admin2", "admin", None)
    login(other, "admin2")
    assert post(other, "/admin/import/confirm", {"token": token}).status_code == 422
    assert post(admin_client, "/admin/import/confirm", {"token": "../../etc/passwd"}
                ).status_code == 422
    clock.advance(minutes=61)
    login(admin_client, "admin")            # the idle session ended too
    response = post(admin_client, "/admin/import/confirm", {"token": token})
    assert response.status_code == 422 and "预览已过期" in _text(response)
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Department)
                              .where(Department.code == "QS-DH-SQTJ")) == 0


def test_an_admin_cannot_lock_themselves_out(admin_client, services):
    response = post(admin_client, "/admin/users/admin/disable")
    assert response.status_code == 422 and "不能停用自己的账号" in _text(response)
    response = post(admin_client, "/admin/users/admin", {"display_name": "管理员",
                                                         "roles": ["process_owner"]})
    assert response.status_code == 422 and "不能停用自己的账号" in _text(response)
    assert _user(services, "admin").active
    assert admin_client.get("/admin/users").status_code == 200


def test_an_account_in_an_inactive_unit_keeps_it_when_edited(admin_client, services):
    post(admin_client, "/admin/units/T_MEDIATION", {"name": "测试街道人民调解委员会",
                                                    "kind": "T_MEDIATION", "place": ""})
    page = _text(admin_client.get("/admin/users/mediator"))
    assert '<option value="T_MEDIATION" selected>' in page
    assert 'value="T_MEDIATION"' not in _text(admin_client.get("/admin/users/new"))


def test_the_pages_speak_english_too(admin_client):
    admin_client.post("/i18n/locale/en", data={"csrf_token": csrf_token(admin_client, "/inbox"),
                                               "next": "/inbox"})
    pages = {"/admin/users/mediator": ("Unit and roles", "Mediator", "Reset password"),
             "/admin/units?kind=JDTJ": ("Unit type", "Street (township) mediation committee",
                                        "Street / township", "District-wide"),
             "/admin/places?code=LJ": ("Places below", ">township<"),
             "/admin/import/": ("Import places, units and accounts", "File formats")}
    for path, words in pages.items():
        page = _text(admin_client.get(path))
        for word in words:
            assert word in page, (path, word)
