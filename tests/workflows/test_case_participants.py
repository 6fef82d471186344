"""Whoever completed a step of a case keeps read access to it, masked as their role requires."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.bpmn.test_services_mediation import c01, local, mediate_to_agreement  # noqa: F401
from workflows.casework.views import case_page, may_view
from workflows.core.errors import NotPermitted
from workflows.models import Case, CaseParticipant


def test_a_mediator_who_wrote_the_agreement_still_reads_the_case_after_handing_it_on(
        services, c01):  # noqa: F811
    walk = c01
    walk.do("sign_off", "JDTJ", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已电话联系双方")
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")
    walk.do("co_handle", "WY", co_result="物业工程师查明立管完好", co_result_status="done")
    walk.do("lead_consolidate", joint_result="物业已查明原因", joint_outcome="partly_resolved")
    mediate_to_agreement(walk, local(2025, 3, 20, 15, 0), jc=False)
    wrote_it = walk.user("mediator", "JDTJ")
    uow = services.new_uow()
    with uow:
        # the case is handed to another mediator: the assignment no longer names the writer
        other = walk.user("mediator", "SQTJ")
        uow.session.execute(update(Case).where(Case.case_no == walk.case_no)
                            .values(mediator_id=int(other.id)))
        uow.commit()
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == walk.case_no))
        who = set(uow.session.scalars(select(CaseParticipant.user_id)
                                      .where(CaseParticipant.case_id == case_id)))
    assert int(wrote_it.id) in who
    assert may_view(services.new_uow(), wrote_it, walk.case_no)
    page = case_page(services.new_uow(), wrote_it, walk.case_no)
    assert any(d["title"] for d in page.documents)  # the agreement they wrote
    names = {p["name"] for p in page.parties}
    assert names and not names & {"刘淑芬", "陈立伟"}  # still masked


def test_a_colleague_who_did_nothing_on_the_case_does_not_read_it(services, c01):  # noqa: F811
    bystander = c01.user("mediator", "SQTJ")
    assert not may_view(services.new_uow(), bystander, c01.case_no)
    with pytest.raises(NotPermitted):
        case_page(services.new_uow(), bystander, c01.case_no)
