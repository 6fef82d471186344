"""Shared by the process owners' pages and the editor: the owners-only guard, uploaded files and
the JSON answer for a refused bundle."""

from __future__ import annotations

from flask import jsonify, request

from web.context import actor, services
from web.problem_words import in_words
from workflows.access.policy import require_owner
from workflows.core.errors import DeployRejected, ErrorCode, FieldError, InvalidInput

MAX_FILES = 20


def owners_only() -> None:
    """Before any view of these blueprints: process owners only (denial audited), so nothing a
    request carries is even read for anyone else."""
    require_owner(actor(), services())


def uploaded_files() -> dict[str, bytes]:
    """The multipart ``files`` field as {logical name: bytes}; InvalidInput when empty."""
    found = {}
    for storage in request.files.getlist("files")[:MAX_FILES]:
        name = (storage.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        if name:
            found[name] = storage.read()
    if not found:
        raise InvalidInput({"files": FieldError(ErrorCode.CHOOSE_FILES)})
    return found


def problems_response(exc: DeployRejected, status: int = 422, *, words: bool = False):
    """JSON for a refused bundle: every problem with file and element id (``words``: the
    message in the page's language, for the editor; the API keeps the engine's sentence)."""
    problems = [p.as_dict() for p in exc.problems]
    return jsonify(error="invalid_bundle",
                   problems=in_words(problems) if words else problems), status
