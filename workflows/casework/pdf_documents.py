"""Case documents as PDF files (ReportLab, the system's CJK TrueType font).

A PDF is never stored: it is rendered on demand from the recorded document (the masked body,
or the encrypted signing copy for those who may see full personal data). The first issue of
each variant records its SHA-256 in the case's audit chain (``document_issued``); every later
rendering must produce the same bytes, else the recorded data changed and the file is refused.
Each download is audited like a reveal: the full copy as ``party_unmasked`` with a purpose,
the masked copy as ``party_viewed``. The drawing happens while no transaction is open (``_issue``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.models import AuditEvent
from workflows.access.policy import Permission, denials_audited, require
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.cases.parties import PURPOSES, case_parties
from workflows.casework.documents import BLANK, full_text
from workflows.core.actors import Actor
from workflows.core.errors import DomainError, ErrorCode, FieldError, InvalidInput, NotFound
from workflows.deadlines.escalation import LIMIT_ZH, MANUAL
from workflows.models import (
    CATEGORY_LABELS,
    PARTY_ROLE_LABELS,
    Case,
    CaseDocument,
    Department,
    User,
)
from workflows.models.scheduling import SupervisionNotice
from workflows.runtime.unit_of_work import UnitOfWork

# fonts-wqy-microhei (``make browser`` installs it); the first one found is used
FONT_PATHS = (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
              Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"))
FONT_NAME = "WenQuanYiMicroHei"
# documents printed once per party plus the committee's copy (人民调解法 Art 29)
AGREEMENT_KINDS = ("mediation_agreement", "labour_agreement")


class DocumentAltered(DomainError):
    """The document rendered now differs from the file first issued (hash in the audit chain)."""

    def __init__(self, document_id: int):
        self.code, self.params = ErrorCode.DOCUMENT_ALTERED, {"document_id": document_id}
        super().__init__(str(FieldError(self.code, self.params)))


class FontMissing(DomainError):
    """No CJK font on the machine: a PDF without one would print empty boxes."""

    def __init__(self) -> None:
        self.code, self.params = ErrorCode.DOCUMENT_FONT_MISSING, {
            "path": str(FONT_PATHS[0])}
        super().__init__(str(FieldError(self.code, self.params)))


@dataclass(frozen=True)
class PdfFile:
    """A rendered document ready to send."""

    data: bytes
    download_name: str
    sha256: str


def font_path() -> Path:
    """The CJK font file, or FontMissing with the path it was looked for at."""
    for path in FONT_PATHS:
        if path.is_file():
            return path
    raise FontMissing()


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path()), subfontIndex=0))


def render_pdf(title: str, body: str, copies: list[str]) -> bytes:
    """The document's text laid out on A4, once per copy (a note on top names who keeps it).

    ``invariant`` fixes the creation date and file id, so the same text gives the same bytes.
    """
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    _register_font()
    base = ParagraphStyle("body", fontName=FONT_NAME, fontSize=11, leading=18, wordWrap="CJK")
    styles = {
        "h1": ParagraphStyle("h1", parent=base, fontSize=16, leading=24, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontSize=18, leading=28, alignment=TA_CENTER,
                             spaceAfter=6),
        "h3": ParagraphStyle("h3", parent=base, fontSize=12, spaceBefore=8),
        "li": ParagraphStyle("li", parent=base, leftIndent=12),
        "copy": ParagraphStyle("copy", parent=base, fontSize=9, textColor="#555555"),
        "p": base,
    }
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title,
                            author="jiefen", creator="jiefen", invariant=1)
    story: list[Any] = []
    for number, copy in enumerate(copies or [""]):
        if number:
            story.append(PageBreak())
        if copy:
            story.append(Paragraph(_escape(copy), styles["copy"]))
        for line in body.splitlines():
            style, text = _line_style(line)
            story.append(Spacer(1, 6) if not text else Paragraph(_escape(text), styles[style]))
    doc.build(story)
    return out.getvalue()


def _line_style(line: str) -> tuple[str, str]:
    """The documents' light Markdown: '#', '##', '**bold**', '- item'."""
    line = line.rstrip()
    if line.startswith("## "):
        return "h2", line[3:]
    if line.startswith("# "):
        return "h1", line[2:]
    if re.fullmatch(r"\*\*.+\*\*", line):
        return "h3", line[2:-2]
    if line.startswith("- "):
        return "li", "· " + line[2:]
    return "p", line.replace("**", "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def copies_of(uow: UnitOfWork, case: Case, doc: CaseDocument) -> list[str]:
    """An agreement prints one copy per party and one for the committee; others print once."""
    if doc.kind not in AGREEMENT_KINDS:
        return [""]
    roles = [PARTY_ROLE_LABELS.get(link.role, link.role)
             for link, _party in case_parties(uow.session, case)]
    total = len(roles) + 1
    keeper = "调解组织" if doc.kind == "labour_agreement" else "人民调解委员会"
    return [f"第{n}份（共{total}份）　{role}执" for n, role in enumerate(roles, 1)] + [
        f"第{total}份（共{total}份）　{keeper}存档"]


def issued_hash(uow: UnitOfWork, case: Case, object_type: str, object_id: int,
                variant: str) -> str | None:
    """The SHA-256 recorded when this variant was first issued (the case chain, by index)."""
    rows = uow.session.scalars(select(AuditEvent.payload).where(
        AuditEvent.chain_key == f"case:{case.id}", AuditEvent.object_type == object_type,
        AuditEvent.object_id == str(object_id), AuditEvent.action == AuditAction.CASE_UPDATED))
    for payload in rows:
        data = json.loads(payload or "{}")
        if data.get("change") == "document_issued" and data.get("variant") == variant:
            return str(data.get("sha256"))
    return None


def notice_text(uow: UnitOfWork, case: Case, notice: SupervisionNotice, *,
                first_wording: bool = False) -> str:
    """The 督办单 as issued (no personal data; the department's reply is not part of it).
    ``first_wording``: its 超出时限 line as notices were worded before a notice by hand recorded
    how late the unit was (a notice issued then is served in that wording)."""
    zone = ZoneInfo(uow.services.settings.timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else BLANK

    unit = uow.session.get(Department, notice.department_id) if notice.department_id else None
    limit = LIMIT_ZH.get(notice.source.split(":")[-1], "办理时限")
    issuer = uow.session.get(User, int(notice.issued_by)) \
        if (notice.issued_by or "").isdigit() else None
    overdue = (f"{limit}，应于{local(notice.limit_due_at)}前完成" if first_wording
               else overdue_text(notice, limit, local))
    return "\n".join([
        "# 矛盾纠纷多元化解中心", "## 督办单", "",
        f"督办编号：{case.case_no}-DB{notice.id:04d}　　案件编号：{case.case_no}", "",
        f"**被督办单位**：{unit.name if unit else BLANK}",
        f"**纠纷类别**：{CATEGORY_LABELS.get(case.category or '', BLANK)}",
        f"**事项摘要**：{case.summary or BLANK}",
        f"**督办事由**：{notice.reason or BLANK}",
        f"**超出时限**：{overdue}",
        f"**答复要求**：请于{local(notice.reply_due_at)}前书面报送情况说明及整改措施。", "",
        f"签发：{issuer.display_name if issuer else '时限预警自动签发'}",
        "矛盾纠纷多元化解中心（印章）", f"签发时间：{local(notice.issued_at)}"])


def overdue_text(notice: SupervisionNotice, limit: str,
                 local: Callable[[datetime | None], str]) -> str:
    """The 超出时限 line: the ladder's limit and due time (the ladder issues on a breach); for a
    notice by hand, how long the limit recorded at issue was past then, or that none was."""
    if notice.source == MANUAL and notice.limit_due_at is None:
        return "未超出时限（签发时各项时限均未届满）"
    if notice.limit_due_at is None:
        return f"已超出{limit}"
    if notice.source == MANUAL:
        late = span_words(notice.issued_at - notice.limit_due_at)
        return f"签发时已超出时限{late}（时限至{local(notice.limit_due_at)}）"
    return f"{limit}，应于{local(notice.limit_due_at)}前完成"


def span_words(span: timedelta) -> str:
    """A length of time in days and hours as a document writes it: 3天5小时, 2天, 不足1小时."""
    days, hours = divmod(int(span.total_seconds() // 3600), 24)
    if days <= 0 and hours <= 0:
        return "不足1小时"
    return (f"{days}天" if days else "") + (f"{hours}小时" if hours else "")


def download_notice_pdf(uow: UnitOfWork, actor: Actor, case_no: str,
                        notice_id: int) -> PdfFile:
    """A 督办单 (level 1 notice) of a case as PDF, for those who may see the case; the first
    issue records its hash, later ones must match; each download is audited."""
    def load(uow: UnitOfWork) -> _Issue:
        case = load_case(uow, actor, case_no)
        notice = uow.session.get(SupervisionNotice, notice_id)
        if notice is None or notice.case_id != case.id or notice.level != 1:
            raise NotFound(ErrorCode.NOTICE_NOT_FOUND, notice_id=notice_id)
        earlier = (_Drawing("督办单", notice_text(uow, case, notice, first_wording=True), ("",)),)
        return _Issue(case, "supervision_notice", notice.id, "supervision_notice", "masked",
                      _Drawing("督办单", notice_text(uow, case, notice), ("",)),
                      AuditAction.PARTY_VIEWED, {"kind": "supervision_notice", "variant": "masked"},
                      f"{case.case_no}-supervision_notice-{notice.id}.pdf", earlier)

    with denials_audited(uow.services, actor, object_type="supervision_notice",
                         object_id=notice_id):
        return _issue(uow, actor, load)


@dataclass(frozen=True)
class _Drawing:
    """All a PDF is drawn from: the same drawing gives the same bytes."""

    title: str
    body: str
    copies: tuple[str, ...]

    def draw(self) -> bytes:
        return render_pdf(self.title, self.body, list(self.copies))


@dataclass(frozen=True)
class _Issue:
    """A file as loaded under the policy: what it is, what it is drawn from, how it is audited."""

    case: Case
    object_type: str
    object_id: int
    kind: str
    variant: str
    drawing: _Drawing
    action: AuditAction
    details: dict[str, Any]      # the download event's own fields
    download_name: str
    earlier: tuple[_Drawing, ...] = ()   # its drawing in the wordings of earlier releases


def _issue(uow: UnitOfWork, actor: Actor, load: Callable[[UnitOfWork], _Issue]) -> PdfFile:
    """Load (the permission checks included) in a read transaction, draw with no transaction
    open, then write in a short unit of work: load and check again, draw again only if the
    drawing changed meanwhile (rare), check the hash against the first issue and commit the
    audit events before the bytes are returned (fail closed).

    Drawing is slow (ReportLab, an embedded CJK font); inside the unit of work it held SQLite's
    write lock all along, and every other writer, every audited page view too, queued behind it."""
    with uow.reading():
        first = load(uow)
        recorded = issued_hash(uow, first.case, first.object_type, first.object_id,
                               first.variant)
    drawing, data = _as_first_issued(first, recorded)
    with uow:
        issue = load(uow)
        if drawing not in (issue.drawing, *issue.earlier):
            data = issue.drawing.draw()
        digest = _check_issue(uow, actor, issue.case, issue.object_type, issue.object_id,
                              issue.variant, issue.kind, data)
        uow.audit.record(issue.action, actor, case=issue.case, object_type=issue.object_type,
                         object_id=issue.object_id, **issue.details, sha256=digest,
                         ip=actor.ip, session_hash=actor.session_hash)
        uow.commit()
    return PdfFile(data, issue.download_name, digest)


def _as_first_issued(issue: _Issue, recorded: str | None) -> tuple[_Drawing, bytes]:
    """The drawing and bytes to serve: today's wording, unless the file was first issued in an
    earlier release's wording (a document once issued does not change; the hash check below
    still refuses one that matches no wording)."""
    data = issue.drawing.draw()
    if recorded is None or hashlib.sha256(data).hexdigest() == recorded:
        return issue.drawing, data
    for older in issue.earlier:
        if older != issue.drawing and hashlib.sha256(old := older.draw()).hexdigest() == recorded:
            return older, old
    return issue.drawing, data


def _check_issue(uow: UnitOfWork, actor: Actor, case: Case, object_type: str, object_id: int,
                 variant: str, kind: str, data: bytes) -> str:
    """Record the file's hash at its first issue; refuse a later rendering that differs."""
    digest = hashlib.sha256(data).hexdigest()
    recorded = issued_hash(uow, case, object_type, object_id, variant)
    if recorded is None:
        uow.audit.record(AuditAction.CASE_UPDATED, actor, case=case, object_type=object_type,
                         object_id=object_id, change="document_issued", kind=kind,
                         variant=variant, sha256=digest)
    elif recorded != digest:
        raise DocumentAltered(object_id)
    return digest


def download_pdf(uow: UnitOfWork, actor: Actor, case_no: str, document_id: int, *,
                 full: bool, purpose: str = "", reason: str = "") -> PdfFile:
    """The PDF of one case document for someone who may see the case.

    ``full`` (the signing copy with names in clear) needs UNMASK_PARTY on the case and a
    purpose; anyone else who may see the case gets the masked copy. The audit events are
    committed before the bytes are returned (fail closed).
    """
    def load(uow: UnitOfWork) -> _Issue:
        case = load_case(uow, actor, case_no)
        if full:   # the right first, then what the request names and says
            require(actor, Permission.UNMASK_PARTY, case, session=uow.session)
        doc = uow.session.get(CaseDocument, document_id)
        if doc is None or doc.case_id != case.id:
            raise NotFound(ErrorCode.DOCUMENT_NOT_FOUND, document_id=document_id)
        if full and purpose not in PURPOSES:
            raise InvalidInput({"purpose": FieldError(ErrorCode.CHOOSE_PURPOSE)})
        text = full_text(uow.services, doc) if full else None
        drawing = _Drawing(doc.title, text if text is not None else doc.body,
                           tuple(copies_of(uow, case, doc)))
        name = f"{case.case_no}-{doc.kind}-{doc.id}"
        if text is None:
            return _Issue(case, "case_document", doc.id, doc.kind, "masked", drawing,
                          AuditAction.PARTY_VIEWED, {"kind": doc.kind, "variant": "masked"},
                          f"{name}-masked.pdf")
        return _Issue(case, "case_document", doc.id, doc.kind, "full", drawing,
                      AuditAction.PARTY_UNMASKED,
                      {"purpose": purpose, "reason": reason[:200], "kind": doc.kind,
                       "decision": "allow"}, f"{name}.pdf")

    with denials_audited(uow.services, actor, object_type="case_document",
                         object_id=document_id):
        return _issue(uow, actor, load)
