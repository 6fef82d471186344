"""Directory imports: places, units and users from CSV or XLSX, checked row by row, all or nothing."""

from __future__ import annotations

import io
import json

import pytest
from argon2 import PasswordHasher
from openpyxl import Workbook
from sqlalchemy import event, func, select
from sqlalchemy import text as sql_text

from engine.models import AuditEvent
from workflows.access import sign_in as auth
from workflows.core.actors import SYSTEM, Actor
from workflows.core.errors import ErrorCode, FieldCode, NotPermitted
from workflows.models import Case, Department, Place, User
from workflows.models.search_text import place_fact
from workflows.people.directory_import import (
    ImportRejected,
    apply_import,
    parse_file,
    preview_import,
)

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PLACES = """编码,名称,层级,上级编码,地址
LJ,临江区,区,,
QS,青山镇,乡镇,LJ,
SM,石门村,村,QS,
SM-W1,石门村第一网格,网格,SM,
SM-B1,石门村三组12号,楼栋,SM-W1,临江区青山镇石门村三组十二号
CD,城东街道,街道,LJ,
CD-A,城东社区,社区,CD,
CD-A-W1,城东社区第一网格,网格,CD-A,
"""
UNITS = """单位编码,名称,类型,所在地编码
JDTJ,区人民调解委员会,JDTJ,LJ
QS-JDTJ,青山镇人民调解委员会,jdtj,QS
SM-SQTJ,石门村人民调解委员会,SQTJ,SM
CD-GA,城东派出所,GA,CD
"""
USERS = """用户名,姓名,角色,单位编码,手机
qs_tj,陈调解,调解员;承办人,QS-JDTJ,138 1234 5678
sm_tj,林主任,mediator,SM-SQTJ,
owner2,流程管理员二,process_owner,,
"""


def _rows(kind: str, text: str, name: str = "file.csv"):
    return parse_file(kind, name, text.encode("utf-8"))


def _import(services, kind: str, text: str, name: str = "file.csv", actor=SYSTEM):
    return apply_import(services.new_uow(), actor, kind, _rows(kind, text, name), hasher=CHEAP)


def _problems(exc: ImportRejected) -> set[tuple[int, str, str]]:
    return {(p.row, p.column, str(p.error.code)) for p in exc.problems}


def _places(services) -> dict[str, Place]:
    with services.session_factory() as session:
        return {p.code: p for p in session.scalars(select(Place))}


def test_places_units_and_users_import_with_chinese_headers(services):
    result = _import(services, "places", PLACES)
    assert sorted(result.created) == sorted(
        ["LJ", "QS", "SM", "SM-W1", "SM-B1", "CD", "CD-A", "CD-A-W1"])
    places = _places(services)
    ids = {code: place.id for code, place in places.items()}
    assert places["SM-B1"].path == f"/{ids['LJ']}/{ids['QS']}/{ids['SM']}/{ids['SM-W1']}/" \
                                   f"{ids['SM-B1']}/"
    assert places["SM-B1"].address_key == "临江区青山镇石门村3组12号"
    assert places["QS"].level == "township" and places["SM"].parent_id == ids["QS"]

    units = _import(services, "units", UNITS)
    assert units.created == ["JDTJ", "QS-JDTJ", "SM-SQTJ", "CD-GA"] and not units.warnings
    with services.session_factory() as session:
        found = {u.code: u for u in session.scalars(select(Department))}
    assert (found["QS-JDTJ"].kind, found["QS-JDTJ"].tier) == ("JDTJ", "street")
    assert found["SM-SQTJ"].tier == "community" and found["JDTJ"].tier == "district"
    assert found["CD-GA"].place_id == ids["CD"]

    users = _import(services, "users", USERS)
    assert {p.username for p in users.passwords} == {"qs_tj", "sm_tj", "owner2"}
    first = next(p for p in users.passwords if p.username == "qs_tj")
    assert first.roles == ("mediator", "dept_handler") and first.unit_code == "QS-JDTJ"
    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == "qs_tj")).one()
        assert user.display_name == "陈调解" and user.department_id == found["QS-JDTJ"].id
        assert sorted(link.role.code for link in user.roles) == ["dept_handler", "mediator"]
        assert user.password_hash.startswith("$argon2id$") and first.password not in \
            user.password_hash
        assert CHEAP.verify(user.password_hash, first.password)
        assert user.mobile_masked == "138****5678" and "13812345678" not in user.mobile_enc
        payloads = " ".join(e.payload for e in session.scalars(select(AuditEvent)))
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "13812345678" not in payloads and first.password not in payloads
    assert actions.count("directory_imported") == 3 and actions.count("user_created") == 3


def test_the_one_time_password_signs_in(services, monkeypatch):
    _import(services, "places", PLACES)
    _import(services, "units", UNITS)
    password = next(p.password for p in _import(services, "users", USERS).passwords
                    if p.username == "sm_tj")
    signed_in = auth.login(services.new_uow(), username="sm_tj", password=password, ip=None)
    assert signed_in.user.department_code == "SM-SQTJ" and signed_in.user.roles == {"mediator"}


def test_xlsx_with_english_headers_and_numeric_cells(services):
    book = Workbook()
    sheet = book.active
    sheet.append(["Code", "Name", "Level", "Parent_Code", "Address"])
    sheet.append([990102, "临江区", "district", None, None])
    sheet.append([990102001, "城东街道", "street", 990102, None])
    sheet.append([])                                          # a blank row keeps its number
    sheet.append([990102001001, "城东社区", "community", 990102001, None])
    sheet.append(["990102001001W01", "第一网格", "grid", 990102001001, None])
    sheet.append(["B1", "城东小区1栋", "building", "990102001001W01", "城东小区1栋"])
    data = io.BytesIO()
    book.save(data)
    rows = parse_file("places", "places.xlsx", data.getvalue())
    assert [row.number for row in rows] == [2, 3, 5, 6, 7]
    assert rows[1].values["parent_code"] == "990102"
    result = apply_import(services.new_uow(), SYSTEM, "places", rows)
    assert len(result.created) == 5 and _places(services)["B1"].address == "城东小区1栋"


def test_reimport_changes_nothing_then_updates_by_code(services):
    _import(services, "places", PLACES)
    _import(services, "units", UNITS)
    _import(services, "users", USERS)
    for kind, text in (("places", PLACES), ("units", UNITS), ("users", USERS)):
        again = preview_import(services.new_uow(), kind, _rows(kind, text))
        assert again.ok and not again.created and not again.updated, (kind, again)
        assert not _import(services, kind, text).passwords

    renamed = PLACES.replace("石门村第一网格", "石门村一组网格")
    preview = preview_import(services.new_uow(), "places", _rows("places", renamed))
    assert preview.updated == ["SM-W1"] and preview.changes == {"SM-W1": ["name"]}
    users = USERS.replace("调解员;承办人,QS-JDTJ", "承办人,SM-SQTJ")
    result = _import(services, "users", users)
    assert result.updated == ["qs_tj"] and not result.passwords
    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == "qs_tj")).one()
        assert [link.role.code for link in user.roles] == ["dept_handler"]
        assert user.department.code == "SM-SQTJ"


def test_moving_a_place_repaths_its_subtree_and_the_cases_there(services):
    _import(services, "places", PLACES)
    places = _places(services)
    with services.new_uow() as uow:   # a case located at the building
        case = Case(case_no="T-1", channel="counter", category="neighbour", status="registered",
                    place_id=places["SM-B1"].id, place_path=places["SM-B1"].path)
        uow.session.add(case)
        uow.commit()
    moved = PLACES.replace("SM,石门村,村,QS,", "SM,石门村,村,CD,")
    assert _import(services, "places", moved).updated == ["SM"]
    after = _places(services)
    ids = {code: place.id for code, place in after.items()}
    assert after["SM-B1"].path == f"/{ids['LJ']}/{ids['CD']}/{ids['SM']}/{ids['SM-W1']}/" \
                                  f"{ids['SM-B1']}/"
    with services.session_factory() as session:
        assert session.scalar(select(Case.place_path).where(Case.case_no == "T-1")) == \
            after["SM-B1"].path
        if session.get_bind().dialect.name == "postgresql":   # the place facts moved too
            def under(code: str) -> bool:
                return bool(session.scalar(select(func.count()).select_from(Case).where(
                    Case.case_no == "T-1", sql_text("search_terms @@ CAST(:fact AS tsquery)")),
                    {"fact": f"'{place_fact(ids[code])}'"}))
            assert under("CD") and under("SM-B1") and not under("QS")


def test_bad_place_rows_are_reported_by_row_and_nothing_is_imported(services):
    bad = """编码,名称,层级,上级编码,地址
LJ,临江区,区,,
QS,青山镇,乡镇,LJ,
QS,白沙镇,乡镇,LJ,
X1,无名村,村,NOPE,
A,甲网格,网格,B,
B,乙网格,网格,A,
C,丙社区,社区,SM-W9,
SM,石门村,村,QS,
SM-W9,网格,网格,SM,
D,城西社区,社区,LJ,
E,某地,小区,QS,
F,,网格,SM,
G,网格G,网格,SM,某路1号
H,孤立社区,社区,,
"""
    with pytest.raises(ImportRejected) as refused:
        _import(services, "places", bad)
    problems = _problems(refused.value)
    assert (4, "code", ErrorCode.DUPLICATE_IN_FILE) in problems
    assert (5, "parent_code", ErrorCode.UNKNOWN_PARENT) in problems
    assert {(6, "parent_code", ErrorCode.PLACE_CYCLE),
            (7, "parent_code", ErrorCode.PLACE_CYCLE)} <= problems
    assert (8, "level", ErrorCode.LEVEL_NOT_BELOW_PARENT) in problems    # community under grid
    assert (11, "level", ErrorCode.LEVEL_NOT_BELOW_PARENT) not in problems  # a community may
    assert (12, "level", ErrorCode.UNKNOWN_LEVEL) in problems              # skip its street
    assert (13, "name", FieldCode.REQUIRED) in problems
    assert (14, "address", ErrorCode.ADDRESS_ONLY_BUILDING) in problems
    assert (15, "parent_code", ErrorCode.PARENT_REQUIRED) in problems
    duplicate = next(p for p in refused.value.problems if p.row == 4)
    assert duplicate.error.params == {"value": "QS", "row": 3}
    cycle = next(p for p in refused.value.problems if p.row == 6)
    assert cycle.error.params["codes"] in ("A → B → A", "B → A → B")
    assert _places(services) == {}
    preview = preview_import(services.new_uow(), "places", _rows("places", bad))
    assert not preview.ok and {(p.row, p.column, p.error.code) for p in preview.errors} == problems


def test_a_level_change_that_would_strand_the_children_is_refused(services):
    _import(services, "places", PLACES)
    with pytest.raises(ImportRejected) as refused:
        _import(services, "places", "code,name,level,parent_code\nSM-W1,网格,building,SM\n")
    assert _problems(refused.value) == {(2, "level", ErrorCode.LEVEL_NOT_ABOVE_CHILD)}
    assert _places(services)["SM-W1"].level == "grid"


def test_bad_unit_and_user_rows(services):
    _import(services, "places", PLACES)
    with pytest.raises(ImportRejected) as refused:
        _import(services, "units", "code,name,kind,place_code\nU1,某单位,RS,NOWHERE\n"
                                   "U 2,坏编码,RS,LJ\nU3,,RS,LJ\n")
    assert _problems(refused.value) == {(2, "place_code", ErrorCode.UNKNOWN_PLACE),
                                        (3, "code", ErrorCode.BAD_CODE),
                                        (4, "name", FieldCode.REQUIRED)}
    warned = preview_import(services.new_uow(), "units",
                            _rows("units", "code,name,kind,place_code\nU9,区档案馆,DAG,LJ\n"))
    assert warned.ok and [(p.row, p.error.code) for p in warned.warnings] == [
        (2, ErrorCode.UNKNOWN_KIND)]
    _import(services, "units", UNITS)
    bad_users = """用户名,姓名,角色,单位编码,手机
a1,张三,巫师,QS-JDTJ,
a2,李四,承办人,NOPE,
a3,王五,承办人,,
a4,赵六,承办人,QS-JDTJ,0571-8888888
a5,钱七,承办人,QS-JDTJ,138abc
a1,孙八,承办人,QS-JDTJ,
a7,周九,系统管理员;审计员,,
a 8,吴十,承办人,QS-JDTJ,
a9,,承办人,QS-JDTJ,
"""
    with pytest.raises(ImportRejected) as refused:
        _import(services, "users", bad_users)
    assert _problems(refused.value) == {
        (2, "roles", ErrorCode.UNKNOWN_ROLE), (3, "unit_code", ErrorCode.UNKNOWN_UNIT),
        (4, "unit_code", ErrorCode.UNIT_REQUIRED), (5, "mobile", FieldCode.PHONE_NOT_MOBILE),
        (6, "mobile", FieldCode.PHONE_CHARACTERS), (7, "username", ErrorCode.DUPLICATE_IN_FILE),
        (8, "roles", ErrorCode.ADMIN_NOT_AUDITOR), (9, "username", ErrorCode.BAD_USERNAME),
        (10, "display_name", FieldCode.REQUIRED)}
    unknown = next(p for p in refused.value.problems if p.row == 2)
    assert unknown.error.params == {"roles": "巫师"}
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(("name", "data", "code"), [
    ("p.csv", "名称,层级\n临江区,区\n".encode(), ErrorCode.MISSING_COLUMN),
    ("p.csv", "编码,名称,层级,颜色\nLJ,临江区,区,红\n".encode(), ErrorCode.UNKNOWN_COLUMN),
    ("p.csv", "编码,名称,层级,code\nLJ,临江区,区,LJ\n".encode(), ErrorCode.DUPLICATE_COLUMN),
    ("p.csv", "编码,名称,层级\n\n".encode(), ErrorCode.IMPORT_NO_ROWS),
    ("p.xlsx", b"not a workbook", ErrorCode.IMPORT_FILE_UNREADABLE),
    ("p.xls", b"\xd0\xcf\x11\xe0", ErrorCode.IMPORT_FILE_TYPE),
])
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(name, data, code):
    with pytest.raises(ImportRejected) as refused:
        parse_file("places", name, data)
    assert code in {p.error.code for p in refused.value.problems}


def test_gb18030_csv_with_bracketed_headers():
    text = "编码（必填）,名称*,层级,上级编码\nLJ,临江区,区,\n"
    rows = parse_file("places", "places.csv", text.encode("gb18030"))
    assert rows[0].values == {"code": "LJ", "name": "临江区", "level": "区", "parent_code": ""}


def test_only_the_system_and_administrators_import(services):
    clerk = Actor(type="user", id="7", username="clerk", roles=frozenset({"intake_clerk"}))
    with pytest.raises(NotPermitted):
        _import(services, "places", PLACES, actor=clerk)
    admin = Actor(type="user", id="8", username="admin", roles=frozenset({"admin"}))
    assert len(_import(services, "places", PLACES, actor=admin).created) == 8


def test_ten_thousand_places_in_a_bounded_number_of_statements(services, db_engine):
    lines = ["code,name,level,parent_code,address", "D,大区,district,,"]
    for s in range(10):
        lines.append(f"S{s},街道{s},street,D,")
        for c in range(10):
            lines.append(f"S{s}C{c},社区{s}-{c},community,S{s},")
            for g in range(10):
                grid = f"S{s}C{c}G{g}"
                lines.append(f"{grid},网格{g},grid,S{s}C{c},")
                for b in range(9):
                    lines.append(f"{grid}B{b},{b}栋,building,{grid},街道{s}社区{c}网格{g}{b}栋")
    rows = parse_file("places", "big.csv", "\n".join(lines).encode())
    assert len(rows) == 10_111
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        result = apply_import(services.new_uow(), SYSTEM, "places", rows)
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert len(result.created) == 10_111
    assert len(statements) < 200     # batched: never a statement per row
    places = _places(services)
    assert places["S9C9G9B8"].path.count("/") == 6 and places["S9C9G9B8"].address_key


def test_preview_reports_counts_for_the_admin_page(services):
    preview = preview_import(services.new_uow(), "places", _rows("places", PLACES))
    assert preview.ok and preview.rows == 8 and len(preview.created) == 8
    assert json.dumps(preview.created)   # plain data


def test_cells_meet_the_input_rules(services):
    """A name cell must show something; no cell holds control characters or lone surrogates."""
    bad = ("编码,名称,层级,上级编码,地址\nLJ,临江区,区,,\nQS,\u200b\ufeff,乡镇,LJ,\n"
           "CD,城东\u202e街道,街道,LJ,\nSM,石门村,村,QS,某路\x01号\n")
    with pytest.raises(ImportRejected) as refused:
        _import(services, "places", bad)
    assert _problems(refused.value) >= {(3, "name", FieldCode.INVISIBLE),
                                        (4, "name", FieldCode.BAD_CHARACTERS),
                                        (5, "address", FieldCode.BAD_CHARACTERS)}
    assert _places(services) == {}
