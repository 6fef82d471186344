"""Files attached to cases: checked, cleaned and stored by content hash outside the web root.

What a file must pass before anything is written (``check_file``):

* a plain file name: no directory part (``/``, ``\\``, ``..``), no control characters;
* at most ``Settings.attachment_max_bytes``;
* its type is read from its bytes (``filetype``'s magic numbers), never from its name, and must
  be on the allow-list below; a name whose extension says another type is a disguised file;
* an image must open in Pillow and is re-encoded: the pixels are kept (turned upright by the
  EXIF orientation), every piece of metadata (EXIF with GPS, XMP, comments) is dropped.

The stored bytes are named by their SHA-256 under ``<instance>/attachments/ab/abcdef…``; the
hash goes into the case's audit chain (``attachment_added``). Files come from a grid worker's
report, the intake form and any task form (``check_files``: several at once, all refused if one
is). Who may see a case reads its files back (``open_attachment``, each download audited) — a
co-department (协办) only the files its own people attached, as with order texts; pages send
them as downloads.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import or_, select

from workflows.access.policy import (
    CaseAccess,
    Denied,
    Permission,
    case_access,
    denials_audited,
    require,
    user_id,
)
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.models import Attachment, Case, Department, User
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
MAX_FILES = 10                   # files in one form submission
FOLDER = "attachments"
FIELD = "attachments"            # the file field of the intake and task forms


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
        raise refuse(ErrorCode.ATTACHMENT_NAME)
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


def check_files(files: Sequence[tuple[str, bytes]], max_bytes: int, *,
                field: str = FIELD) -> list[CheckedFile]:
    """Every file of one form checked, or ``InvalidInput`` for the first one refused (then none
    is kept: the form's other effects do not happen either)."""
    if len(files) > MAX_FILES:
        raise InvalidInput({field: FieldError(ErrorCode.TOO_MANY_FILES, {"limit": MAX_FILES})})
    return [check_file(name, data, max_bytes, field=field) for name, data in files]


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


def add_attachment(uow: UnitOfWork, actor: Actor, case: Case, checked: CheckedFile, *,
                   task_id: str | None = None) -> Attachment:
    """Store a checked file on ``case`` inside the caller's unit of work (the caller has checked
    the actor's right to add it). The same content twice on one case is one attachment.
    The bytes are written before the commit: a rolled-back step leaves at most an unlisted
    file named by its hash, never a listed attachment without its file."""
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
                     size=row.size, **({"task_id": task_id} if task_id else {}))
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
            access = require(actor, Permission.VIEW_CASE, case, session=uow.session)
            if not _may_see(uow, access, actor, row.uploaded_by):
                raise Denied(ErrorCode.NOT_PERMITTED, "view_attachment.co_department",
                             case_id=case.id, object_type="attachment", object_id=attachment_id)
            path = file_path(uow.services.settings.instance_path, row.sha256)
            if not path.is_file():
                raise NotFound(ErrorCode.ATTACHMENT_NOT_FOUND, attachment_id=attachment_id)
            uow.audit.record(AuditAction.ATTACHMENT_DOWNLOADED, actor, case=case,
                             object_type="attachment", object_id=row.id, sha256=row.sha256,
                             ip=actor.ip, session_hash=actor.session_hash)
            uow.commit()
            extension = ALLOWED.get(row.content_type, ("bin",))[0]
            return StoredFile(path, row.content_type, f"{case.case_no}-{row.id}.{extension}")


def _may_see(uow: UnitOfWork, access: CaseAccess | None, actor: Actor,
             uploaded_by: int | None) -> bool:
    """The rule of the case's documents: who reads its free text sees every file; a
    co-department only its own people's; anyone the files they attached themselves."""
    if access is None or access.free_text:
        return True
    uid = user_id(actor)
    if uploaded_by is not None and uploaded_by == uid:
        return True
    if not access.co_only or uploaded_by is None:
        return False
    return uow.session.scalar(select(User.department_id).where(User.id == uploaded_by)) \
        == actor.department_id


def case_attachments(uow: UnitOfWork, case_id: int) -> list[Attachment]:
    """A case's attachments, oldest first (callers have checked the case is visible)."""
    return list(uow.session.scalars(select(Attachment).where(Attachment.case_id == case_id)
                                    .order_by(Attachment.id)))


@dataclass(frozen=True)
class AttachmentRow:
    """An attachment as the case page lists it: who attached it, from which unit, when."""

    id: int
    content_type: str
    size: int
    uploaded_at: datetime
    uploader: str | None = None
    unit: str | None = None


def list_attachments(uow: UnitOfWork, actor: Actor, case_no: str) -> list[AttachmentRow]:
    """The attachments of a case the actor may see (Denied / NotFound otherwise), oldest first;
    a co-department sees only the files its own people attached."""
    with denials_audited(uow.services, actor, object_type="attachment"), uow:
        case = load_case(uow, actor, case_no)
        access = case_access(uow.session, actor, case)
        query = (select(Attachment, User.display_name, Department.name)
                 .outerjoin(User, User.id == Attachment.uploaded_by)
                 .outerjoin(Department, Department.id == User.department_id)
                 .where(Attachment.case_id == case.id).order_by(Attachment.id))
        if not access.free_text:
            mine = Attachment.uploaded_by == user_id(actor)
            query = query.where(or_(mine, User.department_id == actor.department_id)
                                if access.co_only and actor.department_id is not None else mine)
        return [AttachmentRow(r.id, r.content_type, r.size, r.uploaded_at, name, unit)
                for r, name, unit in uow.session.execute(query)]
