"""Blueprint ``assistant``: the intake page's suggestion (JSON), the red flags waiting for a
person, and the accuracy of the suggestions for supervisors.

The suggestion endpoint takes the description in a POST body (never in a URL, so no access log
holds it) and logs nothing of it.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow
from web.labels import label
from web.params import whole_number
from workflows.assistant import records
from workflows.assistant import suggest as assistant

bp = Blueprint("assistant", __name__)


@bp.post("/assistant/suggest")
def suggest() -> ResponseReturnValue:
    """Categories, flags and points for the posted ``description`` (JSON or form body)."""
    body = request.get_json(silent=True) if request.is_json else None
    text = body.get("description") if isinstance(body, dict) else request.form.get("description")
    found = assistant.suggest(new_uow(), actor(), text if isinstance(text, str) else "")
    answer = found.as_json()
    for item in answer["categories"]:
        item["label"] = label("category", item["code"])
    for item in answer["flags"]:
        item["label"] = label("flag", item["code"])
    answer["urgency_label"] = label("urgency", answer["urgency"])
    return jsonify(answer)


@bp.get("/assistant/reviews")
def reviews() -> ResponseReturnValue:
    """Red flags waiting for a person, oldest first."""
    rows = records.pending_reviews(new_uow(), actor())
    return render_template("assistant/reviews.html", rows=rows)


@bp.post("/assistant/reviews/<int:suggestion_id>")
def review(suggestion_id: int) -> ResponseReturnValue:
    """Confirm or dismiss one red flag; back to the case page or the list."""
    done = records.review(new_uow(), actor(), suggestion_id, request.form.get("outcome", ""))
    flash(_("红旗复核已记录：%(outcome)s", outcome=label("review_state", done["state"])),
          "success")
    if request.form.get("back") == "case":
        return redirect(url_for("cases.detail", case_no=done["case_no"]))
    return redirect(url_for("assistant.reviews"))


@bp.get("/assistant/accuracy")
def accuracy() -> ResponseReturnValue:
    """Suggested against final category, by final category, over the last ``days`` days."""
    days = whole_number(request.args.get("days"), 90, minimum=1, maximum=records.MAX_DAYS)
    page = records.accuracy(new_uow(), actor(), days=days)
    return render_template("assistant/accuracy.html", page=page)
