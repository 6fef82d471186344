"""Keys file, field encryption with AAD, blind indexes, audit MACs, ID and phone normalization."""

import base64
import hashlib
import json
import os
import stat

import pytest

from engine.crypto import (
    DecryptionFailed,
    FieldCipher,
    KeyFileError,
    KeyPurpose,
    Keyring,
    UnknownKey,
    audit_mac,
    blind_index,
    field_aad,
    id_check_digit,
    normalize_id_number,
    normalize_phone,
)
from engine.errors import FieldCode, FieldRefused

# Valid resident IDs (check digits computed by hand with the GB 11643 weights; the first is the
# standard's own example).
VALID_IDS = ["11010519491231002X", "310104199003074510", "440304198512311233"]
ZERO_KEY = base64.b64encode(bytes(32)).decode()
ROW_1 = field_aad("party", "id_number_enc", "7f0c")


@pytest.fixture
def keys_path(tmp_path):
    path = tmp_path / "keys.json"
    Keyring.generate(path)
    return path


@pytest.fixture
def keyring(keys_path):
    return Keyring.load(keys_path)


@pytest.fixture
def cipher(keyring):
    return FieldCipher(keyring)


# keys file ----------------------------------------------------------------------------------------


def test_generated_file_is_private_and_holds_one_key_per_purpose(keys_path):
    assert stat.S_IMODE(os.stat(keys_path).st_mode) == 0o600
    data = json.loads(keys_path.read_text())
    for purpose in ("field_encryption", "blind_index", "audit_hmac"):
        entry = data[purpose]
        assert list(entry["keys"]) == [entry["primary"]]
        assert len(base64.b64decode(entry["keys"][entry["primary"]])) == 32
    purpose_keys = [
        next(iter(data[p]["keys"].values())) for p in ("field_encryption", "blind_index")
    ]
    assert purpose_keys[0] != purpose_keys[1]


def test_generate_never_overwrites(keys_path):
    before = keys_path.read_text()
    with pytest.raises(KeyFileError, match="已存在"):
        Keyring.generate(keys_path)
    assert keys_path.read_text() == before


def test_missing_file_refuses_to_start(tmp_path):
    with pytest.raises(KeyFileError, match="密钥文件不存在"):
        Keyring.load(tmp_path / "nowhere.json")


def test_group_readable_file_is_refused(keys_path):
    keys_path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        Keyring.load(keys_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "JSON"),
        ('{"version": 2}', "version"),
        ('{"version": 1}', "field_encryption"),
        (
            '{"version": 1, "field_encryption": {"primary": "a", "keys": {"a": "c2hvcnQ="}}}',
            "32 字节",
        ),
        (
            json.dumps(
                {"version": 1, "field_encryption": {"primary": "b", "keys": {"a": ZERO_KEY}}}
            ),
            "primary 必须",
        ),
    ],
)
def test_malformed_file_is_refused(tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=message):
        Keyring.load(path)


def test_repr_does_not_show_key_material(keyring, keys_path):
    material = json.loads(keys_path.read_text())["field_encryption"]["keys"]
    assert not any(value in repr(keyring) for value in material.values())


# field encryption ---------------------------------------------------------------------------------


def test_round_trip_with_envelope_format(cipher, keyring):
    envelope = cipher.encrypt("张三", aad=ROW_1)
    version, alg, key_id, nonce, sealed = envelope.split("|")
    assert (version, alg, key_id) == ("v1", "aesgcm", keyring.primary_id("field_encryption"))
    assert len(base64.b64decode(nonce)) == 12
    assert "张三" not in envelope
    assert cipher.decrypt(envelope, aad=ROW_1) == "张三"


def test_same_plaintext_encrypts_differently(cipher):
    assert cipher.encrypt("13812345678", aad=ROW_1) != cipher.encrypt("13812345678", aad=ROW_1)


@pytest.mark.parametrize(
    "other",
    [
        field_aad("party", "id_number_enc", "7f0d"),  # moved to another row
        field_aad("party", "phone_enc", "7f0c"),  # moved to another column
        field_aad("case_note", "id_number_enc", "7f0c"),  # moved to another table
    ],
)
def test_ciphertext_moved_elsewhere_fails(cipher, other):
    envelope = cipher.encrypt(VALID_IDS[0], aad=ROW_1)
    with pytest.raises(DecryptionFailed, match="关联数据不符"):
        cipher.decrypt(envelope, aad=other)


def test_tampered_ciphertext_is_detected(cipher):
    version, alg, key_id, nonce, sealed = cipher.encrypt("上海市徐汇区", aad=ROW_1).split("|")
    raw = bytearray(base64.b64decode(sealed))
    raw[0] ^= 1
    tampered = "|".join((version, alg, key_id, nonce, base64.b64encode(raw).decode()))
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(tampered, aad=ROW_1)


@pytest.mark.parametrize(
    "envelope",
    ["", "plain text", "v2|aesgcm|k|AAAA|AAAA", "v1|sm4gcm|k|AAAA|AAAA", "v1|aesgcm|k|!!|??"],
)
def test_malformed_envelope_is_refused(cipher, envelope):
    with pytest.raises(DecryptionFailed, match="格式无效"):
        cipher.decrypt(envelope, aad=ROW_1)


def test_empty_aad_is_refused(cipher):
    with pytest.raises(ValueError, match="aad"):
        cipher.encrypt("张三", aad="")


def test_rotation_keeps_old_ciphertexts_readable(keys_path, cipher):
    old = cipher.encrypt("欧阳娜娜", aad=ROW_1)
    old_id = FieldCipher.key_id_of(old)
    new_id = Keyring.rotate(keys_path, KeyPurpose.FIELD_ENCRYPTION)

    rotated = FieldCipher(Keyring.load(keys_path))
    assert new_id != old_id
    assert rotated.keyring.key_ids("field_encryption") == sorted([old_id, new_id])
    assert rotated.decrypt(old, aad=ROW_1) == "欧阳娜娜"
    fresh = rotated.encrypt("欧阳娜娜", aad=ROW_1)
    assert FieldCipher.key_id_of(fresh) == new_id
    assert stat.S_IMODE(os.stat(keys_path).st_mode) == 0o600


def test_reencrypt_moves_a_value_to_the_primary_key(keys_path, cipher):
    old = cipher.encrypt("张三", aad=ROW_1)
    new_id = Keyring.rotate(keys_path, "field_encryption")
    rotated = FieldCipher(Keyring.load(keys_path))
    moved = rotated.reencrypt(old, aad=ROW_1)
    assert FieldCipher.key_id_of(moved) == new_id
    assert rotated.decrypt(moved, aad=ROW_1) == "张三"
    assert rotated.reencrypt(moved, aad=ROW_1) == moved


def test_retired_key_gives_a_clear_error(cipher, tmp_path):
    envelope = cipher.encrypt("张三", aad=ROW_1)
    other = FieldCipher(Keyring.generate(tmp_path / "other.json"))
    with pytest.raises(UnknownKey, match="密钥环中没有"):
        other.decrypt(envelope, aad=ROW_1)


def test_blind_index_key_is_not_rotated_online(keys_path):
    with pytest.raises(ValueError, match="盲索引"):
        Keyring.rotate(keys_path, "blind_index")


def test_audit_key_rotation_keeps_old_macs_verifiable(keys_path, keyring):
    old_id = keyring.primary_id("audit_hmac")
    old_mac = audit_mac(keyring, old_id, b"event-1")
    new_id = Keyring.rotate(keys_path, "audit_hmac")
    rotated = Keyring.load(keys_path)
    assert rotated.primary_id("audit_hmac") == new_id
    assert audit_mac(rotated, old_id, b"event-1") == old_mac
    assert audit_mac(rotated, new_id, b"event-1") != old_mac


# blind index and MAC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "13812345678",
        "+86 138 1234 5678",
        "86-138-1234-5678",
        "(+86)138.1234.5678",
        "008613812345678",
        "１３８１２３４５６７８",
    ],
)
def test_blind_index_equal_for_differently_formatted_phones(keyring, variant):
    assert blind_index(keyring, "phone", variant) == blind_index(keyring, "phone", "13812345678")


def test_blind_index_differs_for_different_values_and_kinds(keyring):
    phone = blind_index(keyring, "phone", "13812345678")
    assert phone != blind_index(keyring, "phone", "13812345679")
    assert blind_index(keyring, "id_number", "11010519491231002x") == blind_index(
        keyring, "id_number", "110105 19491231 002X"
    )
    assert blind_index(keyring, "id_number", VALID_IDS[0]) != blind_index(
        keyring, "id_number", VALID_IDS[1]
    )


def test_blind_index_is_keyed_not_a_plain_hash(keyring, tmp_path):
    digest = blind_index(keyring, "id_number", VALID_IDS[1])
    assert len(digest) == 64
    assert digest != hashlib.sha256(VALID_IDS[1].encode()).hexdigest()
    other = Keyring.generate(tmp_path / "other.json")
    assert digest != blind_index(other, "id_number", VALID_IDS[1])


def test_blind_index_rejects_unknown_kind_and_invalid_value(keyring):
    with pytest.raises(ValueError, match="盲索引类型"):
        blind_index(keyring, "name", "张三")
    with pytest.raises(FieldRefused, match="phone_not_mobile"):
        blind_index(keyring, "phone", "12345")


def test_audit_mac_detects_changed_bytes(keyring):
    key_id = keyring.primary_id("audit_hmac")
    assert audit_mac(keyring, key_id, b'{"seq": 1}') != audit_mac(keyring, key_id, b'{"seq": 2}')
    with pytest.raises(UnknownKey):
        audit_mac(keyring, "ah-missing", b"x")


# normalization ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_id_numbers_pass(value):
    assert normalize_id_number(value.lower()) == value
    assert id_check_digit(value[:17]) == value[17]


def test_id_number_spaces_and_lower_case_x_are_normalized():
    assert normalize_id_number(" 110105 1949 1231 002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("110105194912310021", FieldCode.ID_NUMBER_CHECK_DIGIT),  # the X replaced by 1
        ("310104199003074511", FieldCode.ID_NUMBER_CHECK_DIGIT),
        ("440304198512311230", FieldCode.ID_NUMBER_CHECK_DIGIT),
        ("310104199002304510", FieldCode.ID_NUMBER_BIRTH_DATE),  # 30 February
        ("31010419900307451", FieldCode.ID_NUMBER_FORMAT),
        ("310104900307451", FieldCode.ID_NUMBER_FORMAT),  # 15-digit legacy number
        ("3101041990030745X0", FieldCode.ID_NUMBER_FORMAT),
        ("", FieldCode.ID_NUMBER_FORMAT),
    ],
)
def test_invalid_id_numbers_are_rejected_without_echoing_them(value, message):
    with pytest.raises(FieldRefused) as caught:
        normalize_id_number(value)
    assert caught.value.error.code == message
    assert value == "" or value not in str(caught.value)


@pytest.mark.parametrize(
    "value", ["12812345678", "1381234567", "138123456789", "021-12345678", "138abc45678", ""]
)
def test_invalid_phones_are_rejected(value):
    with pytest.raises(FieldRefused, match="phone_"):
        normalize_phone(value)
