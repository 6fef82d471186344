"""Blueprint ``directory_import``: places, units and accounts from a CSV or XLSX file, previewed
before anything is written (administrators only).

Between the preview and the confirmation the upload waits on the server, encrypted and bound
to the administrator who sent it; the confirmation reads and checks it again from scratch (the
database may have changed meanwhile), and writes all of it or nothing.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from engine.crypto import DecryptionFailed
from web.context import actor, new_uow, services
from web.labels import label
from web.messages import message
from workflows.core.errors import ErrorCode, FieldError
from workflows.core.masking import mask_phone
from workflows.mediation.experts import field_code
from workflows.people import admin
from workflows.people.directory_files import COLUMNS, split_roles
from workflows.people.directory_import import (
    LEVEL_WORDS,
    ImportKind,
    ImportPreview,
    ImportRejected,
    ImportRow,
    RowProblem,
    apply_import,
    column_title,
    parse_file,
    preview_import,
)

bp = Blueprint("directory_import", __name__, url_prefix="/admin/import")
KINDS = tuple(str(kind) for kind in ImportKind)
KEY_COLUMN = {ImportKind.PLACES: "code", ImportKind.UNITS: "code", ImportKind.USERS: "username",
              ImportKind.ROOMS: "code", ImportKind.EXPERTS: "username"}
STASH_MINUTES = 60
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
SHOWN_ROWS = 500   # rows listed on a preview; the counts always cover the whole file


@bp.before_request
def admins_only() -> None:
    """Nothing a request carries is read for anyone but an administrator (denial audited)."""
    admin.require_admin(actor(), services())


@bp.get("/")
def index() -> ResponseReturnValue:
    """Choose what to import and the file; the columns of each kind are explained."""
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else "places"
    return _form(kind)


def _form(kind: str, errors: dict | None = None, problems: list | None = None,
          status: int = 200) -> ResponseReturnValue:
    return render_template("admin/import.html", kind=kind, errors=errors or {},
                           problems=problems or [], columns=_columns()), status


def _columns() -> dict[str, list[str]]:
    return {str(kind): [column.title for column in columns] for kind, columns in COLUMNS.items()}


@bp.post("/preview")
def preview() -> ResponseReturnValue:
    """What the file would create and update, and its bad rows; nothing is written."""
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    filename = Path(upload.filename or "").name[:200] if upload is not None else ""
    if kind not in KINDS:
        return _form("places", {"kind": message(FieldError(ErrorCode.CHOOSE_IMPORT_KIND))},
                     status=422)
    if not data:
        return _form(kind, {"file": message(FieldError(ErrorCode.CHOOSE_IMPORT_FILE))},
                     status=422)
    try:
        rows = parse_file(kind, filename, data)
    except ImportRejected as exc:
        return _form(kind, problems=_problems(kind, exc.problems), status=422)
    found = preview_import(new_uow(), kind, rows)
    token = _stash(kind, filename, data) if found.ok else None
    return _preview_page(kind, filename, rows, found, token)


@bp.post("/confirm")
def confirm() -> ResponseReturnValue:
    """Import the previewed file: read and checked again, then written all or nothing."""
    stashed = _unstash(request.form.get("token", ""))
    if stashed is None:
        return _form(request.form.get("kind", "places") if request.form.get("kind") in KINDS
                     else "places",
                     {"file": message(FieldError(ErrorCode.IMPORT_EXPIRED))}, status=422)
    kind, filename, data = stashed.kind, stashed.filename, stashed.data
    try:
        rows = parse_file(kind, filename, data)
        result = apply_import(new_uow(), actor(), kind, rows)
    except ImportRejected:
        # the database changed since the preview: show the new verdict, nothing was written
        _drop(stashed.token)
        try:
            rows = parse_file(kind, filename, data)
        except ImportRejected as exc:
            return _form(kind, problems=_problems(kind, exc.problems), status=422)
        return _preview_page(kind, filename, rows, preview_import(new_uow(), kind, rows), None)
    _drop(stashed.token)
    passwords = [{"username": p.username, "display_name": p.display_name,
                  "password": p.password, "roles": p.roles,
                  "unit": p.unit_code} for p in result.passwords]
    return render_template("admin/import_done.html", kind=kind, filename=filename,
                           result=result, passwords=passwords,
                           warnings=_problems(kind, result.warnings))


# -- the preview page -----------------------------------------------------------------------------
def _preview_page(kind: str, filename: str, rows: list[ImportRow], found: ImportPreview,
                  token: str | None) -> ResponseReturnValue:
    key = KEY_COLUMN[ImportKind(kind)]
    by_key: dict[str, ImportRow] = {}
    for row in rows:
        by_key.setdefault(row.get(key), row)
    columns = [(column.key, column.title) for column in COLUMNS[ImportKind(kind)]]
    planned = [("created", name) for name in found.created] + \
              [("updated", name) for name in found.updated]
    shown = [{"state": state, "number": by_key[name].number if name in by_key else "",
              "cells": [_cell(kind, column, by_key[name].get(column) if name in by_key else "")
                        for column, _title in columns],
              "changed": [column_title(kind, c) for c in found.changes.get(name, [])]}
             for state, name in planned[:SHOWN_ROWS]]
    status = 200 if found.ok else 422
    return render_template("admin/import_preview.html", kind=kind, filename=filename,
                           preview=found, columns=[title for _key, title in columns],
                           shown=shown, more=len(planned) > SHOWN_ROWS, token=token,
                           errors=_problems(kind, found.errors),
                           warnings=_problems(kind, found.warnings)), status


def _cell(kind: str, column: str, value: str) -> str:
    """A cell as the preview shows it: codes by their Chinese names, mobiles masked."""
    if not value:
        return ""
    if column == "level" and value.strip().lower() in LEVEL_WORDS:
        return label("place_level", LEVEL_WORDS[value.strip().lower()])
    if column == "kind":
        name = label("unit_kind", value)
        return f"{name}（{value}）" if name != value else value
    if column == "roles":
        return "、".join(label("role", role) for role in split_roles(value))
    if column in ("mobile", "contact"):
        return mask_phone(value)
    if column == "field" and (code := field_code(value)) is not None:
        return label("expert_field", code)
    return value


def _problems(kind: str, problems: list[RowProblem]) -> list[dict]:
    return [{"row": p.row, "column": column_title(kind, p.column) if p.column else "",
             "reason": message(p.error)} for p in sorted(problems, key=lambda p: p.row)]


# -- the upload between preview and confirmation --------------------------------------------------
@dataclass(frozen=True)
class Stashed:
    token: str
    kind: str
    filename: str
    data: bytes


def _folder() -> Path:
    return Path(services().settings.instance_path) / "imports"


def _aad(token: str) -> str:
    return f"directory_import:{actor().id}:{token}"


def _stash(kind: str, filename: str, data: bytes) -> str:
    """Keep the upload for the confirmation; returns its token. Old uploads are removed."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    sealed = services().cipher.encrypt(base64.b64encode(data).decode(), aad=_aad(token))
    record = {"user": actor().id, "kind": kind, "filename": filename,
              "at": services().clock.now().isoformat(), "data": sealed}
    (folder / f"{token}.json").write_text(json.dumps(record))
    return token


def _unstash(token: str) -> Stashed | None:
    """The upload of this token if it is this administrator's and fresh; else None."""
    if not TOKEN.match(token):
        return None
    path = _folder() / f"{token}.json"
    try:
        record = json.loads(path.read_text())
        if record["user"] != actor().id or _expired(record):
            return None
        data = base64.b64decode(services().cipher.decrypt(record["data"], aad=_aad(token)))
    except (OSError, ValueError, KeyError, DecryptionFailed):
        return None
    return Stashed(token, record["kind"], record["filename"], data)


def _expired(record: dict) -> bool:
    at = datetime.fromisoformat(record["at"])
    return services().clock.now() - at > timedelta(minutes=STASH_MINUTES)


def _drop(token: str) -> None:
    (_folder() / f"{token}.json").unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    for path in folder.glob("*.json"):
        try:
            if _expired(json.loads(path.read_text())):
                path.unlink(missing_ok=True)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
