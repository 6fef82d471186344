"""Push channels: 12345 work orders signed with the channel's shared secret (no bearer token).

A refused signature is noted on the interface once per client address and minute (the same
refusal log as bad tokens), and past the limit the address gets 429: an anonymous caller cannot
make jiefen write a row per request.
"""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.api.base import bp, refusal_log
from web.context import actor, client_ip, new_uow, services
from web.params import whole_number
from workflows.channels import feeds, hotline
from workflows.channels.health import record_failure
from workflows.channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER


@bp.post("/channels/hotline_12345/orders")
def hotline_orders() -> ResponseReturnValue:
    """A pushed work order: 201 registered (or linked), 202 quarantined, 401 bad signature."""
    answer = hotline.receive_order(services(), body=request.get_data(cache=True),
                                   timestamp=request.headers.get(TIMESTAMP_HEADER),
                                   signature=request.headers.get(SIGNATURE_HEADER))
    if answer.status == 401:
        decision = refusal_log().note(client_ip(), f"channel:{hotline.CHANNEL}")
        if decision.audit:
            record_failure(services(), hotline.CHANNEL, f"signature:{answer.body['reason']}")
        if decision.throttled:
            response = jsonify(error="too_many_requests",
                               message=_("被拒绝的请求过多，请 60 秒后再试"))
            response.headers["Retry-After"] = "60"
            return response, 429
        return jsonify({**answer.body, "message": _("签名缺失、无效或已过期")}), 401
    return jsonify(answer.body), answer.status


@bp.get("/events")
def events() -> ResponseReturnValue:
    """Case events after ``since`` in the token user's scope: ``{"events", "next"}``."""
    limit = whole_number(request.args.get("limit"), 100, minimum=1, maximum=feeds.MAX_PAGE)
    return jsonify(feeds.events_page(new_uow(), actor(), request.args.get("since"), limit))
