"""Case types: a category (and channel) mapped to an entry process; intake starts there; the last
active version of an entry process cannot be retired; ``jiefen process start``."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import func, select, update

from engine.models import InstanceRow, ProcessVersion
from tests.cli_support import jiefen
from tests.factories import deploy_library, make_user, seed
from tests.process_fixtures import owner
from tests.workflows.helpers import deploy_fixture
from workflows.access.policy import Denied
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Case
from workflows.processes import case_types
from workflows.processes.catalogue import retire_version

PHONES = itertools.count(13912340001)


def _intake(services, clerk, category: str = "neighbour", channel: str = "counter",
            **extra) -> str:
    request = IntakeRequest(channel=channel, category=category, description="楼上漏水多次协商未果",
                            summary="漏水", **extra,
                            parties=[PartyInput(name="郑雅琪", role="applicant",
                                                phone=str(next(PHONES)))])
    return submit_intake(services.new_uow(), clerk, request).case_no


def _process_of(services, case_no: str) -> str:
    with services.session_factory() as session:
        case = find_case(session, case_no)
        return session.get(InstanceRow, case.workflow_instance_id).process_id


def _version_id(services, process_id: str) -> int:
    with services.session_factory() as session:
        return session.scalars(select(ProcessVersion.id).where(
            ProcessVersion.process_id == process_id)).one()


@pytest.fixture
def world(services):
    seed(services)
    deploy_library(services)
    deploy_fixture(services, "simple.bpmn")
    return make_user(services, "intake_clerk", "ZZ")


def test_a_category_mapped_to_a_process_starts_there(services, world):
    assert _process_of(services, _intake(services, world)) == "general_dispute"
    case_types.save_case_type(services.new_uow(), owner(), category="neighbour",
                              process_id="simple", note="试点")
    assert _process_of(services, _intake(services, world)) == "simple"
    assert _process_of(services, _intake(services, world, "family")) == "general_dispute"
    rows = case_types.list_case_types(services.new_uow(), owner())
    assert [(r.category, r.channel, r.process_id, r.process_name, r.startable, r.shipped)
            for r in rows] == [("neighbour", "", "simple", "简单流程", True, False),
                               ("petition", "", "petition_intake", "信访事项（登记即按信访程序跟踪）",
                                True, True)], "the shipped petition type is listed, not stored"


def test_a_petition_starts_on_the_petition_path_unless_a_row_says_otherwise(services, world):
    assert _process_of(services, _intake(services, world, "petition")) == "petition_intake"
    case_types.save_case_type(services.new_uow(), owner(), category="petition",
                              process_id="general_dispute", note="由部门办理")
    assert _process_of(services, _intake(services, world, "petition")) == "general_dispute"
    rows = case_types.list_case_types(services.new_uow(), owner())
    assert [(r.category, r.process_id, r.shipped) for r in rows] == \
        [("petition", "general_dispute", False)], "a row overrides the shipped default"


def test_a_channel_row_wins_over_the_category_row(services, world):
    case_types.save_case_type(services.new_uow(), owner(), category="neighbour",
                              channel="hotline_12345", process_id="simple")
    assert _process_of(services, _intake(services, world, channel="hotline_12345")) == "simple"
    assert _process_of(services, _intake(services, world)) == "general_dispute"


def _no_active_version(services, process_id: str) -> None:
    """As if the process had lost its last active version behind the catalogue's back."""
    with services.new_uow() as uow:
        uow.session.execute(update(ProcessVersion).where(ProcessVersion.process_id == process_id)
                            .values(status="retired"))
        uow.commit()


def test_a_case_types_process_without_an_active_version_refuses_the_category(services, world):
    case_types.save_case_type(services.new_uow(), owner(), category="neighbour",
                              process_id="simple")
    _no_active_version(services, "simple")
    with pytest.raises(InvalidInput) as refused:
        _intake(services, world)
    assert refused.value.field_errors["category"].code == ErrorCode.PROCESS_NOT_STARTABLE
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_shipped_default_that_cannot_start_gives_way_to_the_general_process(services, world):
    _no_active_version(services, "petition_intake")
    assert _process_of(services, _intake(services, world, "petition")) == "general_dispute"


def test_an_explicit_process_wins_and_must_be_startable(services, world):
    assert _process_of(services, _intake(services, world, process_id="simple")) == "simple"
    with pytest.raises(InvalidInput) as refused:
        _intake(services, world, process_id="no_such_process")
    assert refused.value.field_errors["process_id"].code == ErrorCode.PROCESS_NOT_STARTABLE


def test_only_startable_processes_and_owners(services, world):
    with pytest.raises(InvalidInput) as refused:
        case_types.save_case_type(services.new_uow(), owner(), category="neighbour",
                                  process_id="nothing_deployed")
    assert refused.value.field_errors["process_id"].code == ErrorCode.PROCESS_NOT_STARTABLE
    with pytest.raises(Denied):
        case_types.save_case_type(services.new_uow(), world, category="neighbour",
                                  process_id="simple")


def test_the_last_active_version_of_an_entry_process_stays(services, world):
    # the default entry process: refused, and intake still works
    with pytest.raises(InvalidInput) as refused:
        retire_version(services.new_uow(), owner(), _version_id(services, "general_dispute"),
                       "测试")
    assert refused.value.field_errors["status"].code == ErrorCode.LAST_ENTRY_VERSION
    assert _intake(services, world)
    # a process a case type points to: refused while the case type exists
    row = case_types.save_case_type(services.new_uow(), owner(), category="neighbour",
                                    process_id="simple")
    with pytest.raises(InvalidInput):
        retire_version(services.new_uow(), owner(), _version_id(services, "simple"), "测试")
    case_types.delete_case_type(services.new_uow(), owner(), row)
    retire_version(services.new_uow(), owner(), _version_id(services, "simple"), "不再使用")
    assert _process_of(services, _intake(services, world)) == "general_dispute"


def test_process_start_command(tmp_path, committed_services, settings):
    seed(committed_services)
    deploy_library(committed_services)
    deploy_fixture(committed_services, "simple.bpmn")
    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": committed_services.settings.database}
    data = tmp_path / "case.json"
    data.write_text(json.dumps({
        "category": "neighbour", "description": "楼上漏水多次协商未果", "summary": "漏水",
        "channel": "hotline_12345",
        "parties": [{"role": "applicant", "name": "郑雅琪", "phone": "13912340001"}]},
        ensure_ascii=False), encoding="utf-8")
    done = jiefen(env, "process", "start", "simple", "--data", str(data))
    assert done.exit_code == 0, done.stderr
    code = done.stdout.strip()
    assert code.startswith("JF-")
    assert _process_of(committed_services, code) == "simple"
    with committed_services.session_factory() as session:
        case = find_case(session, code)
        assert case.channel == "hotline_12345"

    data.write_text(json.dumps({"category": "neighbour", "description": "",
                                "parties": []}), encoding="utf-8")
    bad = jiefen(env, "process", "start", "simple", "--data", str(data))
    assert bad.exit_code == 1
    assert "至少登记一名当事人" in bad.stderr
    data.write_text(json.dumps({
        "category": "neighbour", "description": "楼道堆物", "summary": "堆物",
        "parties": [{"role": "applicant", "name": "郑雅琪", "phone": "13912349999"}]},
        ensure_ascii=False), encoding="utf-8")
    missing = jiefen(env, "process", "start", "no_such", "--data", str(data))
    assert missing.exit_code == 1
    assert "process_id：该流程没有生效的版本" in missing.stderr
