"""A supervisor's 催办 and 督办单 by hand, and what closing a case does to open notices and orders."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.models import AuditEvent, OutboxMessage
from tests.bpmn.test_services_general import close_with_rating, registered, walk  # noqa: F401
from workflows.casework import pdf_documents
from workflows.casework.projection import close_open_work
from workflows.core.errors import ErrorCode, InvalidInput, NotPermitted
from workflows.deadlines import case_panel
from workflows.deadlines.escalation import reply_to_notice
from workflows.models import Case, WorkOrder
from workflows.models.scheduling import SupervisionNotice


def _notices(services, case_no: str) -> list[SupervisionNotice]:
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        rows = uow.session.scalars(select(SupervisionNotice).where(
            SupervisionNotice.case_id == case.id).order_by(SupervisionNotice.id)).all()
        uow.session.expunge_all()
        return list(rows)


def _issue(services, walk, level: str, reason: str = "群众多次来电催问进度", **extra) -> bool:  # noqa: F811
    return case_panel.issue_notice(services.new_uow(), walk.user("supervisor", "ZZ"),
                                   case_no=walk.case_no, level=level, reason=reason, **extra)


def test_supervisor_issues_a_reminder_and_a_notice_by_hand(services, walk):  # noqa: F811
    registered(walk)
    assert _issue(services, walk, "0") is True
    assert _issue(services, walk, "0") is False          # a double click: sent once
    assert _issue(services, walk, "1", "三天未见进展，请说明") is True
    reminder, notice = _notices(services, walk.case_no)
    assert (reminder.level, reminder.source, reminder.reply_due_at) == (0, "manual", None)
    assert notice.level == 1 and notice.reply_due_at is not None
    assert notice.reason == "三天未见进展，请说明"
    with services.new_uow() as uow:
        sent = uow.session.scalars(select(OutboxMessage.template).where(
            OutboxMessage.template.in_(("manual_reminder", "manual_supervision")))).all()
        assert set(sent) == {"manual_reminder", "manual_supervision"}
        issued = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "supervision_issued")).all()
        assert [json.loads(e.payload)["source"] for e in issued] == ["manual", "manual"]
        assert all(e.actor_id == walk.user("supervisor", "ZZ").id for e in issued)
    assert walk.summary()["risk_level"] != "yellow"  # by hand: no overdue risk rise


def test_reason_is_required_and_free_of_personal_data(services, walk):  # noqa: F811
    registered(walk)
    for reason, code in (("  ", ErrorCode.NOTICE_REASON_REQUIRED),
                         ("请联系13800000088", ErrorCode.PERSONAL_DATA_IN_TEXT)):
        with pytest.raises(InvalidInput) as refused:
            _issue(services, walk, "1", reason)
        assert refused.value.field_errors["reason"].code == code
    with pytest.raises(InvalidInput) as refused:
        _issue(services, walk, "1", unit="NOPE")
    assert refused.value.field_errors["unit"].code == ErrorCode.NOTICE_DEPARTMENT_UNKNOWN
    assert _notices(services, walk.case_no) == []


def test_only_supervisors_issue_notices(services, walk):  # noqa: F811
    registered(walk)
    with pytest.raises(NotPermitted):
        case_panel.issue_notice(services.new_uow(), walk.user("intake_clerk", "ZZ"),
                                case_no=walk.case_no, level="1", reason="催一下")
    assert _notices(services, walk.case_no) == []


def test_closing_the_case_closes_an_unanswered_notice(services, walk):  # noqa: F811
    registered(walk)
    _issue(services, walk, "1", "请说明进展")
    close_with_rating(services, walk)
    assert walk.summary()["status"] == "closed"
    (notice,) = _notices(services, walk.case_no)
    assert notice.closed_at is not None and notice.replied_at is None
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == walk.case_no)).one()
        panel = case_panel.notices(uow.session, walk.user("supervisor", "ZZ"), case)
        assert panel[0]["closed_at"] is not None and not panel[0]["can_reply"]
        assert uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "supervision_closed")).one()
    with pytest.raises(InvalidInput) as refused:
        reply_to_notice(services.new_uow(), walk.user("dept_handler", "CG"), notice.id,
                        note="已整改")
    assert refused.value.field_errors["note"].code == ErrorCode.NOTICE_CLOSED
    with pytest.raises(InvalidInput) as refused:
        _issue(services, walk, "0")
    assert refused.value.field_errors["level"].code == ErrorCode.NOTICE_CASE_CLOSED


def test_closing_closes_the_orders_still_open(services, walk):  # noqa: F811
    registered(walk)
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == walk.case_no)).one()
        open_orders = [o for o in case.work_orders if o.status == "dispatched"]
        assert open_orders  # the lead unit's sign-off is waiting
        close_open_work(uow, case)
        uow.commit()
    with services.new_uow() as uow:
        statuses = {o.status for o in uow.session.scalars(select(WorkOrder))}
        assert statuses == {"closed"}
        event = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "work_order_changed")).all()[-1]
        assert json.loads(event.payload)["why"] == "case_closed"


def _notice_pdf_line(services, walk, notice: SupervisionNotice) -> str:  # noqa: F811
    """The 超出时限 line of the notice's PDF as pypdf reads it (spaces left out)."""
    found = pdf_documents.download_notice_pdf(services.new_uow(), walk.user("supervisor", "ZZ"),
                                              walk.case_no, notice.id)
    text = "".join("".join(page.extract_text().split())
                   for page in PdfReader(io.BytesIO(found.data)).pages)
    return text.split("超出时限：", 1)[1].split("答复要求", 1)[0]


def test_a_notice_by_hand_prints_how_long_the_unit_is_overdue(services, walk, clock):  # noqa: F811
    registered(walk)                      # the lead unit's sign-off: due 24 hours after dispatch
    clock.advance(days=2, hours=5)        # no sign-off since
    _issue(services, walk, "1", "两天未签收，请说明")
    (notice,) = _notices(services, walk.case_no)
    assert notice.limit_due_at is not None
    assert notice.issued_at - notice.limit_due_at == timedelta(days=1, hours=5)

    line = _notice_pdf_line(services, walk, notice)

    assert line.startswith("签发时已超出时限1天5小时（时限至2025-03-04"), line
    assert "＿" not in line


def test_a_notice_by_hand_with_nothing_overdue_says_so(services, walk):  # noqa: F811
    registered(walk)
    _issue(services, walk, "1", "群众多次来电催问进度")
    (notice,) = _notices(services, walk.case_no)
    assert notice.limit_due_at is None

    line = _notice_pdf_line(services, walk, notice)

    assert line == "未超出时限（签发时各项时限均未届满）", line


def test_span_words():
    assert [pdf_documents.span_words(timedelta(**kw)) for kw in (
        {"minutes": 40}, {"hours": 5}, {"days": 2}, {"days": 3, "hours": 1, "minutes": 59})] \
        == ["不足1小时", "5小时", "2天", "3天1小时"]


def test_a_notice_issued_in_the_earlier_wording_is_served_as_it_was_issued(
        services, walk, monkeypatch):  # noqa: F811
    """A 督办单 first downloaded before notices by hand said how late the unit was keeps the
    wording it was issued with (its hash is in the case chain); a new one reads the new way."""
    registered(walk)
    _issue(services, walk, "1", "群众多次来电催问进度")
    (notice,) = _notices(services, walk.case_no)
    earlier = pdf_documents.notice_text
    with monkeypatch.context() as m:   # as the release before this wording issued it
        m.setattr(pdf_documents, "notice_text",
                  lambda uow, case, row, first_wording=False: earlier(uow, case, row,
                                                                      first_wording=True))
        first = pdf_documents.download_notice_pdf(
            services.new_uow(), walk.user("supervisor", "ZZ"), walk.case_no, notice.id)

    again = pdf_documents.download_notice_pdf(services.new_uow(), walk.user("supervisor", "ZZ"),
                                              walk.case_no, notice.id)

    assert again.data == first.data and again.sha256 == first.sha256
    assert "未超出时限" not in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(again.data)).pages)
