"""``POST /api/v1/alarms``: alarms from devices and gateways (tokens of channel ``iot``)."""

from __future__ import annotations

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue

from web.api.base import bp
from web.context import actor, services
from workflows.alarms.receive import receive_alarm


@bp.post("/alarms")
def post_alarm() -> ResponseReturnValue:
    """201 a new case, 200 joined or cleared, 202 quarantined (unknown device). The token's
    channel is checked before the body is read."""
    body = request.get_json(silent=True)
    answer = receive_alarm(services(), actor(), token_id=g.api_token_id, body=body)
    return jsonify(answer.body), answer.status
