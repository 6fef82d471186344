"""Blueprint ``places``: a place with its name path, open warnings and recent cases."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from web.context import actor, new_uow
from workflows.early_warning.listing import place_page

bp = Blueprint("places", __name__, url_prefix="/places")


@bp.get("/<place_code>")
def detail(place_code: str) -> ResponseReturnValue:
    """Supervisors and leaders of a unit above the place, and administrators (403 otherwise)."""
    return render_template("places/detail.html", page=place_page(new_uow(), actor(), place_code))
