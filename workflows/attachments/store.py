"""Files attached to cases: checked, cleaned and stored by content hash outside the web root.

What a file must pass before anything is written (``check_file``):

* a plain file name: no directory part (``/``, ``\\``, ``..``), no control characters;
* at most ``Settings.attachment_max_bytes``;
* its type is read from its bytes (``filetype``'s magic numbers), never from its name, and must
  be on the allow-list below; a name whose extension says another type is a disguised file;
* an image must open in Pillow and is re-encoded: the pixels are kept (turned upright by the
  EXIF orientation), every piece of metadata (EXIF with GPS, XMP, comments) is dropped.

The stored bytes are named by their SHA-256 under ``<instance>/attachments/ab/abcdef…``; the
hash goes into the case's audit chain (``attachment_added``). Only users who may see the case
read a file back (``open_attachment``), and pages send it as a download.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from workflows.access.policy import Permission, denials_audited, require, user_id
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.models import Attachment, Case
from workflows.runtime.unit_of_work import UnitOfWork

# content type -> the extensions a name of that type may have (the first is used for downloads)
ALLOWED: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
}
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
MAX_PIXELS = 40_000_000          # a phone photo has ~12 M; more is a decompression bomb
MAX_NAME = 200
FOLDER = "attachments"


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check: the bytes to store, their type and hash."""

    data: bytes
    content_type: str
    sha256: str

    @property
    def extension(self) -> str:
        return ALLOWED[self.content_type][0]


def check_file(filename: str, data: bytes, max_bytes: int, *, field: str = "file") -> CheckedFile:
    """The cleaned file, or ``InvalidInput`` on ``field`` saying why it is refused."""
    def refuse(code: str, **params: object) -> InvalidInput:
        return InvalidInput({field: FieldError(code, params)})

    if not _plain_name(filename):
        raise refuse(ErrorCode.BAD_FILE_NAME)
    if len(data) > max_bytes:
        raise refuse(ErrorCode.FILE_TOO_LARGE, limit=f"{max_bytes // (1024 * 1024)} MB")
    if not data:
        raise refuse(ErrorCode.ATTACHMENT_EMPTY)
    kind = filetype.guess(data)
    content_type = kind.mime if kind is not None else None
    if content_type not in ALLOWED:
        raise refuse(ErrorCode.ATTACHMENT_TYPE, allowed="JPEG、PNG、WebP、PDF")
    extension = PurePosixPath(filename).suffix.lower().lstrip(".")
    if extension and extension not in ALLOWED[content_type]:
        raise refuse(ErrorCode.ATTACHMENT_DISGUISED, extension=extension)
    if content_type in IMAGE_FORMATS:
        data = _reencode(data, IMAGE_FORMATS[content_type], refuse)
    return CheckedFile(data, content_type, hashlib.sha256(data).hexdigest())


def _plain_name(filename: str) -> bool:
    """A bare file name as a phone or a browser sends it; any path in it is refused."""
    if not filename or len(filename) > MAX_NAME or filename in (".", ".."):
        return False
    if any(sep in filename for sep in ("/", "\\", "\x00")) or ".." in filename:
        return False
    return not any(unicodedata.category(ch).startswith("C") for ch in filename)


def _reencode(data: bytes, fmt: str, refuse) -> bytes:
    """The image's pixels in a fresh file of the same format, without any metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise refuse(ErrorCode.ATTACHMENT_UNREADABLE)
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise refuse(ErrorCode.ATTACHMENT_UNREADABLE) from None
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    if "transparency" in upright.info and fmt == "PNG":
        clean.info["transparency"] = upright.info["transparency"]
    if upright.mode == "P":
        palette = upright.getpalette()
        if palette is not None:
            clean.putpalette(palette)
    out = io.BytesIO()
    options = {"quality": 88} if fmt in ("JPEG", "WEBP") else {"optimize": True}
    clean.save(out, format=fmt, **options)
    return out.getvalue()


def file_path(root: Path, sha256: str) -> Path:
    """Where the bytes of a hash live."""
    return root / FOLDER / sha256[:2] / sha256


def add_attachment(uow: UnitOfWork, actor: Actor, case: Case, checked: CheckedFile) -> Attachment:
    """Store a checked file on ``case`` inside the caller's unit of work (the caller has checked
    the actor's right to add it). The same content twice on one case is one attachment."""
    found = uow.session.scalars(select(Attachment).where(
        Attachment.case_id == case.id, Attachment.sha256 == checked.sha256)).first()
    if found is not None:
        return found
    _write(file_path(uow.services.settings.instance_path, checked.sha256), checked.data)
    row = Attachment(case_id=case.id, sha256=checked.sha256, content_type=checked.content_type,
                     size=len(checked.data), uploaded_by=user_id(actor),
                     uploaded_at=uow.clock.now())
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(AuditAction.ATTACHMENT_ADDED, actor, case=case, object_type="attachment",
                     object_id=row.id, sha256=checked.sha256, content_type=checked.content_type,
                     size=row.size)
    return row


def _write(path: Path, data: bytes) -> None:
    """Write once, atomically: the name is the content's hash, so an existing file is the same."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


@dataclass(frozen=True)
class StoredFile:
    """A file to send back: where it is, its type and the name to download it as."""

    path: Path
    content_type: str
    download_name: str


def open_attachment(uow: UnitOfWork, actor: Actor, attachment_id: int) -> StoredFile:
    """The file of an attachment for someone who may see its case (403 audited otherwise)."""
    with denials_audited(uow.services, actor, object_type="attachment", object_id=attachment_id):
        with uow:
            row = uow.session.get(Attachment, attachment_id)
            if row is None:
                raise NotFound(ErrorCode.ATTACHMENT_NOT_FOUND, attachment_id=attachment_id)
            case = uow.session.get(Case, row.case_id)
            assert case is not None
            require(actor, Permission.VIEW_CASE, case, session=uow.session)
            path = file_path(uow.services.settings.instance_path, row.sha256)
            if not path.is_file():
                raise NotFound(ErrorCode.ATTACHMENT_NOT_FOUND, attachment_id=attachment_id)
            extension = ALLOWED.get(row.content_type, ("bin",))[0]
            return StoredFile(path, row.content_type, f"{case.case_no}-{row.id}.{extension}")


def case_attachments(uow: UnitOfWork, case_id: int) -> list[Attachment]:
    """A case's attachments, oldest first (callers have checked the case is visible)."""
    return list(uow.session.scalars(select(Attachment).where(Attachment.case_id == case_id)
                                    .order_by(Attachment.id)))


@dataclass(frozen=True)
class AttachmentRow:
    """An attachment as the case page lists it."""

    id: int
    content_type: str
    size: int
    uploaded_at: datetime


def list_attachments(uow: UnitOfWork, actor: Actor, case_no: str) -> list[AttachmentRow]:
    """The attachments of a case the actor may see (Denied / NotFound otherwise), oldest first."""
    with denials_audited(uow.services, actor, object_type="attachment"), uow:
        case = load_case(uow, actor, case_no)
        return [AttachmentRow(r.id, r.content_type, r.size, r.uploaded_at)
                for r in case_attachments(uow, case.id)]
