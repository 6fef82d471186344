"""Documents generated from case data: the mediation agreement (调解协议书) and task records.

A document has a masked ``body`` (what screens show) and, when it names people in full, an
encrypted ``body_enc``: masked on screen, printed in full only for signing. The signing copy is
bound to its row: to the row id, or for a kind a case has once (the receipt) to the case and the
kind, known before the INSERT, so that document is written in one statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.crypto import DecryptionFailed, field_aad
from engine.instance import TaskView
from workflows.access.policy import user_id
from workflows.audit.log import AuditAction
from workflows.cases.parties import PartyVault, case_parties
from workflows.core.actors import Actor
from workflows.district.places import location_of
from workflows.library.contract import AGREEMENT_FIELDS
from workflows.models import (
    CATEGORY_LABELS,
    PARTY_ROLE_LABELS,
    Case,
    CaseDocument,
    Department,
    Party,
    RoleCode,
    User,
)
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

BLANK = "＿＿＿＿"


@dataclass
class PartyLine:
    """One party as printed in 协议书 (一)."""

    role: str
    name: str
    sex: str
    birth: str
    id_number: str
    address: str
    phone: str


def id_facts(id_number: str | None, on: date) -> tuple[str, str]:
    """Sex and 'birth date (age)' from an 18-digit resident ID (GB 11643: digits 7-14, 17)."""
    if not id_number or len(id_number) != 18 or not id_number[:17].isdigit():
        return BLANK, BLANK
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    sex = "男" if int(id_number[16]) % 2 else "女"
    return sex, f"{born.isoformat()}（{age}岁）"


def party_lines(uow: UnitOfWork, case: Case, on: date,
                held: list[tuple[Party, str]] | None = None
                ) -> tuple[list[PartyLine], list[PartyLine]]:
    """Parties of the case, masked (for the case file) and plaintext (for signing), from one read
    (none when the caller holds the (party, role) pairs, in registration order)."""
    vault = PartyVault.of(uow.services)
    masked: list[PartyLine] = []
    full: list[PartyLine] = []
    pairs = held if held is not None else [(party, link.role)
                                           for link, party in case_parties(uow.session, case)]
    for party, link_role in pairs:
        plain = vault.reveal(party)
        role = PARTY_ROLE_LABELS.get(link_role, link_role)
        sex, birth = id_facts(plain.get("id_number"), on)
        for shown, lines, born in (
                # the case file keeps the age, not the date, still under its label
                (dict(party.masked or {}), masked,
                 "已隐去（" + birth.split("（")[-1] if birth != BLANK else BLANK),
                (plain, full, birth)):
            lines.append(PartyLine(role, shown.get("name") or BLANK, sex, born,
                                   shown.get("id_number") or BLANK,
                                   shown.get("address") or BLANK, shown.get("phone") or BLANK))
    return masked, full


def period_text(spec: str | None) -> str:
    """'statutory_days(15)' -> '自本协议生效之日起15日内'."""
    match = re.fullmatch(r"statutory_(days|months)\((\d+)\)", spec or "")
    if not match:
        return spec or BLANK
    unit = "日" if match.group(1) == "days" else "个月"
    return f"自本协议生效之日起{match.group(2)}{unit}内"


def agreement_text(case: Case, header: dict, lines: list[PartyLine], data: dict, *,
                   title: str = "人民调解协议书") -> str:
    """The 调解协议书 text with the three items of 人民调解法 Art 29."""
    out = [f"# {header['committee']}", f"## {title}", "",
           f"协议编号：{header['number']}　　案件编号：{case.case_no}", ""]
    out.append("**一、当事人的基本情况**")
    for p in lines:
        out.append(f"- {p.role}：{p.name}，性别：{p.sex}，出生日期：{p.birth}，民族：{BLANK}，"
                   f"职业：{BLANK}，证件类型：居民身份证，证件号码：{p.id_number}，住址：{p.address}，"
                   f"联系电话：{p.phone}")
    f = {key: data.get(name) for key, name in AGREEMENT_FIELDS.items()}
    out += ["", "**二、纠纷的主要事实、争议事项以及各方当事人的责任**",
            f"纠纷的主要事实：{f['facts'] or BLANK}",
            f"争议事项：{f['disputed_matters'] or BLANK}",
            f"各方当事人的责任：{f['responsibilities'] or BLANK}", "",
            "**三、当事人达成调解协议的内容，履行的方式、期限**",
            f"协议内容：{f['content'] or BLANK}",
            f"履行方式：{f['manner'] or BLANK}",
            f"履行期限：{period_text(f['period'])}"]
    if data.get("performance_place"):
        out.append(f"履行地点：{data['performance_place']}")
    if title == LABOUR_TITLE:
        out += ["", "用人单位在协议约定期限内不履行支付拖欠劳动报酬、工伤医疗费、经济补偿或者赔偿金"
                "事项的，劳动者可以持本协议书依法向人民法院申请支付令（劳动争议调解仲裁法第十六条）。", ""]
    else:
        out += ["", f"当事人{'拟' if f['judicial_confirmation'] else '未表示'}"
                "共同申请司法确认（人民调解法第三十三条：自协议生效之日起三十日内）。", ""]
    org = "调解组织" if title == LABOUR_TITLE else "人民调解委员会"
    out += [f"本协议自各方当事人签名、盖章或者按指印，调解员签名并加盖{org}印章之日起生效。"
            f"本协议一式{len(lines) + 1}份，当事人各执一份，{org}留存一份。", "",
            *[f"{p.role}（签名/盖章/按指印）：{BLANK}" for p in lines],
            f"人民调解员（签名）：{BLANK}（{header['mediator']}）",
            f"{header['committee']}（印章）", f"调解地点：{header['place']}",
            f"日期：{header['date']}"]
    return "\n".join(out)


def generate_agreement(uow: UnitOfWork, actor: Actor, case: Case, data: dict, *,
                       task_id: str | None = None) -> CaseDocument:
    """Create the agreement document from party records and the mediation task data."""
    today = _local_day(uow)
    header = _agreement_header(uow, case, data, today)
    masked_lines, full_lines = party_lines(uow, case, today)
    masked = agreement_text(case, header, masked_lines, data)
    full = agreement_text(case, header, full_lines, data)
    return _store(uow, actor, case, "mediation_agreement", "人民调解协议书", masked, full, task_id)


LABOUR_TITLE = "劳动争议调解协议书"


def generate_labour_agreement(uow: UnitOfWork, actor: Actor, case: Case, data: dict, *,
                              task_id: str | None = None) -> CaseDocument:
    """The 劳动争议调解协议书 (劳动争议调解仲裁法 Art 14) with the same particulars: the
    worker's claims as the facts and disputed matters, the payment plan as the terms."""
    today = _local_day(uow)
    header = _agreement_header(uow, case, data, today, kind="labour_agreement", writer=actor)
    claims = data.get("mediation_claims") or case.summary
    mapped = {"agreement_facts": case.summary, "agreement_disputed_matters": claims,
              "agreement_terms": data.get("payment_schedule"),
              "performance_manner": "按协议内容向劳动者支付",
              "performance_period": data.get("payment_period")}
    masked_lines, full_lines = party_lines(uow, case, today)
    masked = agreement_text(case, header, masked_lines, mapped, title=LABOUR_TITLE)
    full = agreement_text(case, header, full_lines, mapped, title=LABOUR_TITLE)
    return _store(uow, actor, case, "labour_agreement", LABOUR_TITLE, masked, full, task_id)


def generate_receipt(uow: UnitOfWork, actor: Actor, case: Case,
                     parties: list[tuple[Party, str]] | None = None) -> CaseDocument:
    """The 受理回执 handed to the person who reported: what was received, when, by whom.
    ``parties``: the case's (party, role) pairs when the caller holds them (registration)."""
    today = _local_day(uow)
    clerk, unit = _clerk_and_unit(uow, actor)
    moment = case.registered_at or case.opened_at or uow.clock.now()
    received = moment.astimezone(ZoneInfo(uow.services.settings.timezone))
    header = {"unit": unit or "矛盾纠纷多元化解中心", "clerk": clerk or BLANK,
              "received": received.strftime("%Y-%m-%d %H:%M"), "date": today.isoformat()}

    located = location_of(uow.session, case.place_id, case.place_path)
    place = "".join([*(located["names"] if located else []), case.location_detail or ""])

    lines = party_lines(uow, case, today, parties)

    def text(full: bool) -> str:
        people = lines[1] if full else lines[0]
        out = [f"# {header['unit']}", "## 受理回执", "",
               f"回执编号：{case.case_no}-HZ　　案件编号：{case.case_no}", "",
               "**一、当事人**"]
        out += [f"- {p.role}：{p.name}，联系电话：{p.phone}" for p in people] or [f"- {BLANK}"]
        out += ["", "**二、受理事项**",
                f"纠纷类别：{CATEGORY_LABELS.get(case.category or '', BLANK)}",
                f"事项摘要：{case.summary or BLANK}",
                f"发生地点：{place or BLANK}",
                *([f"涉及金额：{case.amount:,.2f}元"] if case.amount else []),
                f"受理时间：{header['received']}", "",
                "**三、告知事项**",
                "您反映的事项已登记受理。承办单位将在规定时限内与您联系并告知办理进展；"
                "请妥善保管本回执，凭案件编号查询办理情况。", "",
                f"受理人：{header['clerk']}",
                f"{header['unit']}（印章）", f"日期：{header['date']}"]
        return "\n".join(out)

    return _store(uow, actor, case, "receipt", "受理回执", text(False), text(True), None)


def _clerk_and_unit(uow: UnitOfWork, actor: Actor) -> tuple[str | None, str | None]:
    """The registering user's display name and unit name, in one statement."""
    if not str(actor.id or "").isdigit():
        return None, None
    row = uow.session.execute(
        select(User.display_name, Department.name)
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.id == int(str(actor.id)))).first()
    return (row[0], row[1]) if row is not None else (None, None)


def generate_jc_application(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView,
                            data: dict) -> CaseDocument:
    """The 司法确认申请书: the parties jointly ask the court to confirm the agreement
    (人民调解法 Art 33: within 30 days of its effect)."""
    today = _local_day(uow)
    header = _agreement_header(uow, case, data, today)
    options = {f.id: dict(f.options) for f in view.form if f.options}
    court = options.get("jc_court", {}).get(str(data.get("jc_court") or ""), "")
    effective = data.get("agreement_effective_date") or BLANK
    deadline = BLANK
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(effective)):
        deadline = date.fromordinal(date.fromisoformat(effective).toordinal() + 30).isoformat()
    terms = data.get(AGREEMENT_FIELDS["content"]) or BLANK

    lines = party_lines(uow, case, today)

    def text(full: bool) -> str:
        people = lines[1] if full else lines[0]
        out = [f"# {header['committee']}", "## 司法确认申请书", "",
               f"案件编号：{case.case_no}", "", "**申请人**"]
        out += [f"- 申请人（{p.role}）：{p.name}，性别：{p.sex}，出生日期：{p.birth}，"
                f"民族：{BLANK}，职业：{BLANK}，证件号码：{p.id_number}，住址：{p.address}，联系电话：{p.phone}"
                for p in people]
        out += ["", "**请求事项**",
                f"请求人民法院依法确认申请人于{effective}经{header['committee']}主持调解达成的"
                "《人民调解协议书》有效。", "",
                "**事实和理由**",
                f"申请人之间因{CATEGORY_LABELS.get(case.category or '', '纠纷')}"
                f"（{case.summary or BLANK}），经{header['committee']}主持调解，于{effective}"
                f"达成调解协议，协议内容：{terms}。",
                "申请人依照《中华人民共和国人民调解法》第三十三条，自调解协议生效之日起三十日内"
                f"共同申请司法确认（最迟{deadline}）。", "",
                "**申请人承诺**",
                "申请人出于解决纠纷的目的自愿达成调解协议，没有恶意串通、规避法律的行为；"
                "如因虚假陈述造成他人合法权益损害，愿意承担相应的民事责任和其他法律责任。", "",
                f"此致　{court or BLANK + '人民法院'}", "",
                "附：人民调解协议书一份", "",
                *[f"申请人（{p.role}）（签名/盖章/按指印）：{BLANK}" for p in people],
                f"日期：{today.isoformat()}"]
        return "\n".join(out)

    return _store(uow, actor, case, "jc_application", "司法确认申请书", text(False), text(True),
                  view.id)


def _agreement_header(uow: UnitOfWork, case: Case, data: dict, today: date, *,
                      kind: str = "mediation_agreement", writer: Actor | None = None) -> dict:
    """``writer``: who writes the agreement; named as its mediator when the case has none
    assigned (a labour mediation is taken by the lead unit's mediators without assignment)."""
    session = uow.session
    committee = session.get(Department, case.lead_department_id) if case.lead_department_id \
        else None
    mediator_id = case.mediator_id or (user_id(writer) if writer is not None
                                       and writer.has(RoleCode.MEDIATOR) else None)
    mediator = session.get(User, mediator_id) if mediator_id else None
    count = len(session.scalars(select(CaseDocument.id).where(
        CaseDocument.case_id == case.id, CaseDocument.kind == kind)).all())
    return {"committee": committee.name if committee else "人民调解委员会",
            "number": f"{case.case_no}-XY{count + 1:02d}",
            "mediator": mediator.display_name if mediator else BLANK,
            "place": data.get("mediation_place") or (committee.name if committee else BLANK),
            "date": today.isoformat()}


def record_from_task(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView, clean: dict, *,
                     kind: str, title: str) -> CaseDocument:
    """A record document (登记表, 签收/退单记录, 办结报告 …) from a task's submitted form."""
    labels = {f.id: f for f in view.form}
    lines = [f"# {title}", "", f"案件编号：{case.case_no}", f"环节：{view.name}",
             f"日期：{_local_day(uow).isoformat()}", ""]
    for key, value in clean.items():
        field = labels.get(key)
        if field is None:
            continue
        shown = dict(field.options).get(str(value), value) if field.options else value
        if isinstance(shown, bool):
            shown = "是" if shown else "否"
        lines.append(f"- {field.label}：{shown}")
    return _store(uow, actor, case, kind, title, "\n".join(lines), None, view.id)


# kinds a case has at most once: their signing copy is bound to (case, kind), not to the row id
ONCE_PER_CASE = frozenset({"receipt"})


def _store(uow: UnitOfWork, actor: Actor, case: Case, kind: str, title: str, body: str,
           full: str | None, task_id: str | None) -> CaseDocument:
    doc = CaseDocument(case_id=case.id, kind=kind, title=title, body=body, task_id=task_id,
                       created_by=int(str(actor.id)) if str(actor.id or "").isdigit() else None,
                       created_at=uow.clock.now())
    cipher = uow.services.cipher
    if full is not None and kind in ONCE_PER_CASE:   # the binding is known: one INSERT
        doc.body_enc = cipher.encrypt(full, aad=_body_aad(doc.case_id, kind))
    uow.session.add(doc)
    if full is not None and kind not in ONCE_PER_CASE:   # bound to the row id: it must exist
        uow.session.flush()
        doc.body_enc = cipher.encrypt(full, aad=field_aad("case_document", "body_enc", doc.id))
    # else written with the step's other rows; the event takes the id at the commit
    uow.audit.record(AuditAction.CASE_UPDATED, actor, case=case, object_type="case_document",
                     object_id=doc, change="document_generated", kind=kind, title=title)
    return doc


def full_text(services: Services, doc: CaseDocument) -> str | None:
    """The signing copy (plaintext names): callers check UNMASK_PARTY and audit first."""
    if not doc.body_enc:
        return None
    by_row = field_aad("case_document", "body_enc", doc.id)
    if doc.kind not in ONCE_PER_CASE:
        return services.cipher.decrypt(doc.body_enc, aad=by_row)
    try:
        return services.cipher.decrypt(doc.body_enc, aad=_body_aad(doc.case_id, doc.kind))
    except DecryptionFailed:   # written before such kinds were bound to their case: by row id
        return services.cipher.decrypt(doc.body_enc, aad=by_row)


def _body_aad(case_id: int, kind: str) -> str:
    return field_aad("case_document", "body_enc", f"case {case_id} {kind}")


def list_documents(session: Session, case: Case) -> list[dict]:
    """Documents of a case, oldest first (masked bodies only), each with the person and unit
    who wrote it (none for documents the system wrote)."""
    rows = session.execute(
        select(CaseDocument, User.display_name, Department.name, Department.code)
        .outerjoin(User, User.id == CaseDocument.created_by)
        .outerjoin(Department, Department.id == User.department_id)
        .where(CaseDocument.case_id == case.id)
        .order_by(CaseDocument.created_at, CaseDocument.id))
    return [{"id": d.id, "kind": d.kind, "title": d.title, "body": d.body, "task_id": d.task_id,
             "has_signing_copy": d.body_enc is not None, "author": author, "unit": unit,
             "unit_code": unit_code,
             "created_at": d.created_at.isoformat() if d.created_at else None}
            for d, author, unit, unit_code in rows]


def _local_day(uow: UnitOfWork) -> date:
    moment: datetime = uow.clock.now()
    return moment.astimezone(ZoneInfo(uow.services.settings.timezone)).date()
