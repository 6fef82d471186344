"""Form plumbing: BPMN form fields and the intake form as field dicts for the _macros library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from engine.forms import FormField
from web.labels import choices
from web.params import whole_number
from workflows.cases.field_limits import MAX_PEOPLE
from workflows.cases.parties import PartyInput
from workflows.intake.register import IntakeRequest
from workflows.models import PartyRole

PARTY_ROWS = 3
PARTY_DEFAULT_ROLES = tuple(str(role) for role in PartyRole)  # one row per role, in order
PARTY_TEXT = ("name", "id_number", "phone", "address")


def field_dict(field: FormField, value: Any = None, error: str | None = None) -> dict:
    """A BPMN form field as the dict the ``form_field`` macro renders."""
    v = field.validation
    return {"id": field.id, "label": field.label or field.id, "type": field.type,
            "required": field.required, "options": list(field.options),
            "value": field.default if value is None else value, "error": error,
            "min": v.get("min"), "max": v.get("max"), "minlength": v.get("minlength"),
            "maxlength": v.get("maxlength"), "pattern": v.get("pattern"),
            "readonly": "readonly" in v}


def task_form_fields(fields: list[FormField], values: Mapping[str, Any] | None = None,
                     errors: Mapping[str, str] | None = None) -> list[dict]:
    """Every field of a task form with the submitted values and errors kept on re-display."""
    values, errors = values or {}, errors or {}
    return [field_dict(f, values.get(f.id), errors.get(f.id)) for f in fields]


# -- intake -------------------------------------------------------------------------------------
def intake_fields(form: Mapping[str, str], errors: Mapping[str, str]) -> list[dict]:
    """The case part of the intake form."""

    def f(id_: str, label: str, type_: str = "string", **extra) -> dict:
        return {"id": id_, "label": label, "type": type_, "value": form.get(id_, extra.pop(
            "default", None)), "error": errors.get(id_), **extra}

    return [
        f("channel", _("来源渠道"), "enum", options=choices("channel"), required=True,
          default="counter"),
        f("channel_ref", _("渠道单号（12345 工单号等）"), maxlength=128),
        f("category", _("纠纷类型"), "enum", options=choices("category"), required=True),
        f("urgency", _("紧急程度"), "enum", options=choices("urgency"), required=True,
          default="general"),
        f("people_count", _("涉及人数"), "long", min=1, max=MAX_PEOPLE, required=True, default=1),
        f("threat", _("有暴力或自伤倾向、聚集风险"), "boolean"),
        f("emergency", _("危及生命安全或正在发生违法犯罪（需转 110/119/120）"), "boolean"),
        f("statutory_channel", _("已进入诉讼、仲裁、行政复议或信访复核程序"), "boolean"),
        f("summary", _("事项摘要（不含姓名、证件号、电话）"), maxlength=200, required=True),
        f("description", _("诉求描述"), "textarea", required=True, maxlength=5000),
    ]


def party_rows(form: Mapping[str, str], errors: Mapping[str, str]) -> list[dict]:
    """Three party rows (applicant, respondent, third party); empty trailing rows are ignored."""
    rows = []
    for index in range(PARTY_ROWS):
        prefix = f"parties-{index}-"

        def f(name: str, label: str, type_: str = "string", pfx=prefix, **extra) -> dict:
            return {"id": pfx + name, "label": label, "type": type_,
                    "value": form.get(pfx + name, extra.pop("default", None)),
                    "error": errors.get(pfx + name), **extra}

        rows.append({"index": index, "fields": [
            f("role", _("身份"), "enum", options=choices("party_role"),
              default=PARTY_DEFAULT_ROLES[index], required=index == 0),
            f("name", _("姓名或单位名称"), maxlength=100, required=index == 0),
            f("id_number", _("身份证号"), maxlength=18),
            f("phone", _("手机号"), maxlength=20),
            f("address", _("地址"), maxlength=200),
            f("contact_preference", _("联系方式偏好"), "enum", options=choices("contact"),
              default="sms"),
        ], "vulnerable": [(code, text, form.get(f"{prefix}vulnerable-{code}") == "true")
                          for code, text in choices("vulnerable")]})
    return rows


def _used_rows(form: Mapping[str, str]) -> int:
    """Rows up to the last one with any text (a blank middle row stays, to be reported)."""
    used = 0
    for index in range(PARTY_ROWS):
        if any((form.get(f"parties-{index}-{k}") or "").strip() for k in PARTY_TEXT):
            used = index + 1
    return used


def _party(form: Mapping[str, str], index: int) -> PartyInput:
    prefix = f"parties-{index}-"
    text = {k: (form.get(prefix + k) or "").strip() or None for k in PARTY_TEXT}
    return PartyInput(name=text["name"] or "", role=form.get(prefix + "role") or "applicant",
                      id_number=text["id_number"], phone=text["phone"], address=text["address"],
                      contact_preference=form.get(prefix + "contact_preference") or "sms",
                      vulnerable=[code for code, _label in choices("vulnerable")
                                  if form.get(f"{prefix}vulnerable-{code}") == "true"])


def _count(text: str) -> int:
    """A typed count; 0 (too small) when it is no number, above the maximum when it has more
    digits than any count (the service refuses both with the field's limit)."""
    number = whole_number(text, None, minimum=0)
    if number is None and text.isascii() and text.isdigit():
        return MAX_PEOPLE + 1
    return number or 0


def intake_request(form: Mapping[str, str]) -> IntakeRequest:
    """An IntakeRequest from the posted intake form (the service validates every field)."""
    people = (form.get("people_count") or "1").strip()
    return IntakeRequest(
        channel=form.get("channel") or "", category=form.get("category") or "",
        description=form.get("description") or "", summary=form.get("summary") or "",
        people_count=_count(people),
        urgency=form.get("urgency") or "general", threat=form.get("threat") == "true",
        emergency=form.get("emergency") == "true",
        statutory_channel=form.get("statutory_channel") == "true",
        channel_ref=(form.get("channel_ref") or "").strip() or None,
        parties=[_party(form, i) for i in range(_used_rows(form))])
