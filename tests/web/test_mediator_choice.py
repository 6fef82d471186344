"""The assign-mediator step (指派调解员) offers mediators by name, grouped by unit: the handler's
own unit, the units handling the case, the mediation committees over its place and the district
centre; a mediator of any other unit is neither offered nor accepted (a field error in Chinese)."""

from __future__ import annotations

import re

from tests.bpmn.test_services_mediation import c01, to_mediation  # noqa: F401 (fixture)
from tests.web.conftest import PASSWORD, login, post
from tests.web.test_pages_in_words import visible_text
from workflows.core.actors import SYSTEM
from workflows.people import admin


def test_the_handler_picks_a_mediator_of_the_unit_by_name(app, services, c01):  # noqa: F811
    walk = c01
    to_mediation(walk)
    walk.do("confirm_consent", consent="both_agree", consent_note="双方同意")
    for username, name, roles, unit in (("jdtj_lead", "宋承办", ["dept_handler"], "JDTJ"),
                                        ("jdtj_med", "钱调解", ["mediator"], "JDTJ"),
                                        ("sqtj_med", "孙社区", ["mediator"], "SQTJ"),
                                        ("zz_med", "赵中心", ["mediator"], "ZZ"),
                                        ("wy_med", "吴物业", ["mediator"], "WY"),
                                        ("fy_med", "孙外单位", ["mediator"], "FY")):
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=roles, department_code=unit, display_name=name)
    handler = app.test_client()
    login(handler, "jdtj_lead")
    step = f"/cases/{walk.case_no}/tasks/{walk.task('assign_mediator')['task_id']}"
    page = handler.get(step).get_data(as_text=True)
    select = page.split('name="mediator_id"')[1].split("</select>")[0]
    assert '<option value="jdtj_med"' in select and "钱调解" in select
    assert "孙外单位" not in select and "系统用户编号" not in visible_text(page)
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups[0] == "街道（乡镇）人民调解委员会", "the handler's own unit first"
    assert set(groups[1:]) == {"社区（村）人民调解委员会", "区综治中心（矛盾纠纷调处中心）",
                               "物业服务企业"}, "committees over the place, the centre, co-units"
    assert all(name in select for name in ("孙社区", "赵中心", "吴物业"))
    assert "JDTJ" not in select and "SQTJ" not in select, "unit names, never codes"

    refused = post(handler, step, {"mediator_id": "fy_med", "mediator_chosen_by": "committee",
                                   "conflict_check": "no_conflict"})
    assert refused.status_code == 422
    assert "孙外单位（区人民法院）不在本案可指派的范围内" in refused.get_data(as_text=True)
    assert walk.ids() == ["assign_mediator"], "nothing written"
    answer = post(handler, step, {"mediator_id": "jdtj_med", "mediator_chosen_by": "committee",
                                  "conflict_check": "no_conflict"})
    assert answer.status_code == 302
    assert walk.ids() == ["register_mediation"]
