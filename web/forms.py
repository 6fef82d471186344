"""Form plumbing: BPMN form fields and the intake form as field dicts for the _macros library."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from engine.forms import FormField
from web.labels import choices
from web.params import whole_number
from workflows.cases.field_limits import MAX_PEOPLE
from workflows.cases.parties import PartyInput
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput
from workflows.intake.location import LocationInput
from workflows.intake.register import IntakeRequest
from workflows.models import PartyRole


def field_dict(field: FormField, value: Any = None, error: str | None = None) -> dict:
    """A BPMN form field as the dict the ``form_field`` macro renders."""
    v = field.validation
    # an unticked checkbox is a valid "no" (the engine reads it as false): never marked required
    return {"id": field.id, "label": field.label or field.id, "type": field.type,
            "required": field.required and field.type != "boolean",
            "options": list(field.options),
            "value": field.default if value is None else value, "error": error,
            "min": v.get("min"), "max": v.get("max"), "minlength": v.get("minlength"),
            "maxlength": v.get("maxlength"), "pattern": v.get("pattern"),
            "readonly": "readonly" in v}


def task_form_fields(fields: list[FormField], values: Mapping[str, Any] | None = None,
                     errors: Mapping[str, str] | None = None,
                     days: tuple[date, date] | None = None) -> list[dict]:
    """Every field of a task form with the submitted values and errors kept on re-display;
    ``days``: the range a date may name (the browser's picker offers only those days)."""
    values, errors = values or {}, errors or {}
    rows = [field_dict(f, values.get(f.id), errors.get(f.id)) for f in fields]
    if days is not None:
        for row in rows:
            if row["type"] == "date":
                row["min"] = max(filter(None, (row["min"], days[0].isoformat())))
                row["max"] = min(filter(None, (row["max"], days[1].isoformat())))
    return rows


# -- intake -------------------------------------------------------------------------------------
PARTY_START = 2                       # a new form: an applicant and a respondent row
PARTY_DEFAULT_ROLES = tuple(str(role) for role in PartyRole)  # row n defaults to role n, in order
PARTY_TEXT = ("name", "id_number", "phone", "address", "credit_code", "age", "birth_date")
LOCATION_TEXT = ("place_code", "address", "detail")
_ROW = re.compile(r"^parties-(\d{1,4})-")
_BAD_FORMAT = FieldError(FieldCode.BAD_FORMAT)


def intake_fields(form: Mapping[str, str], errors: Mapping[str, str], *,
                  now_local: str = "") -> list[dict]:
    """The case part of the intake form; a new form starts received now, at the counter."""

    def f(id_: str, label: str, type_: str = "string", **extra) -> dict:
        return {"id": id_, "label": label, "type": type_, "value": form.get(id_, extra.pop(
            "default", None)), "error": errors.get(id_), **extra}

    return [
        f("channel", _("来源渠道"), "enum", options=choices("channel"), required=True,
          default="counter"),
        f("channel_ref", _("渠道单号（12345 工单号等）"), maxlength=128),
        f("received_at", _("来件时间"), "datetime", required=True, default=now_local,
          help=_("渠道收到事项的时间（签收时限从此起算）；不填按现在")),
        f("received_late_reason", _("逾期登记原因"), maxlength=200,
          help=_("来件时间早于 30 天前时必填")),
        f("category", _("纠纷类型"), "enum", options=choices("category"), required=True),
        f("urgency", _("紧急程度"), "enum", options=choices("urgency"), required=True,
          default="general"),
        f("people_count", _("涉及人数"), "long", min=1, max=MAX_PEOPLE, required=True, default=1),
        f("amount", _("争议金额（元）"), "decimal", min=0, help=_("不涉及金额的不填")),
        f("threat", _("有暴力或自伤倾向、聚集风险"), "boolean"),
        f("emergency", _("危及生命安全或正在发生违法犯罪（需转 110/119/120）"), "boolean"),
        f("statutory_channel", _("已进入诉讼、仲裁、行政复议或信访复核程序"), "boolean"),
        f("summary", _("事项摘要（不含姓名、证件号、电话）"), maxlength=200, required=True),
        f("description", _("诉求描述"), "textarea", required=True, maxlength=5000),
    ]


def location_fields(form: Mapping[str, str], errors: Mapping[str, str]) -> list[dict]:
    """Where it happened: a grid or building code (picker), or an address and a detail."""

    pick = form.get("location-pick") or ""

    def f(name: str, label: str, **extra) -> dict:
        key = f"location-{name}"
        value = form.get(key)
        if name == "place_code" and not value and pick != "none":
            value = pick or None            # a confirmed candidate stays chosen
        return {"id": key, "label": label, "type": "string", "value": value,
                "error": errors.get(key), **extra}

    return [
        f("place_code", _("网格或楼栋编码"), maxlength=40,
          help=_("输入编码或名称可搜索；填写编码时不再按地址匹配")),
        f("address", _("地址"), maxlength=120,
          help=_("未填编码时按标准地址匹配；匹配不到的按区级单位派单")),
        f("detail", _("位置补充说明（单元、门牌、具体位置）"), maxlength=60),
    ]


def address_candidates(errors: Mapping[str, FieldError]) -> list[dict]:
    """The standard addresses the service offers for the typed address (for the clerk)."""
    error = errors.get("location-address")
    if error is None or error.code != ErrorCode.ADDRESS_CANDIDATES:
        return []
    return list(error.params.get("candidates") or [])


def row_count(form: Mapping[str, str]) -> int:
    """Rows on the posted form (every row posts its role); a new form has PARTY_START."""
    indexes = [int(m.group(1)) for key in form if (m := _ROW.match(key))]
    return max(indexes) + 1 if indexes else PARTY_START


def party_rows(form: Mapping[str, str], errors: Mapping[str, str],
               count: int | None = None) -> list[dict]:
    """The party rows of the form (as many as were posted, at least one)."""
    rows: list[dict] = []
    for index in range(max(count or row_count(form), 1)):
        # a new row takes the role and kind of the row above (twelve workers in a row)
        above = rows[-1] if index >= PARTY_START else None
        rows.append(party_row(form, errors, index, like=above))
    return rows


def party_row(form: Mapping[str, str], errors: Mapping[str, str], index: int,
              like: dict | None = None) -> dict:
    """One party row; ``index`` names its fields (``parties-<index>-name`` ...)."""
    prefix = f"parties-{index}-"

    def f(name: str, label: str, type_: str = "string", **extra) -> dict:
        return {"id": prefix + name, "label": label, "type": type_,
                "value": form.get(prefix + name, extra.pop("default", None)),
                "error": errors.get(prefix + name), **extra}

    role = like["role"] if like else PARTY_DEFAULT_ROLES[min(index, 1)]
    kind = form.get(prefix + "kind") or (like["kind"] if like else "person")
    return {"index": index, "kind": kind, "role": form.get(prefix + "role") or role, "fields": [
        f("role", _("身份"), "enum", options=choices("party_role"), default=role,
          required=index == 0),
        f("kind", _("类型"), "enum", options=choices("party_kind"), default=kind,
          required=True),
        f("name", _("姓名或单位名称"), maxlength=100, required=index == 0),
        f("id_number", _("身份证号"), maxlength=18, group="person"),
        f("credit_code", _("统一社会信用代码"), maxlength=18, group="organisation"),
        f("phone", _("电话（手机或带区号固话）"), maxlength=32),
        f("address", _("住址或单位地址"), maxlength=200),
        f("age", _("年龄"), "long", min=0, max=150, group="person"),
        f("birth_date", _("出生日期（与年龄填其一）"), "date", group="person"),
        f("contact_preference", _("联系方式偏好"), "enum", options=choices("contact"),
          default="sms"),
    ], "vulnerable": [(code, text, form.get(f"{prefix}vulnerable-{code}") == "true")
                      for code, text in choices("vulnerable")],
        "vulnerable_error": errors.get(prefix + "vulnerable")}


def without_row(form: Mapping[str, str], index: int) -> dict[str, str]:
    """The posted form with party row ``index`` removed and the later rows moved up."""
    out: dict[str, str] = {}
    for key, value in form.items():
        found = _ROW.match(key)
        if found is None:
            out[key] = value
            continue
        row = int(found.group(1))
        if row != index:
            out[f"parties-{row - (row > index)}-{key[found.end():]}"] = value
    return out


def _used_rows(form: Mapping[str, str]) -> int:
    """Rows up to the last one with any text (a blank middle row stays, to be reported)."""
    used = 0
    for index in range(row_count(form)):
        if any((form.get(f"parties-{index}-{k}") or "").strip() for k in PARTY_TEXT):
            used = index + 1
    return used


def _party(form: Mapping[str, str], index: int, errors: dict[str, FieldError]) -> PartyInput:
    prefix = f"parties-{index}-"
    text = {k: (form.get(prefix + k) or "").strip() or None for k in PARTY_TEXT}
    age = whole_number(text["age"], None) if text["age"] else None
    if text["age"] and age is None:
        errors[prefix + "age"] = FieldError(FieldCode.NOT_INTEGER)
    kind = form.get(prefix + "kind") or "person"
    person = kind != "organisation"   # hidden fields of the other kind are not sent on
    return PartyInput(name=text["name"] or "", role=form.get(prefix + "role") or "applicant",
                      id_number=text["id_number"] if person else None,
                      phone=text["phone"], address=text["address"],
                      contact_preference=form.get(prefix + "contact_preference") or "sms",
                      vulnerable=[code for code, _label in choices("vulnerable")
                                  if person and form.get(f"{prefix}vulnerable-{code}") == "true"],
                      kind=kind, credit_code=None if person else text["credit_code"],
                      age=age if person else None,
                      birth_date=text["birth_date"] if person else None)


def _count(text: str) -> int:
    """A typed count; 0 (too small) when it is no number, above the maximum when it has more
    digits than any count (the service refuses both with the field's limit)."""
    number = whole_number(text, None, minimum=0)
    if number is None and text.isascii() and text.isdigit():
        return MAX_PEOPLE + 1
    return number or 0


def _location(form: Mapping[str, str]) -> LocationInput | None:
    text = {k: (form.get(f"location-{k}") or "").strip() for k in LOCATION_TEXT}
    pick = (form.get("location-pick") or "").strip()   # a confirmed candidate, or "none"
    code = text["place_code"] or (pick if pick != "none" else "")
    if not (code or text["address"] or text["detail"]):
        return None
    return LocationInput(place_code=code or None, address=text["address"] or None,
                         detail=text["detail"] or None, unmatched=pick == "none")


def _received_at(form: Mapping[str, str], tz: str, errors: dict[str, FieldError]
                 ) -> datetime | None:
    """The datetime-local value (wall clock of the deployment's zone); empty: received now."""
    raw = (form.get("received_at") or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        errors["received_at"] = _BAD_FORMAT
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


def _amount(form: Mapping[str, str], errors: dict[str, FieldError]) -> Decimal | None:
    raw = re.sub(r"[\s,，元]", "", form.get("amount") or "")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        errors["amount"] = FieldError(ErrorCode.NOT_NUMBER)
        return None


def intake_request(form: Mapping[str, str], *, tz: str = "Asia/Shanghai",
                   check: Callable[[IntakeRequest], None] | None = None) -> IntakeRequest:
    """An IntakeRequest from the posted intake form (the service validates every field; values
    the form cannot even read are field errors here, reported with ``check``'s so the clerk
    sees every mistake at once)."""
    errors: dict[str, FieldError] = {}
    people = (form.get("people_count") or "1").strip()
    request = IntakeRequest(
        channel=form.get("channel") or "", category=form.get("category") or "",
        description=form.get("description") or "", summary=form.get("summary") or "",
        people_count=_count(people),
        urgency=form.get("urgency") or "general", threat=form.get("threat") == "true",
        emergency=form.get("emergency") == "true",
        statutory_channel=form.get("statutory_channel") == "true",
        channel_ref=(form.get("channel_ref") or "").strip() or None,
        received_at=_received_at(form, tz, errors),
        received_late_reason=(form.get("received_late_reason") or "").strip() or None,
        location=_location(form), amount=_amount(form, errors),
        suggestion_shown=form.get("assistant-shown") == "true",
        parties=[_party(form, i, errors) for i in range(_used_rows(form))])
    if not request.summary.strip():  # the form asks for it (marked required); the API may omit it
        errors["summary"] = FieldError(FieldCode.REQUIRED)
    if errors:
        try:
            if check is not None:
                check(request)
        except InvalidInput as exc:
            errors = {**exc.field_errors, **errors}
        raise InvalidInput(errors)
    return request
