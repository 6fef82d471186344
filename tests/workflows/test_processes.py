"""Process catalogue, drafts, second-owner approval and retirement."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.process_fixtures import (
    PROCESSES,
    complete_step,
    deploy_version,
    owner,
    process_files,
    start_case,
)
from workflows.access.policy import Denied
from workflows.core.actors import Actor
from workflows.core.errors import DeployRejected, InvalidInput, NotFound
from workflows.processes import catalogue as processes
from workflows.processes import drafts

OWNER = owner()
SECOND = owner("owner2")


def _system_events(services, action: str) -> list[dict]:
    with services.session_factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.chain_key == "system",
                                                        AuditEvent.action == action)
                               .order_by(AuditEvent.id))
        return [json.loads(r.payload) | {"_actor": r.actor_id} for r in rows]


def _entry(services, process_id: str):
    entries = {e.process_id: e for e in processes.catalogue(services.new_uow(), OWNER)}
    return entries[process_id]


def test_catalogue_lists_versions_with_counts_live_version_and_name(services):
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-1")
    start_case(services, "mediation", "JF-2")
    complete_step(services, "JF-2", "register", {"category": "labour"})
    complete_step(services, "JF-2", "mediate", {"outcome": "agreed"})  # finished on v1
    deploy_version(services, "mediation_v2", note="加一步")
    start_case(services, "mediation", "JF-3")

    entry = _entry(services, "mediation")
    assert entry.name == "人民调解"
    v2, v1 = entry.versions
    assert (v2.version, v2.running, v2.finished, v2.live, v2.note) == (2, 1, 0, True, "加一步")
    assert (v1.version, v1.running, v1.finished, v1.live) == (1, 1, 1, False)
    assert v1.sha256 != v2.sha256 and len(v1.sha256) == 64
    assert v1.deployed_by == "owner1" and v1.files == ["mediation.bpmn"]
    assert entry.as_dict()["live_version"] == 2


def test_decision_tables_are_listed_with_the_versions_using_each_content(services):
    files = {"routed.bpmn": (PROCESSES / "routed.bpmn").read_bytes()}
    for dmn in ("routing_v1", "routing_v2"):
        processes.deploy(services.new_uow(), OWNER,
                         {**files, "routing.dmn": (PROCESSES / f"{dmn}.dmn").read_bytes()})
    [decision] = processes.decision_catalogue(services.new_uow(), OWNER)
    assert (decision.decision_id, decision.name, decision.file) == ("route_case", "分流规则",
                                                                     "routing.dmn")
    # by the name the owner knows the process by
    assert [v["used_by"] for v in decision.variants] == [["分流处置 v1"], ["分流处置 v2"]]


def test_drafts_are_saved_reopened_overwritten_and_never_executed(services):
    deploy_version(services, "mediation_v1")
    saved = drafts.save_draft(services.new_uow(), OWNER, process_files("mediation_v2"),
                                 title="协议书步骤")
    assert saved.process_id == "mediation" and saved.files == ["mediation.bpmn"]
    info, files = drafts.open_draft(services.new_uow(), OWNER, saved.id)
    assert info.title == "协议书步骤" and "record_agreement" in files["mediation.bpmn"]

    drafts.save_draft(services.new_uow(), SECOND, process_files("mediation_v3"),
                         draft_id=saved.id)
    info, files = drafts.open_draft(services.new_uow(), OWNER, saved.id)
    assert info.updated_by == "owner2" and "people_count" in files["mediation.bpmn"]
    assert info.title == "协议书步骤"

    entry = _entry(services, "mediation")
    assert [d.id for d in entry.drafts] == [saved.id]
    assert [v.version for v in entry.versions] == [1]  # a draft is not a version
    start_case(services, "mediation", "JF-D")
    assert complete_step(services, "JF-D", "register", {"category": "labour"}) == ["mediate"]


def test_an_unfinished_draft_may_be_saved_but_bad_names_may_not(services):
    half = {"new.bpmn": b"<bpmn:definitions"}  # not even XML yet: still a draft
    saved = drafts.save_draft(services.new_uow(), OWNER, half)
    assert saved.process_id is None and saved.title == "草稿"
    with pytest.raises(InvalidInput) as bad:
        drafts.save_draft(services.new_uow(), OWNER, {"../etc/passwd.bpmn": b"x"})
    assert "../etc/passwd.bpmn" in bad.value.field_errors
    with pytest.raises(InvalidInput):
        drafts.save_draft(services.new_uow(), OWNER, {"big.bpmn": b"x" * (2 * 1024 * 1024 + 1)})


def test_deploying_a_draft_makes_a_version_and_removes_the_draft(services):
    saved = drafts.save_draft(services.new_uow(), OWNER, process_files("mediation_v1"))
    [version] = processes.deploy(services.new_uow(), OWNER, {}, draft_id=saved.id, note="首版")
    assert version.version == 1 and version.note == "首版"
    with pytest.raises(NotFound):
        drafts.open_draft(services.new_uow(), OWNER, saved.id)
    [event] = _system_events(services, "process_deployed")
    assert event["version"] == 1 and event["_actor"] == OWNER.id


def test_an_invalid_draft_is_refused_at_deploy_and_kept(services):
    bad = process_files("mediation_v1")["mediation.bpmn"].replace(b"P15D", b"P2H")
    saved = drafts.save_draft(services.new_uow(), OWNER, {"mediation.bpmn": bad})
    with pytest.raises(DeployRejected) as rejected:
        processes.deploy(services.new_uow(), OWNER, {}, draft_id=saved.id)
    assert [p.element_id for p in rejected.value.problems] == ["deadline_15d"]
    assert drafts.open_draft(services.new_uow(), OWNER, saved.id)[0].id == saved.id


def test_pending_version_goes_live_only_after_a_second_owner_approves(services, settings):
    deploy_version(services, "mediation_v1")
    services.settings = replace(settings, require_deploy_approval=True)
    [pending] = deploy_version(services, "mediation_v2", actor=OWNER)
    assert pending.status == "pending"
    start_case(services, "mediation", "JF-P")  # new cases still start on v1
    assert complete_step(services, "JF-P", "register", {"category": "labour"}) == ["mediate"]
    assert _entry(services, "mediation").live.version == 1

    with pytest.raises(Denied) as same:
        processes.approve_version(services.new_uow(), OWNER, pending.id)
    assert same.value.rule == "approve_process.second_owner"
    [denial] = _system_events(services, "access_denied")
    assert denial["rule"] == "approve_process.second_owner" and denial["_actor"] == OWNER.id
    approved = processes.approve_version(services.new_uow(), SECOND, pending.id)
    assert approved.status == "active"
    assert _entry(services, "mediation").live.version == 2
    [event] = _system_events(services, "process_approved")
    assert event["_actor"] == SECOND.id and event["version"] == 2
    assert event["deployed_by"] == "owner1"
    with pytest.raises(InvalidInput):
        processes.approve_version(services.new_uow(), SECOND, pending.id)


def test_retiring_the_live_version_sends_new_cases_to_the_previous_one(services):
    deploy_version(services, "mediation_v1")
    [v2] = deploy_version(services, "mediation_v2")
    start_case(services, "mediation", "JF-R2")
    with pytest.raises(InvalidInput):
        processes.retire_version(services.new_uow(), OWNER, v2.id, "")
    processes.retire_version(services.new_uow(), OWNER, v2.id, "协议书模板未定稿")
    entry = _entry(services, "mediation")
    assert entry.live.version == 1
    assert [(v.version, v.status, v.running) for v in entry.versions] == [
        (2, "retired", 1), (1, "active", 0)]
    start_case(services, "mediation", "JF-R1")
    complete_step(services, "JF-R1", "register", {"category": "labour"})
    assert complete_step(services, "JF-R1", "mediate", {"outcome": "agreed"}) == []
    # the case already on the retired version keeps running there
    complete_step(services, "JF-R2", "register", {"category": "labour"})
    assert complete_step(services, "JF-R2", "mediate", {"outcome": "agreed"}) == \
        ["record_agreement"]
    [event] = _system_events(services, "process_retired")
    assert event["reason"] == "协议书模板未定稿" and event["version"] == 2


def test_other_roles_are_denied(services):
    clerk = Actor(type="user", id="5", username="clerk", roles=frozenset({"intake_clerk"}))
    for call in (lambda: processes.catalogue(services.new_uow(), clerk),
                 lambda: drafts.save_draft(services.new_uow(), clerk, {"a.bpmn": b"x"}),
                 lambda: processes.deploy(services.new_uow(), clerk, process_files("mediation_v1"))):
        with pytest.raises(Denied) as denied:
            call()
        assert denied.value.rule == "manage_processes.role"
    assert [e["_actor"] for e in _system_events(services, "access_denied")] == ["5", "5", "5"]


def test_diff_between_two_deployed_versions(services):
    deploy_version(services, "mediation_v1")
    deploy_version(services, "mediation_v2")
    diff = processes.diff_versions(services.new_uow(), OWNER, "mediation", 1, 2)
    assert [c.element_id for c in diff.added] == ["f_agreement", "record_agreement"]
    with pytest.raises(NotFound):
        processes.diff_versions(services.new_uow(), OWNER, "mediation", 1, 9)


def test_validate_locates_problems_and_stores_nothing(services):
    from engine.models import ProcessVersion
    from workflows.processes.workbench import validate_files

    bad = process_files("mediation_v1")["mediation.bpmn"].replace(b"P15D", b"P2H")
    report = validate_files(services, OWNER, {"mediation.bpmn": bad})
    assert not report.ok
    assert [(e["file"], e["element_id"]) for e in report.errors] == [("mediation.bpmn",
                                                                      "deadline_15d")]
    good = validate_files(services, OWNER, process_files("mediation_v2"))
    assert good.ok and good.process_ids == ["mediation"] and good.warnings == []
    with services.session_factory() as session:
        assert session.scalars(select(ProcessVersion)).all() == []
        assert session.scalars(select(AuditEvent)).all() == []


def test_dry_run_of_a_draft_runs_in_memory(services):
    from engine.models import InstanceRow
    from workflows.processes.workbench import dry_run

    result = dry_run(services, OWNER, process_files("mediation_v2"), data={"case_no": "DRY"},
                     actions=[{"complete": "register", "data": {"category": "labour"}},
                              {"advance": "next_timer"}])
    assert result.error is None
    assert [t["element_id"] for t in result.fired_timers] == ["deadline_15d"]
    assert [t["element_id"] for t in result.ready_tasks] == ["refer_arbitration"]
    with services.session_factory() as session:
        assert session.scalars(select(InstanceRow)).all() == []
    with pytest.raises(DeployRejected):
        dry_run(services, OWNER, {"x.bpmn": b"<nope"})


def test_camunda_modeler_diagram_with_form_data_deploys_and_runs(services, clock):
    from tests.process_fixtures import CAMUNDA

    files = {"complaint.bpmn": (CAMUNDA / "complaint_camunda.bpmn").read_bytes()}
    [version] = processes.deploy(services.new_uow(), OWNER, files)
    assert version.process_id == "complaint"
    assert "bpmndi:BPMNDiagram" in version.source_files["complaint.bpmn"]  # drawing kept
    start_case(services, "complaint", "JF-CM")
    assert complete_step(services, "JF-CM", "Task_register",
                         {"amount": 8000, "issue": "fee", "visit_date": "2025-03-04"}) == \
        ["Task_mediate"]
    with services.session_factory() as session:
        from workflows.models import Case, OpenTask

        case = session.scalars(select(Case).where(Case.case_no == "JF-CM")).one()
        [task] = session.scalars(select(OpenTask).where(OpenTask.case_id == case.id))
        assert task.due_at.isoformat() == "2025-03-10T01:00:00+00:00"  # P7D boundary timer
    assert complete_step(services, "JF-CM", "Task_mediate", {"agreed": True}) == []


def test_camunda_decision_reference_is_rewritten_on_import_and_runs(services):
    from tests.process_fixtures import CAMUNDA
    from workflows.processes.workbench import import_files

    raw = {"fee_camunda.bpmn": (CAMUNDA / "fee_camunda.bpmn").read_bytes(),
           "fee_level.dmn": (CAMUNDA / "fee_level.dmn").read_bytes()}
    with pytest.raises(DeployRejected) as before:
        processes.deploy(services.new_uow(), OWNER, raw)
    assert before.value.problems[0].element_id == "Task_assess"
    files, notes = import_files(services, OWNER, raw)
    assert [(n.element_id, n.message.startswith("已改写")) for n in notes] == [
        ("Task_assess", True), ("Task_assess", False)]
    processes.deploy(services.new_uow(), OWNER, files)
    start_case(services, "fee_dispute", "JF-FEE")
    assert complete_step(services, "JF-FEE", "Task_amount", {"amount": 12000}) == ["Task_review"]
    with services.new_uow() as uow:
        from workflows.models import Case

        case = uow.session.scalars(select(Case).where(Case.case_no == "JF-FEE")).one()
        assert uow.load_instance(case.workflow_instance_id).latest_data()["level"] == "high"
