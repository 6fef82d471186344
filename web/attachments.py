"""Blueprint ``attachments``: a case's file, sent as a download to those who may see the case."""

from __future__ import annotations

from flask import Blueprint, send_file
from flask.typing import ResponseReturnValue

from web.context import actor, new_uow
from workflows.attachments.store import open_attachment

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


@bp.get("/<int:attachment_id>")
def download(attachment_id: int) -> ResponseReturnValue:
    """The file as an attachment (never shown inline: no content a browser would run)."""
    found = open_attachment(new_uow(), actor(), attachment_id)
    response = send_file(found.path, mimetype=found.content_type, as_attachment=True,
                         download_name=found.download_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
