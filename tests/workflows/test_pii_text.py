"""Personal data typed into free text is found (workflows/core/pii_text.py) and refused."""

from __future__ import annotations

import pytest

from workflows.cases.field_limits import request_errors
from workflows.core import pii_text
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.core.pii_text import PersonalDataKind as K
from workflows.intake.register import IntakeRequest

ISSUE = "申请人王五 身份证110101199003070038 电话13800000088"


@pytest.mark.parametrize(("text", "kinds"), [
    (ISSUE, [K.ID_NUMBER, K.MOBILE]),
    ("身份证 110101 19900307 0038", [K.ID_NUMBER]),
    ("证件号11010519491231002x", [K.ID_NUMBER]),
    ("电话 138-0000-0088", [K.MOBILE]),
    ("联系 +86 138 0000 0088", [K.MOBILE]),
    ("0086-13800000088", [K.MOBILE]),
    ("１３８００００００８８（全角）", [K.MOBILE]),
    ("卡号6222 0212 3456 7890 128", [K.BANK_CARD]),
    ("工资卡 6222021234567890128", [K.BANK_CARD]),
    ("4111111111111111", [K.BANK_CARD]),
    ("固话010-62345678", [K.LANDLINE]),
    ("(0571)87654321", [K.LANDLINE]),
    ("0755 2345678", [K.LANDLINE]),
    ("邮箱 wang.wu@example.com.cn", [K.EMAIL]),
    ("电话13800000088，邮箱a@b.cn", [K.MOBILE, K.EMAIL]),
])
def test_personal_data_is_found(text, kinds):
    assert pii_text.find(text) == kinds


@pytest.mark.parametrize("text", [
    "案件 JF-2025-000001 涉及金额386000元，2025-07-04 受理",
    "12345 工单号 12345-20250704-0001",
    "订单号 13912345678901（14 位，不是手机号）",
    "工单号20250704123456", "价格 12345678 元", "1234567890123456",
    "110101199003070039",  # a check digit that does not match: no ID number, and no card
    "电梯停运两周，62 户业主拒交物业费", "拖欠工资38.6万元，涉及14名钢筋工",
    "会议室 2025-03-10 09:00-11:30", "", "@@@", "a@b",
])
def test_ordinary_text_is_not_personal_data(text):
    assert pii_text.find(text) == []


def test_field_errors_name_each_field_and_the_first_kind():
    errors = pii_text.field_errors({"summary": ISSUE, "description": "电梯停运", "n": 3})
    assert errors == {"summary": FieldError(ErrorCode.PERSONAL_DATA_IN_TEXT,
                                            {"kind": "id_number"})}


def test_refuse_raises_for_the_fields_that_hold_personal_data():
    pii_text.refuse(reason="催办", note=None)
    with pytest.raises(InvalidInput) as refused:
        pii_text.refuse(reason="请回电 13800000088", note="已处理")
    assert set(refused.value.field_errors) == {"reason"}


def test_a_long_text_is_scanned_quickly():
    text = ("调解记录，" * 1000) + "a" * 5000 + "@" + "b." * 2000
    assert pii_text.find(text) == []


@pytest.mark.parametrize(("text", "kinds"), [
    ("回电 138  1234  5678", [K.MOBILE]),
    ("回电 138 - 1234 - 5678", [K.MOBILE]),
    ("回电 138- 1234 -5678", [K.MOBILE]),
    ("回电 138--1234--5678", [K.MOBILE]),
    ("回电 138\n1234\t 5678", [K.MOBILE]),
    ("身份证 110101  19900307  0038", [K.ID_NUMBER]),
    ("固话 0571  87654321", [K.LANDLINE]),
])
def test_a_loosely_typed_number_is_found_once_joined(text, kinds):
    assert pii_text.find(text) == []
    assert pii_text.find(pii_text.joined(text)) == kinds


@pytest.mark.parametrize("text", [
    "2025年3月3日", "欠薪 12000 元", "JF-2026-000007", "案件 JF-2026-000007 - JF-2026-000008",
    "2025-03-03 - 2025-03-05 协商", "欠薪 12000 - 13000 元，13 人", "会议室 2025-03-10 09:00 - 11:30",
    "2025 年 3 月 3 日，欠薪 12000 元\n13 人\n1234 元 5678 元",
])
def test_ordinary_text_is_not_personal_data_once_joined(text):
    assert pii_text.find(pii_text.joined(text)) == []


def _intake(**texts: str) -> IntakeRequest:
    return IntakeRequest(channel="hotline_12345", category="noise", parties=[],
                         **{"description": "夜间施工噪声", **texts})


def test_intake_reads_its_free_text_joined():
    errors = request_errors(_intake(summary="回电 138  1234  5678",
                                    description="夜间施工噪声\n回电 138\n1234 - 5678",
                                    received_late_reason="2025年3月3日收到，欠薪 12000 元"))
    assert {name: e.code for name, e in errors.items()} == {
        "summary": ErrorCode.PERSONAL_DATA_IN_TEXT, "description": ErrorCode.PERSONAL_DATA_IN_TEXT}
    assert request_errors(_intake(summary="2025年3月3日起欠薪 12000 元，见 JF-2026-000007")) == {}
