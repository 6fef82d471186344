"""`jiefen experts import|list` as an operator runs them: every bad cell named, nothing half
imported, one-time passwords printed once, the contact only masked in the list."""

from __future__ import annotations

import json

from tests.web.test_cli_district import PLACES, _file, env, run  # noqa: F401

UNITS = "编码,名称,类型,所在地编码\nQS-JDTJ,青山镇人民调解委员会,JDTJ,QS\n"
EXPERTS = """用户名,姓名,专业领域,单位编码,工作单位,联系电话,可约日
qs_lawyer,周文博,律师,QS-JDTJ,临江正衡律师事务所,13900000301,周二、周四
qs_counsellor,林晓雯,心理咨询师,QS-JDTJ,,13900000302,
"""


def test_experts_import_refuses_bad_rows_then_imports_and_updates(env, tmp_path):  # noqa: F811
    run(env, "places", "import", _file(tmp_path, "places.csv", PLACES))
    run(env, "units", "import", _file(tmp_path, "units.csv", UNITS))
    bad = run(env, "experts", "import", _file(tmp_path, "bad.csv",
                                              "用户名,姓名,专业领域,单位编码,联系电话,可约日\n"
                                              "x1,某专家,占卜,NOPE,12,周八\n"))
    assert bad.returncode == 1
    for column in ("专业领域", "单位编码", "联系电话", "可约日"):
        assert f"第 2 行 {column}" in bad.stderr, bad.stderr
    assert json.loads(run(env, "experts", "list", "--json").stdout) == []

    done = run(env, "experts", "import", _file(tmp_path, "experts.csv", EXPERTS))
    assert done.returncode == 0, done.stderr
    assert "新增 created 2" in done.stdout and "qs_lawyer\t" in done.stdout
    rows = {r["username"]: r for r in json.loads(run(env, "experts", "list", "--json").stdout)}
    assert rows["qs_lawyer"]["field"] == "law" and rows["qs_lawyer"]["available_days"] == [2, 4]
    assert rows["qs_lawyer"]["contact_masked"] == "139****0301"
    assert "13900000301" not in run(env, "experts", "list").stdout
    again = run(env, "experts", "import", _file(tmp_path, "experts2.csv",
                                                EXPERTS.replace("周二、周四", "周三")))
    assert "新增 created 0，更新 updated 1，不变 unchanged 1" in again.stdout
    assert "qs_lawyer\t" not in again.stdout, "no new password for an existing expert"
