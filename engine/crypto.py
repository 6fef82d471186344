"""Field encryption, blind indexes and audit MACs from one keys file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
import unicodedata
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import FieldCode, FieldRefused

FORMAT_VERSION = 1
KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class KeyPurpose(StrEnum):
    """Separate keys per purpose: one leaked key never opens another purpose's data."""

    FIELD_ENCRYPTION = "field_encryption"
    BLIND_INDEX = "blind_index"
    AUDIT_HMAC = "audit_hmac"


_PREFIX = {
    KeyPurpose.FIELD_ENCRYPTION: "fe",
    KeyPurpose.BLIND_INDEX: "bi",
    KeyPurpose.AUDIT_HMAC: "ah",
}


class KeyFileError(RuntimeError):
    """The keys file is missing, unreadable, too permissive or malformed: jiefen must not start."""


class UnknownKey(KeyError):
    """A value names a key id that is not in the keyring (retired too early, or foreign data)."""


class DecryptionFailed(ValueError):
    """A ciphertext does not authenticate: tampered, or moved to another row or column."""


class Keyring:
    """Keys by purpose and key id, each purpose with one primary key for new values."""

    def __init__(self, purposes: dict[KeyPurpose, tuple[str, dict[str, bytes]]]):
        self._purposes = purposes

    def __repr__(self) -> str:  # never print key material
        ids = {p.value: sorted(keys) for p, (_, keys) in self._purposes.items()}
        return f"Keyring({ids})"

    # -- files ----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read a keys file; KeyFileError when it is missing, readable by others or malformed."""
        path = Path(path)
        try:
            mode = path.stat().st_mode
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileError(
                f"密钥文件不存在：{path}（检查 JIEFEN_KEYS_FILE，或运行 `jiefen keys init` 生成）"
            ) from None
        except OSError as exc:
            raise KeyFileError(f"无法读取密钥文件 {path}：{exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"密钥文件 {path} 的权限过宽（{oct(mode & 0o777)}），请执行 chmod 600"
            )
        try:
            data = json.loads(raw)
        except ValueError:
            raise KeyFileError(f"密钥文件 {path} 不是有效的 JSON") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def generate(cls, path: str | os.PathLike[str]) -> Keyring:
        """Write a new keys file (mode 0600) with one fresh key per purpose; never overwrites."""
        keyring = cls({purpose: _fresh(purpose, {}) for purpose in KeyPurpose})
        path = Path(path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"密钥文件已存在，拒绝覆盖：{path}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # the umask may only narrow, but be explicit
            json.dump(keyring.to_dict(), handle, indent=2)
        return keyring

    @classmethod
    def rotate(cls, path: str | os.PathLike[str], purpose: KeyPurpose | str) -> str:
        """Add a new primary key for a purpose, keep the old ones for reading; returns its id."""
        purpose = _purpose(purpose)
        if purpose is KeyPurpose.BLIND_INDEX:
            # lookups compare against stored digests: a new key needs a full re-index first
            raise ValueError("盲索引密钥不支持在线轮换：需要先重建全部盲索引")
        keyring = cls.load(path)
        keyring._purposes[purpose] = _fresh(purpose, keyring._purposes[purpose][1])
        _write_atomically(Path(path), keyring.to_dict())
        return keyring.primary_id(purpose)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "密钥数据") -> Keyring:
        """Build a keyring from the keys-file structure; KeyFileError when malformed."""
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise KeyFileError(f"{source}：缺少或不支持的 version（应为 {FORMAT_VERSION}）")
        purposes = {
            p: _parse_purpose(data.get(p.value), f"{source}：{p.value}") for p in KeyPurpose
        }
        return cls(purposes)

    def to_dict(self) -> dict[str, Any]:
        """The keys-file structure (contains key material: write it only to the keys file)."""
        data: dict[str, Any] = {"version": FORMAT_VERSION}
        for purpose, (primary, keys) in self._purposes.items():
            encoded = {kid: base64.b64encode(key).decode("ascii") for kid, key in keys.items()}
            data[purpose.value] = {"primary": primary, "keys": encoded}
        return data

    # -- lookups --------------------------------------------------------------------------------

    def primary_id(self, purpose: KeyPurpose | str) -> str:
        """Key id used for new values of this purpose."""
        return self._purposes[_purpose(purpose)][0]

    def key_ids(self, purpose: KeyPurpose | str) -> list[str]:
        """All key ids (primary and retired-but-readable) of a purpose."""
        return sorted(self._purposes[_purpose(purpose)][1])

    def key(self, purpose: KeyPurpose | str, key_id: str) -> bytes:
        """Key material by id; UnknownKey if the keyring does not hold it."""
        keys = self._purposes[_purpose(purpose)][1]
        if key_id not in keys:
            raise UnknownKey(f"密钥环中没有 {_purpose(purpose).value} 密钥 {key_id!r}")
        return keys[key_id]


class FieldCipher:
    """AES-256-GCM field encryption: envelope v1|aesgcm|<key_id>|<b64 nonce>|<b64 ct+tag>."""

    VERSION = "v1"
    ALGORITHM = "aesgcm"  # the slot leaves room for SM4-GCM if a 商用密码 assessment requires it

    def __init__(self, keyring: Keyring):
        self.keyring = keyring

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        """Encrypt under the primary key with a fresh 96-bit nonce, bound to aad."""
        if not isinstance(plaintext, str):
            raise TypeError("只能加密字符串")
        key_id = self.keyring.primary_id(KeyPurpose.FIELD_ENCRYPTION)
        key = self.keyring.key(KeyPurpose.FIELD_ENCRYPTION, key_id)
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), self._aad(key_id, aad))
        return "|".join((self.VERSION, self.ALGORITHM, key_id, _b64(nonce), _b64(sealed)))

    def decrypt(self, envelope: str, *, aad: str) -> str:
        """Decrypt an envelope; DecryptionFailed if it was tampered with or aad differs."""
        key_id, nonce, sealed = self._split(envelope)
        key = self.keyring.key(KeyPurpose.FIELD_ENCRYPTION, key_id)
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, self._aad(key_id, aad))
        except InvalidTag:
            raise DecryptionFailed(
                "解密失败：密文已被篡改，或不属于此行/此字段（关联数据不符）"
            ) from None
        return plain.decode("utf-8")

    def reencrypt(self, envelope: str, *, aad: str) -> str:
        """Re-encrypt under the current primary key (rotation job); unchanged if already there."""
        if self.key_id_of(envelope) == self.keyring.primary_id(KeyPurpose.FIELD_ENCRYPTION):
            return envelope
        return self.encrypt(self.decrypt(envelope, aad=aad), aad=aad)

    @classmethod
    def key_id_of(cls, envelope: str) -> str:
        """The key id an envelope was encrypted with (to find rows still on an old key)."""
        return cls._split(envelope)[0]

    @classmethod
    def _split(cls, envelope: str) -> tuple[str, bytes, bytes]:
        parts = envelope.split("|") if isinstance(envelope, str) else []
        if len(parts) != 5 or parts[0] != cls.VERSION or parts[1] != cls.ALGORITHM:
            raise DecryptionFailed("密文格式无效（应为 v1|aesgcm|key_id|nonce|ciphertext）")
        try:
            nonce, sealed = _unb64(parts[3]), _unb64(parts[4])
        except (binascii.Error, ValueError):
            raise DecryptionFailed("密文格式无效：base64 编码错误") from None
        if len(nonce) != 12 or len(sealed) < 16:
            raise DecryptionFailed("密文格式无效：随机数或认证标签长度错误")
        return parts[2], nonce, sealed

    @classmethod
    def _aad(cls, key_id: str, aad: str) -> bytes:
        if not isinstance(aad, str) or not aad:
            raise ValueError("关联数据 aad 不能为空（使用 field_aad(table, column, row_id)）")
        # the header is authenticated too, so version, algorithm and key id cannot be swapped
        return f"{cls.VERSION}|{cls.ALGORITHM}|{key_id}|{aad}".encode()


def field_aad(table: str, column: str, row_id: object) -> str:
    """Associated data binding a ciphertext to one table, column and row."""
    return f"{table}.{column}:{row_id}"


# -- blind indexes and MACs ---------------------------------------------------------------------


def blind_index(keyring: Keyring, kind: str, value: str) -> str:
    """Hex HMAC-SHA256 of the normalized value under the blind-index key ('phone', 'id_number')."""
    normalizers = {"phone": normalize_phone, "id_number": normalize_id_number}
    if kind not in normalizers:
        raise ValueError(f"不支持的盲索引类型：{kind!r}")
    key = keyring.key(KeyPurpose.BLIND_INDEX, keyring.primary_id(KeyPurpose.BLIND_INDEX))
    message = f"{kind}:{normalizers[kind](value)}".encode()  # kind separates the domains
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def audit_mac(keyring: Keyring, key_id: str, data: bytes) -> str:
    """Hex HMAC-SHA256 of audit bytes under the named audit key (any id in the keyring)."""
    return hmac.new(keyring.key(KeyPurpose.AUDIT_HMAC, key_id), data, hashlib.sha256).hexdigest()


_PHONE_SEPARATORS = re.compile(r"[\s\-().+]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ID_18 = re.compile(r"\d{17}[\dX]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def normalize_phone(value: str) -> str:
    """Mainland mobile number as 11 digits: separators and a +86/0086/86 prefix removed."""
    digits = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))
    if not digits.isascii() or not digits.isdigit():
        raise FieldRefused(FieldCode.PHONE_CHARACTERS)
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not _MOBILE.fullmatch(digits):
        raise FieldRefused(FieldCode.PHONE_NOT_MOBILE)
    return digits


def normalize_id_number(value: str) -> str:
    """18-digit resident ID, upper-case without spaces, GB 11643 check digit verified."""
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", value or "")).upper()
    if not _ID_18.fullmatch(text) or not text.isascii():
        raise FieldRefused(FieldCode.ID_NUMBER_FORMAT)
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldRefused(FieldCode.ID_NUMBER_BIRTH_DATE) from None
    if id_check_digit(text[:17]) != text[17]:
        raise FieldRefused(FieldCode.ID_NUMBER_CHECK_DIGIT)
    return text


def id_check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of a resident ID."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


# -- helpers ------------------------------------------------------------------------------------


def _fresh(purpose: KeyPurpose, keys: dict[str, bytes]) -> tuple[str, dict[str, bytes]]:
    key_id = f"{_PREFIX[purpose]}-{secrets.token_hex(4)}"
    while key_id in keys:
        key_id = f"{_PREFIX[purpose]}-{secrets.token_hex(4)}"
    return key_id, {**keys, key_id: AESGCM.generate_key(bit_length=256)}


def _parse_purpose(entry: Any, where: str) -> tuple[str, dict[str, bytes]]:
    if not isinstance(entry, dict) or not isinstance(entry.get("keys"), dict):
        raise KeyFileError(f"{where} 缺失或格式错误（需要 primary 和 keys）")
    keys = {}
    for key_id, encoded in entry["keys"].items():
        if not _KEY_ID.fullmatch(key_id):
            raise KeyFileError(f"{where}：密钥 id {key_id!r} 无效")
        try:
            keys[key_id] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise KeyFileError(f"{where}：密钥 {key_id} 不是有效的 base64") from None
        if len(keys[key_id]) != KEY_BYTES:
            raise KeyFileError(f"{where}：密钥 {key_id} 应为 {KEY_BYTES} 字节")
    if entry.get("primary") not in keys:
        raise KeyFileError(f"{where}：primary 必须是 keys 中的一个 id")
    return entry["primary"], keys


def _purpose(purpose: KeyPurpose | str) -> KeyPurpose:
    try:
        return KeyPurpose(purpose)
    except ValueError:
        raise ValueError(f"未知的密钥用途：{purpose!r}") from None


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
