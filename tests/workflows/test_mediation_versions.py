"""The scheduled-sessions version of people's mediation deployed over the one before it.

A case mediating on the old version keeps its old steps (one form per session) and replays;
a new case books its sessions; a case not yet in mediation may be moved safely, a case in the
middle of the old session loop may not (its current step changed).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine.models import InstanceRow, ProcessVersion
from tests.bpmn.test_services_mediation import assign, local, to_mediation
from tests.factories import BPMN_DIR, Walk, deploy_files, seed
from tests.process_fixtures import owner
from workflows.cases.parties import PartyInput
from workflows.models import Case
from workflows.processes import catalogue as processes
from workflows.processes.case_migration import preview_migration
from workflows.replay.case_replay import replay_case

OLD = Path(__file__).resolve().parents[1] / "fixtures" / "previous_release" / "people_mediation.bpmn"


def library(old: bool) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir())
             if p.suffix in (".bpmn", ".dmn")}
    if old:
        files["people_mediation.bpmn"] = OLD.read_bytes()
    return files


def neighbour_case(services, clock, n: int) -> Walk:
    walk = Walk(services, clock)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="楼上卫生间长期渗漏……",
                parties=[PartyInput(name="王建国", phone=f"1370000000{n}"),
                         PartyInput(name="李明", role="respondent", phone=f"1360000000{n}")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    return walk


def version_of(services, case_no: str) -> int:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        row = session.get(InstanceRow, case.workflow_instance_id)
        return session.get(ProcessVersion, row.process_version_id).version


def test_old_cases_keep_their_session_form_new_cases_book_and_only_safe_moves_are_offered(
        services, clock):
    clock.set(local(2025, 3, 3, 10, 20))
    seed(services)
    deploy_files(services, library(old=True))
    mediating = neighbour_case(services, clock, 1)
    to_mediation(mediating)
    assign(mediating)
    assert mediating.ids() == ["mediation_session"]            # the old loop task
    waiting = neighbour_case(services, clock, 2)               # still at sign-off
    looping = neighbour_case(services, clock, 4)
    to_mediation(looping)
    assign(looping)

    # the library has two entry processes (general_dispute, petition_intake): both get version 2
    [v2] = [v for v in processes.deploy(services.new_uow(), owner(), library(old=False),
                                        note="调解按场次预约调解室")
            if v.process_id == "general_dispute"]
    assert v2.version == 2
    new = neighbour_case(services, clock, 3)
    to_mediation(new)
    assign(new)
    assert version_of(services, new.case_no) == 2 and new.ids() == ["schedule_session"]

    mediating.do("mediation_session", session_mode="in_person", session_record="双方协商",
                 session_next="agreement")
    assert mediating.ids() == ["choose_agreement_form"]
    assert version_of(services, mediating.case_no) == 1
    assert replay_case(services, mediating.case_no).ok

    plans = {p.case_no: p for p in preview_migration(services.new_uow(), owner(),
                                                     "general_dispute", 2).cases}
    assert plans[waiting.case_no].safe
    assert not plans[looping.case_no].safe, "its current step is the changed session task"
    new.schedule("online")
    new.attend(applicant_attendance="online", respondent_attendance="phone")
    assert replay_case(services, new.case_no).ok
