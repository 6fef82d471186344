"""Case documents as PDF: rendered on demand, checked against the first issue's hash, audited."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.models import AuditEvent
from tests.bpmn.test_services_mediation import c01, local, mediate_to_agreement  # noqa: F401
from tests.factories import IDS, Walk
from workflows.casework import pdf_documents
from workflows.core.errors import InvalidInput, NotPermitted
from workflows.models import CaseDocument


def to_agreement(walk: Walk) -> None:
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已电话联系双方")
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")
    walk.do("co_handle", "WY", co_result="物业工程师查明立管完好", co_result_status="done")
    walk.do("lead_consolidate", joint_result="物业已查明原因", joint_outcome="partly_resolved")
    mediate_to_agreement(walk, local(2025, 3, 20, 15, 0), jc=True)


def fonts(data: bytes) -> set[str]:
    found = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            found.add(str(font.get_object()["/BaseFont"]))
    return found


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def compact(text: str) -> str:
    return "".join(text.split())


def agreement_id(services) -> int:
    with services.session_factory() as session:
        return session.scalars(select(CaseDocument.id).where(
            CaseDocument.kind == "mediation_agreement")).one()


def events(services, action: str) -> list[dict]:
    with services.session_factory() as session:
        return [json.loads(row.payload) for row in session.scalars(
            select(AuditEvent).where(AuditEvent.action == action,
                                     AuditEvent.object_type == "case_document"))]


@pytest.fixture
def signed(services, c01) -> Walk:  # noqa: F811 - the fixture imported above
    to_agreement(c01)
    return c01


def test_full_agreement_pdf_has_every_article_29_item_once_per_party_and_committee(
        services, signed):
    mediator = signed.user("mediator", "JDTJ")
    found = pdf_documents.download_pdf(services.new_uow(), mediator, signed.case_no,
                                       agreement_id(services), full=True, purpose="document")
    assert found.data.startswith(b"%PDF")
    assert any("WenQuanYiMicroHei" in name for name in fonts(found.data))  # embedded CJK font
    texts = [compact(t) for t in pages(found.data)]
    whole = "".join(texts)
    # three copies: 申请人, 被申请人, the committee's
    assert "第1份（共3份）申请人执" in whole and "第3份（共3份）人民调解委员会存档" in whole
    assert whole.count("人民调解协议书") == 3
    for item in ("当事人的基本情况", "刘淑芬", "陈立伟", "性别：女", "民族", "职业", IDS["陈立伟"],
                 "东湖街道锦苑小区3栋402室", "纠纷的主要事实", "502室卫生间防水层老化渗漏至402室",
                 "争议事项", "维修责任与费用", "4000元", "履行方式：一次性转账",
                 "自本协议生效之日起15日内", "人民调解员（签名）", "（印章）",
                 "申请人（签名/盖章/按指印）", signed.case_no):
        assert item in whole, item
    assert found.download_name == f"{signed.case_no}-mediation_agreement-{agreement_id(services)}.pdf"
    reveal = events(services, "party_unmasked")
    assert [(e["purpose"], e["sha256"]) for e in reveal] == [("document", found.sha256)]
    assert [e["variant"] for e in events(services, "case_updated")
            if e.get("change") == "document_issued"] == ["full"]


def test_masked_copy_for_a_reader_without_unmask_and_purpose_required_for_full(
        services, signed):
    auditor = signed.user("auditor")
    found = pdf_documents.download_pdf(services.new_uow(), auditor, signed.case_no,
                                       agreement_id(services), full=False)
    whole = compact("".join(pages(found.data)))
    assert "刘**" in whole and "刘淑芬" not in whole and IDS["陈立伟"] not in whole
    assert "4000元" in whole and signed.case_no in whole
    assert found.download_name.endswith("-masked.pdf")
    assert len(events(services, "party_viewed")) == 1
    with pytest.raises(NotPermitted):
        pdf_documents.download_pdf(services.new_uow(), auditor, signed.case_no,
                                   agreement_id(services), full=True, purpose="supervision")
    with pytest.raises(InvalidInput):
        pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDTJ"),
                                   signed.case_no, agreement_id(services), full=True)
    assert events(services, "party_unmasked") == []


def test_the_same_record_gives_the_same_file_and_a_tampered_record_is_refused(
        services, signed):
    mediator = signed.user("mediator", "JDTJ")
    doc_id = agreement_id(services)
    first = pdf_documents.download_pdf(services.new_uow(), mediator, signed.case_no, doc_id,
                                       full=False)
    again = pdf_documents.download_pdf(services.new_uow(), mediator, signed.case_no, doc_id,
                                       full=False)
    assert again.data == first.data
    with services.session_factory() as session:
        doc = session.get(CaseDocument, doc_id)
        doc.body = doc.body.replace("4000", "400")
        session.commit()
    with pytest.raises(pdf_documents.DocumentAltered):
        pdf_documents.download_pdf(services.new_uow(), mediator, signed.case_no, doc_id,
                                   full=False)
    assert len(events(services, "party_viewed")) == 2      # the refused one is not a download


def test_every_recorded_document_renders_with_the_case_code(services, signed):
    mediator = signed.user("mediator", "JDTJ")
    with services.session_factory() as session:
        docs = list(session.scalars(select(CaseDocument)))
    titles = {d.kind: d.title for d in docs}
    assert {"registration", "mediation_agreement"} <= set(titles)
    for doc in docs:
        found = pdf_documents.download_pdf(services.new_uow(), mediator, signed.case_no,
                                           doc.id, full=False)
        whole = compact("".join(pages(found.data)))
        assert signed.case_no in whole and compact(doc.title) in whole, doc.kind


def test_outsider_is_refused_and_audited(services, signed):
    outsider = signed.user("mediator", "JDLT")
    with pytest.raises(NotPermitted):
        pdf_documents.download_pdf(services.new_uow(), outsider, signed.case_no,
                                   agreement_id(services), full=False)
    assert events(services, "party_viewed") == []
    with services.session_factory() as session:
        denied = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "access_denied")).all()
    assert denied


def test_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf_documents, "FONT_PATHS", (tmp_path / "none.ttc",))
    with pytest.raises(pdf_documents.FontMissing) as refused:
        pdf_documents.font_path()
    assert refused.value.params == {"path": str(tmp_path / "none.ttc")}


def document_of(services, kind: str) -> CaseDocument:
    with services.session_factory() as session:
        return session.scalars(select(CaseDocument).where(CaseDocument.kind == kind)).one()


def test_receipt_names_the_case_the_amount_and_the_reporting_parties(services, clock):
    from decimal import Decimal

    from tests.bpmn.test_services_mediation import c01_parties

    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(services, clock)
    walk.intake(channel="grid_app", category="labour", summary="12名木工被拖欠工资",
                description="工地12名木工被拖欠工资", parties=c01_parties(),
                amount=Decimal("386000"))
    receipt = document_of(services, "receipt")
    clerk = walk.user("intake_clerk", "ZZ")
    masked = compact("".join(pages(pdf_documents.download_pdf(
        services.new_uow(), clerk, walk.case_no, receipt.id, full=False).data)))
    for item in ("受理回执", f"回执编号：{walk.case_no}-HZ", "12名木工被拖欠工资",
                 "涉及金额：386,000.00元", "受理时间：2025-03-0310:20", "刘**", "（印章）"):
        assert item in masked, item
    assert "刘淑芬" not in masked and "13812345678" not in masked
    full = compact("".join(pages(pdf_documents.download_pdf(
        services.new_uow(), clerk, walk.case_no, receipt.id, full=True,
        purpose="contact").data)))
    assert "刘淑芬" in full and "13812345678" in full


def test_joint_judicial_confirmation_application(services, signed):
    signed.do("prepare_jc", jc_joint_application="true", jc_court="domicile_court",
              jc_filed_on="2025-03-20")
    application = document_of(services, "jc_application")
    found = pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDTJ"),
                                       signed.case_no, application.id, full=True,
                                       purpose="document")
    whole = compact("".join(pages(found.data)))
    for item in ("司法确认申请书", "请求事项", "事实和理由", "申请人承诺", "刘淑芬", "陈立伟",
                 "被申请人修复防水并赔偿申请人维修费4000元", "三十日内", "最迟2025-04-19", "人民法院",
                 "申请人（申请人）（签名/盖章/按指印）", signed.case_no):
        assert item in whole, item


def test_supervision_notice_pdf(services, signed):
    from workflows.cases.lookup import find_case
    from workflows.deadlines.escalation import escalate

    uow = services.new_uow()
    with uow:
        notice = escalate(uow, find_case(uow.session, signed.case_no), level=1,
                          source="order:handling", reason="办理超时未反馈")
        notice_id = notice.id
        uow.commit()
    found = pdf_documents.download_notice_pdf(services.new_uow(), signed.user("supervisor", "ZZ"),
                                              signed.case_no, notice_id)
    whole = compact("".join(pages(found.data)))
    for item in ("督办单", f"{signed.case_no}-DB{notice_id:04d}", "办理超时未反馈",
                 "超出时限：已超出办理时限答复要求",
                 "答复要求", "（印章）", "卫生间渗漏至楼下"):
        assert item in whole, item
    assert pdf_documents.download_notice_pdf(services.new_uow(), signed.user("supervisor", "ZZ"),
                                             signed.case_no, notice_id).sha256 == found.sha256


def test_completion_report_pdf_after_performance(services, signed):
    signed.do("prepare_jc", jc_joint_application="true", jc_court="domicile_court",
              jc_filed_on="2025-03-20")
    signed.do("record_jc_decision", jc_result="confirmed")
    signed.until(local(2025, 4, 8, 9, 0))
    signed.do("performance_check", performed="performed", performance_note="已赔偿")
    signed.do("submit_result", outcome="R1", result_summary="调解协议已履行，经司法确认")
    report = document_of(services, "completion_report")
    found = pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDTJ"),
                                       signed.case_no, report.id, full=False)
    whole = compact("".join(pages(found.data)))
    for item in ("办结报告", signed.case_no, "调解协议已履行，经司法确认"):
        assert item in whole, item


def test_a_page_renders_as_an_image_when_pdftoppm_is_installed(services, signed, tmp_path):
    import shutil
    import subprocess

    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    found = pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDTJ"),
                                       signed.case_no, agreement_id(services), full=False)
    (tmp_path / "a.pdf").write_bytes(found.data)
    subprocess.run([tool, "-png", "-r", "60", "-f", "1", "-l", "1", str(tmp_path / "a.pdf"),
                    str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


def test_labour_agreement_has_the_parties_particulars_and_payment_plan(services, clock):
    from tests.bpmn.test_services_labour import local as labour_local
    from workflows.cases.parties import PartyInput

    clock.set(labour_local(2025, 9, 30, 16, 40))
    walk = Walk.ready(services, clock)
    walk.intake(channel="portal", category="labour", summary="解除劳动合同未支付经济补偿",
                description="本人在星辰电子科技有限公司工作三年",
                parties=[PartyInput(name="郑雅琪", id_number=IDS["郑雅琪"], phone="13600000000"),
                         PartyInput(name="星辰电子科技有限公司", role="respondent")])
    walk.do("register", category="labour", urgency="general", people_count="1", summary="经济补偿")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("request_evidence", evidence_items="劳动合同、工资流水", evidence_status="received")
    walk.do("co_sign_off", "RS", co_sign_off_decision="accept")
    walk.do("co_handle", "RS", co_result="提供法律咨询", co_result_status="done")
    walk.do("lead_consolidate", joint_result="人社已提供咨询", joint_outcome="resolved")
    mediator = walk.user("mediator", "JDLT")
    walk.do("register_labour_mediation", actor=mediator, mediation_application_date="2025-09-30",
            trade_union_present="false", mediation_claims="经济补偿及离职证明")
    walk.do("labour_mediation", actor=mediator, labour_mediation_record="双方同意",
            labour_mediation_result="agreement")
    walk.do("labour_agreement", actor=mediator, payment_schedule="公司10日内支付经济补偿3万元",
            labour_agreement_signed="true", payment_period="statutory_days(7)")
    doc = document_of(services, "labour_agreement")
    found = pdf_documents.download_pdf(services.new_uow(), mediator, walk.case_no, doc.id,
                                       full=True, purpose="document")
    whole = compact("".join(pages(found.data)))
    for item in ("劳动争议调解协议书", "郑雅琪", "星辰电子科技有限公司", "民族", "职业",
                 "经济补偿及离职证明", "公司10日内支付经济补偿3万元", "自本协议生效之日起7日内",
                 "申请支付令", "第3份（共3份）调解组织存档", "调解员（签名）", walk.case_no):
        assert item in whole, item


def test_the_receipt_is_one_insert_and_its_signing_copy_opens_on_its_own_case_only(
        services, clock, db_engine):
    from engine.crypto import DecryptionFailed, field_aad
    from tests.bpmn.test_services_general import noise_request
    from tests.workflows.test_step_statements import counted
    from workflows.casework.documents import full_text

    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(services, clock)
    with counted(db_engine) as statements:
        walk.intake(**vars(noise_request()))
    writes = [s.split("(")[0].strip() for s in statements if "case_document" in s.split("(")[0]
              and not s.lstrip().upper().startswith("SELECT")]
    assert writes == ["INSERT INTO case_document"], writes   # the signing copy in the INSERT
    walk.intake(**vars(noise_request("陈立伟", category="neighbour",
                                     parties=[noise_request("陈立伟").parties[0]])))
    with services.session_factory() as session:
        first, second = session.scalars(select(CaseDocument).where(
            CaseDocument.kind == "receipt").order_by(CaseDocument.id)).all()
        assert "刘淑芬" in (full_text(services, first) or "")
        assert "刘淑芬" not in first.body and "刘淑芬" not in (first.body_enc or "")
        moved = CaseDocument(id=second.id, case_id=second.case_id, kind="receipt",
                             body_enc=first.body_enc)
        with pytest.raises(DecryptionFailed):   # copied onto another case's receipt
            full_text(services, moved)
        # a receipt written by an earlier release, bound to its row id, still opens
        earlier = CaseDocument(id=first.id, case_id=first.case_id, kind="receipt",
                               body_enc=services.cipher.encrypt(
                                   "旧回执", aad=field_aad("case_document", "body_enc", first.id)))
        assert full_text(services, earlier) == "旧回执"


def open_writes_elsewhere(services) -> str | None:
    """What another connection sees of open transactions: on SQLite whether it can take the
    write lock at once (BEGIN IMMEDIATE), on PostgreSQL any other session idle inside a
    transaction. None if nothing is held."""
    import sqlite3
    from contextlib import closing

    engine = services.db
    if engine.dialect.name == "sqlite":
        with closing(sqlite3.connect(engine.url.database, timeout=0,
                                     isolation_level=None)) as other:
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE case_document SET title = title WHERE id = -1")
                other.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                return str(exc)     # "database is locked"
        return None
    with engine.connect() as other:
        held = other.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
            " AND state IN ('idle in transaction', 'idle in transaction (aborted)')").scalar()
    return f"{held} transaction(s) open" if held else None


def test_the_pdf_is_drawn_while_no_write_transaction_is_open(committed_services, clock,
                                                             monkeypatch):
    from tests.bpmn.test_services_mediation import c01_parties

    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(committed_services, clock)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="卫生间长期渗漏至楼下", parties=c01_parties())
    receipt = document_of(committed_services, "receipt")
    clerk = walk.user("intake_clerk", "ZZ")
    seen: list[str | None] = []
    draw = pdf_documents.render_pdf

    def probed(*args):
        seen.append(open_writes_elsewhere(committed_services))
        return draw(*args)

    monkeypatch.setattr(pdf_documents, "render_pdf", probed)
    for full in (False, True):
        found = pdf_documents.download_pdf(committed_services.new_uow(), clerk, walk.case_no,
                                           receipt.id, full=full, purpose="contact")
        assert found.data.startswith(b"%PDF")
    assert seen == [None, None]     # drawn twice, each time with nobody holding a transaction
    assert len(events(committed_services, "party_viewed")) == 1
    assert len(events(committed_services, "party_unmasked")) == 1


def test_a_denied_or_invalid_download_draws_nothing_and_the_denial_is_audited(
        services, signed, monkeypatch):
    drawn: list[str] = []
    monkeypatch.setattr(pdf_documents, "render_pdf", lambda title, *_: drawn.append(title))
    doc_id = agreement_id(services)
    with pytest.raises(NotPermitted):       # out of scope
        pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDLT"),
                                   signed.case_no, doc_id, full=False)
    with pytest.raises(NotPermitted):       # in scope, but may not unmask
        pdf_documents.download_pdf(services.new_uow(), signed.user("auditor"), signed.case_no,
                                   doc_id, full=True, purpose="document")
    with pytest.raises(InvalidInput):       # no purpose for the signing copy
        pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDTJ"),
                                   signed.case_no, doc_id, full=True)
    assert drawn == []
    with services.session_factory() as session:
        denied = session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.action == "access_denied")).all()
    assert denied == [signed.case_no] * 2      # the two refusals, each recorded once
    assert events(services, "party_viewed") == events(services, "party_unmasked") == []


def test_a_document_changed_while_drawing_is_drawn_again_and_issued_as_it_is_now(
        services, signed, monkeypatch):
    doc_id = agreement_id(services)
    draw = pdf_documents.render_pdf
    drawn: list[str] = []

    def change_once(title, body, copies):
        if not drawn:   # someone corrects the agreement while its first drawing is under way
            with services.session_factory() as session:
                doc = session.get(CaseDocument, doc_id)
                doc.body = doc.body.replace("4000", "4500")
                session.commit()
        drawn.append(body)
        return draw(title, body, copies)

    monkeypatch.setattr(pdf_documents, "render_pdf", change_once)
    found = pdf_documents.download_pdf(services.new_uow(), signed.user("mediator", "JDTJ"),
                                       signed.case_no, doc_id, full=False)
    assert len(drawn) == 2 and "4000元" in compact(drawn[0])
    whole = compact("".join(pages(found.data)))
    assert "4500元" in whole and "4000元" not in whole
    issued = [e["sha256"] for e in events(services, "case_updated")
              if e.get("change") == "document_issued"]
    assert issued == [found.sha256]
    assert [e["sha256"] for e in events(services, "party_viewed")] == [found.sha256]
