"""The file field of the intake and task forms: the chosen files as (name, bytes) pairs.

Checking them is the services' business (workflows/attachments/store.py); here a file is only
read, and no further than one byte past the limit (a larger file is refused unread)."""

from __future__ import annotations

from flask import request

from web.context import services
from workflows.attachments.store import FIELD, MAX_FILES


def uploaded_files(field: str = FIELD) -> list[tuple[str, bytes]]:
    """The files of ``field``; a browser's empty part (no file chosen) is not a file."""
    limit = services().settings.attachment_max_bytes
    found = []
    for storage in request.files.getlist(field):
        data = storage.read(limit + 1)
        if storage.filename or data:
            found.append((storage.filename or "", data))
    return found


def upload_limits() -> dict[str, int]:
    """What the file field's help says: the size of one file (MB) and files per form."""
    return {"mb": services().settings.attachment_max_bytes // (1024 * 1024), "files": MAX_FILES}
