"""The inbox page pages by cursor: "下一页" carries the last row, the next page says 第 2 页 and
shows the following tasks, "上一页" comes back; filters travel with the links."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.workflows import sched_support as S
from workflows.models import Department, OpenTask

T0 = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
LINK = re.compile(r'rel="(next|prev)" href="([^"]+)"')


def _tasks(services, count: int) -> list[str]:
    S.deploy(services, "simple.bpmn")
    instance_id, _ = S.start(services)
    case_id = S.case(services, category="property")
    names = []
    with services.new_uow() as uow:
        unit = uow.session.scalar(select(Department.id).where(Department.code == "ZJ"))
        for n in range(count):
            uow.session.add(OpenTask(instance_id=instance_id, case_id=case_id,
                                     task_id=f"web{n:033d}", bpmn_id="handle_case",
                                     name=f"办理第{n:02d}号", role="dept_handler",
                                     department_id=unit, due_at=T0 + timedelta(hours=n),
                                     ready_at=T0))
            names.append(f"办理第{n:02d}号")
        uow.commit()
    return names


def _links(text: str) -> dict[str, str]:
    return {rel: html.unescape(href) for rel, href in LINK.findall(text)}


def test_next_and_previous_carry_the_row_and_the_filters(as_role, services):
    names = _tasks(services, 45)
    client = as_role("dept_handler")
    first = client.get("/inbox?category=property").get_data(as_text=True)
    assert names[0] in first and names[19] in first and names[20] not in first
    assert "共 45 条" in first and 'rel="prev" href' not in first
    following = _links(first)["next"]
    assert "after=" in following and "page=2" in following and "category=property" in following
    second = client.get(following).get_data(as_text=True)
    assert "第 2 页" in second and names[20] in second and names[39] in second
    assert names[19] not in second and names[40] not in second
    third = client.get(_links(second)["next"]).get_data(as_text=True)
    assert names[44] in third and 'rel="next" href' not in third
    back = client.get(_links(third)["prev"]).get_data(as_text=True)
    assert "第 2 页" in back and names[20] in back and names[39] in back


def test_the_rows_only_request_keeps_the_cursor_links(as_role, services):
    _tasks(services, 25)
    client = as_role("dept_handler")
    rows = client.get("/inbox", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in rows and "after=" in _links(rows)["next"]
