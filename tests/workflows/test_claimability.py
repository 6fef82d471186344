"""The deploy check: a user task nobody could claim is refused (or, when the owner insists,
deployed with the reason noted on the version), naming the element and the reason in Chinese."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from tests.factories import make_user, seed
from workflows.core.actors import SYSTEM
from workflows.core.errors import DeployRejected
from workflows.processes.deploy import deploy_bundle

CAMPUS = (FIXTURES / "bpmn" / "camunda" / "campus_safety.bpmn").read_bytes()


def _bundle(**changes: str) -> dict[str, bytes]:
    text = CAMPUS.decode()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return {"campus_safety.bpmn": text.encode()}


def _staff(services, *units: str) -> None:
    for unit in units:
        make_user(services, "dept_handler", unit)


def test_the_drawn_process_deploys_when_each_unit_has_a_handler(services):
    seed(services)
    _staff(services, "ZZ", "GA", "JY", "CG")
    [version] = deploy_bundle(services.new_uow(), SYSTEM, _bundle())
    assert version.process_id == "campus_safety" and version.note is None


def test_an_unknown_group_and_a_unit_without_handlers_are_refused(services):
    seed(services)
    _staff(services, "ZZ", "GA", "CG")                       # nobody at 教育
    files = _bundle(**{'camunda:candidateGroups="公安"': 'camunda:candidateGroups="网安大队"'})
    with pytest.raises(DeployRejected) as refused:
        deploy_bundle(services.new_uow(), SYSTEM, files)
    found = {(p.element_id, p.message) for p in refused.value.problems}
    assert ("Task_patrol", "无人能办理：候选组「网安大队」不是角色、单位类型或单位") in found
    assert ("Task_school", "无人能办理：没有在职用户能办理：需要角色「承办人」（属于单位「区教育局」）") \
        in found
    assert all(p.element_id != "Task_vendors" for p in refused.value.problems)


def test_an_unknown_lane_and_an_unknown_user_are_refused(services):
    seed(services)
    _staff(services, "ZZ", "GA", "JY", "CG")
    files = _bundle(**{'name="综治中心"': 'name="指挥部"',
                       'camunda:candidateGroups="CG"': 'camunda:assignee="nobody_here"'})
    with pytest.raises(DeployRejected) as refused:
        deploy_bundle(services.new_uow(), SYSTEM, files)
    found = {(p.element_id, p.message) for p in refused.value.problems}
    assert ("Task_review", "无人能办理：泳道「指挥部」不是角色、单位类型或单位，没有人能办理此任务") in found
    assert ("Task_vendors", "无人能办理：用户「nobody_here」不存在或已停用") in found
    # Task_assess names its unit by candidate group: the lane's name does not matter
    assert all(p.element_id != "Task_assess" for p in refused.value.problems)


def test_the_owner_may_insist_and_the_version_says_so(services):
    seed(services)
    _staff(services, "ZZ", "GA", "CG")
    [version] = deploy_bundle(services.new_uow(), SYSTEM, _bundle(), note="试点",
                              allow_unclaimable=True)
    assert version.note.startswith("试点【警告】无人能办理：Task_school 没有在职用户能办理")
