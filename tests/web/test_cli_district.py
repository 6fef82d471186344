"""`jiefen places|units|users import` and `places|units list --json` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.cli_support import JIEFEN, jiefen
from workflows.access import sign_in as auth

PLACES = """编码,名称,层级,上级编码,地址
LJ,临江区,区,,
QS,青山镇,乡镇,LJ,
SM,石门村,村,QS,
SM-W1,石门村第一网格,网格,SM,
SM-B1,石门村三组12号,楼栋,SM-W1,临江区青山镇石门村三组12号
"""


@pytest.fixture
def env(tmp_path, committed_services, settings):
    return {**os.environ, "JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
            "JIEFEN_KEYS_FILE": str(settings.keys_path), "JIEFEN_SECRET_KEY": "cli-test",
            "DATABASE_URL": committed_services.settings.database}


def run(env, *args) -> subprocess.CompletedProcess:
    """``jiefen ARGS`` in this process (tests/cli_support.py), answered as the shell sees it."""
    result = jiefen(env, *args)
    return subprocess.CompletedProcess([JIEFEN, *args], result.exit_code, result.stdout,
                                       result.stderr)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_places_and_units_import_then_list_as_json(env, tmp_path):
    done = run(env, "places", "import", _file(tmp_path, "places.csv", PLACES))
    assert done.returncode == 0, done.stderr
    assert "新增 created 5" in done.stdout
    book = Workbook()
    book.active.append(["单位编码", "名称", "类型", "所在地编码"])
    book.active.append(["QS-JDTJ", "青山镇人民调解委员会", "JDTJ", "QS"])
    book.active.append(["RS", "区人社局", "RS", "LJ"])
    book.save(tmp_path / "units.xlsx")
    done = run(env, "units", "import", str(tmp_path / "units.xlsx"))
    assert done.returncode == 0, done.stderr

    places = json.loads(run(env, "places", "list", "--json").stdout)
    building = next(p for p in places if p["code"] == "SM-B1")
    assert building == {"code": "SM-B1", "name": "石门村三组12号", "level": "building",
                        "parent_code": "SM-W1",
                        "names": ["临江区", "青山镇", "石门村", "石门村第一网格", "石门村三组12号"],
                        "address": "临江区青山镇石门村三组12号", "active": True}
    assert [p["code"] for p in places][:2] == ["LJ", "QS"]
    units = {u["code"]: u for u in json.loads(run(env, "units", "list", "--json").stdout)}
    assert units["QS-JDTJ"] == {"code": "QS-JDTJ", "name": "青山镇人民调解委员会", "kind": "JDTJ",
                                "tier": "street", "place_code": "QS",
                                "names": ["临江区", "青山镇"], "active": True}
    again = run(env, "places", "import", _file(tmp_path, "places.csv", PLACES))
    assert "新增 created 0" in again.stdout and "不变 unchanged 5" in again.stdout


def test_a_bad_row_is_named_by_row_and_reason_and_nothing_is_imported(env, tmp_path):
    bad = PLACES + "X1,无名村,村,NOPE,\nSM,石门村,村,QS,\n"
    done = run(env, "places", "import", _file(tmp_path, "bad.csv", bad))
    assert done.returncode == 1
    assert "第 7 行 上级编码：没有编码为 NOPE 的上级地点" in done.stderr
    assert "第 8 行 编码：SM 与第 4 行重复" in done.stderr
    assert "nothing imported" in done.stderr
    assert json.loads(run(env, "places", "list", "--json").stdout) == []
    preview = run(env, "places", "import", "--dry-run", _file(tmp_path, "bad.csv", bad))
    assert preview.returncode == 1 and "第 7 行" in preview.stderr
    missing = run(env, "units", "import", _file(tmp_path, "u.csv", "名称,类型\n某单位,RS\n"))
    assert missing.returncode == 1 and "第 1 行 编码：缺少列“编码”" in missing.stderr


def test_dry_run_shows_the_changes_and_imports_nothing(env, tmp_path):
    run(env, "places", "import", _file(tmp_path, "places.csv", PLACES))
    renamed = PLACES.replace("石门村第一网格", "石门村一组")
    preview = run(env, "places", "import", "--dry-run", _file(tmp_path, "p2.csv", renamed))
    assert preview.returncode == 0, preview.stderr
    assert "更新 updated 1" in preview.stdout and "更新 SM-W1: 名称" in preview.stdout
    names = {p["code"]: p["name"] for p in json.loads(run(env, "places", "list", "--json").stdout)}
    assert names["SM-W1"] == "石门村第一网格"


def test_users_import_prints_each_one_time_password_once(env, tmp_path, committed_services):
    run(env, "places", "import", _file(tmp_path, "places.csv", PLACES))
    run(env, "units", "import", _file(tmp_path, "units.csv",
                                      "code,name,kind,place_code\nQS-JDTJ,青山镇人民调解委员会,JDTJ,QS\n"))
    users = "用户名,姓名,角色,单位编码,手机\nqs_tj,陈调解,调解员;承办人,QS-JDTJ,13812345678\n"
    done = run(env, "users", "import", _file(tmp_path, "users.csv", users))
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("qs_tj"))
    password = line.split("\t")[1]
    assert done.stdout.count(password) == 1 and "13812345678" not in done.stdout
    signed_in = auth.login(committed_services.new_uow(), username="qs_tj", password=password,
                           ip=None)
    assert signed_in.user.roles == {"mediator", "dept_handler"}
    again = run(env, "users", "import", _file(tmp_path, "users.csv", users))
    assert again.returncode == 0 and "one-time passwords" not in again.stdout


ROOMS = """编码,名称,单位编码,容纳人数,录音录像,视频设备,无障碍
QS-R1,青山镇调解室,QS-JDTJ,8,是,否,是
QS-R2,青山镇心理疏导室,QS-JDTJ,4,否,否,否
"""


def test_rooms_import_checks_the_units_then_imports_and_a_second_import_updates(env, tmp_path):
    run(env, "places", "import", _file(tmp_path, "places.csv", PLACES))
    run(env, "units", "import", _file(tmp_path, "units.csv",
                                      "编码,名称,类型,所在地编码\nQS-JDTJ,青山镇人民调解委员会,JDTJ,QS\n"))
    bad = run(env, "rooms", "import", _file(tmp_path, "bad.csv",
                                            "编码,名称,单位编码,容纳人数,录音录像\n"
                                            "X1,无名室,NOPE,999,也许\n"))
    assert bad.returncode == 1
    assert "第 2 行 单位编码" in bad.stderr and "NOPE" in bad.stderr
    assert "第 2 行 容纳人数" in bad.stderr and "第 2 行 录音录像" in bad.stderr
    assert json.loads(run(env, "rooms", "list", "--json").stdout) == []

    done = run(env, "rooms", "import", _file(tmp_path, "rooms.csv", ROOMS))
    assert done.returncode == 0, done.stderr
    assert "新增 created 2" in done.stdout
    rooms = {r["code"]: r for r in json.loads(run(env, "rooms", "list", "--json").stdout)}
    assert rooms["QS-R1"]["unit_code"] == "QS-JDTJ" and rooms["QS-R1"]["capacity"] == 8
    assert (rooms["QS-R1"]["recording"], rooms["QS-R1"]["video"], rooms["QS-R1"]["accessible"]) \
        == (True, False, True)
    again = run(env, "rooms", "import", _file(tmp_path, "rooms2.csv",
                                              ROOMS.replace("QS-JDTJ,8,是", "QS-JDTJ,10,是")))
    assert "新增 created 0，更新 updated 1，不变 unchanged 1" in again.stdout
