"""Display masks (docs/personal-data.md, "Masking")."""

import pytest

from workflows.core.masking import mask_address, mask_fields, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王**"),      # family name + '*' per character: no given-name character shown
        ("欧阳娜娜", "欧阳**"),  # compound surname kept whole
        ("欧阳", "欧*"),          # two characters: a one-character family name
        ("司马光", "司马*"),
        ("买买提·艾力", "买*****"),
        (" 张三 ", "张*"),
        ("李", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0086-13812345678", "138****5678"),
        ("021-12345678", "021****5678"),  # landline: area code and last 4
        ("0571-12345678", "057*****5678"),
        ("12345678", "****5678"),  # landline without area code
        ("110", "***"),
        ("unknown", "*******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("310104199003074510", "3101**********4510"),
        ("11010519491231002x", "1101**********002X"),  # X check digit, upper-cased
        ("110105 19491231 002X", "1101**********002X"),
        ("310104900307451", "3101********451"),  # 15-digit legacy number
        ("E12345678", "E1*****78"),  # passport
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(id_number, masked):
    assert mask_id_number(id_number) == masked


@pytest.mark.parametrize(
    ("id_number", "birth"),
    [("310104199003074510", "19900307"), ("310104900307451", "900307")],
)
def test_masked_id_never_contains_the_birth_date(id_number, birth):
    masked = mask_id_number(id_number)
    assert birth not in masked
    assert masked.count("*") >= len(birth)


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("上海市徐汇区漕溪北路120号", "上海市徐汇区********"),
        ("徐汇区漕溪北路120号", "徐汇区********"),
        ("浦东新区张江镇科苑路88号", "浦东新区*********"),
        ("漕溪北路120号", "漕溪北路****"),  # street without district: keep the street name
        ("幸福小区3栋", "幸福小区**"),  # a house number is never shown
        ("张三家", "张**"),  # no administrative marker: keep little
        ("123号", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_address(address, masked):
    assert mask_address(address) == masked


def test_mask_address_never_shows_more_than_six_characters():
    masked = mask_address("黑龙江省哈尔滨市南岗区西大直街92号")
    assert masked == "黑龙江省" + "*" * 14
    assert len(masked.rstrip("*")) <= 6


def test_mask_fields_builds_the_party_masked_json():
    values = {"name": "张三", "phone": "13812345678", "id_number": "310104199003074510", "x": "y"}
    assert mask_fields(values) == {
        "name": "张*",
        "phone": "138****5678",
        "id_number": "3101**********4510",
    }
