"""The one place that maps domain and engine errors to HTTP: HTML pages or JSON for the API.

NotFound -> 404; NotPermitted -> 403 without personal data (audited once as access_denied);
InvalidInput -> 422 (views re-render their forms; the API answers {"errors": {field: words},
"fields": {field: {code, params, message}}}, words from web/messages.py);
TaskNoLongerAvailable / ConcurrentUpdate -> 409 with the submitted form data kept;
ProcessIncident -> 409 process_incident: the step failed, nothing was saved, supervisors notified;
IdempotencyConflict -> 422 idempotency_key_reused (API); anything else -> 500 with a request id.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from web.context import actor, new_uow, services
from web.data_display import value_text
from web.labels import label
from web.messages import field_details, field_errors
from workflows.access import policy
from workflows.casework.views import process_words
from workflows.core.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    NotPermitted,
    ProcessIncident,
    TaskNoLongerAvailable,
)
from workflows.mediation.booking import RoomTakenMeanwhile

log = logging.getLogger("jiefen.web")
# what an HTTP refusal means to the reader (the page shows no English reason phrase)
HTTP_WORDS = {
    400: _l("请求无效，请返回上一页后重试。"),
    405: _l("这个地址只能通过页面上的按钮提交，不能直接打开。请返回上一页后操作。"),
    413: _l("提交的内容太大（例如附件过大），没有保存。"),
    429: _l("操作过于频繁，请稍后再试。"),
}


def wants_json() -> bool:
    """API requests and clients asking for JSON get JSON bodies."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _page(template: str, status: int, **context):
    return render_template(template, status=status, **context), status


def not_found(exc: Exception):
    if wants_json():
        return jsonify(error="not_found"), 404
    return _page("errors/404.html", 404)


def forbidden(exc: NotPermitted):
    """403 without any case content; the denial is audited exactly once.

    ``policy.deny`` (also called by the services' ``denials_audited`` blocks) marks the error
    ``audited``; a denial that reaches this handler unmarked is audited here, whatever its type.
    """
    if not getattr(exc, "audited", False):
        try:
            policy.deny(services(), actor(), exc, path=request.path, method=request.method)
        except Exception:  # the 403 must still go out; the failure is logged
            log.exception("could not audit a denial (request %s)", g.get("request_id"))
    if wants_json():
        return jsonify(error="forbidden", rule=exc.rule), 403
    return _page("errors/403.html", 403, rule=exc.rule)


def invalid(exc: InvalidInput):
    """422: each refused field by its label (field_label, as the 409 page names what was sent)
    with what is wrong; never the field's id."""
    errors = field_errors(exc.field_errors)
    if wants_json():
        return jsonify(error="invalid_input", errors=errors,
                       fields=field_details(exc.field_errors)), 422
    labels, _options, _names = _words((request.view_args or {}).get("case_no"))
    shown = [(field_label(labels, field), text) for field, text in errors.items()]
    return _page("errors/422.html", 422, errors=shown)


# what the product's own forms (not a process's) call the fields whose refusal can reach the
# generic 422 and 409 pages; a process's form field of the same name keeps its own label
FORM_FIELDS = {
    "purpose": _l("目的"), "reason": _l("原因"), "note": _l("备注"), "comment": _l("意见"),
    "opinion": _l("书面意见"), "description": _l("说明"), "day": _l("日期"),
    "from": _l("开始日期"), "to": _l("结束日期"), "since": _l("自"), "until": _l("至"),
    "kind": _l("类型"), "status": _l("状态"), "rating": _l("满意度"), "outcome": _l("结果"),
    "case_no": _l("案件编号"), "username": _l("用户名"), "display_name": _l("姓名"),
    "password": _l("密码"), "role": _l("角色"), "file": _l("文件"), "files": _l("文件"),
    "place": _l("地点"), "category": _l("纠纷类型"), "channel": _l("渠道"),
    # the case list's and the inbox's query parameters
    "q": _l("搜索"), "tier": _l("层级"), "risk_level": _l("风险等级"), "open": _l("仅未结案"),
    "page": _l("页码"), "per_page": _l("每页条数"), "sort": _l("排序"), "scope": _l("范围"),
    # the process editor's draft
    "title": _l("标题"), "draft_id": _l("草稿"), "base_version_id": _l("所依据的版本"),
}


# a field's id (or a JSON path of ids): never shown; any other key is what the user sent (the
# name of an uploaded file whose content was refused) and is shown as it is
FIELD_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def field_label(labels: dict[str, str], field: str) -> str:
    """A field's label on an error page: the process's (``labels``, from process_words), else the
    product form's, else 填写的内容 for a field's id — never the id itself."""
    found = labels.get(field) or FORM_FIELDS.get(field)
    if found:
        return str(found)
    return _("填写的内容") if FIELD_ID.fullmatch(field) else field


def _words(case_no: str | None) -> tuple[dict[str, str], dict[str, dict[str, str]],
                                         dict[str, tuple[str, str]]]:
    """The words of the case's process (process_words); empty when they cannot be read."""
    try:
        return process_words(new_uow(), case_no)
    except Exception:  # the error page must still go out, in the page's own words
        log.exception("could not read the process's words (request %s)", g.get("request_id"))
        return {}, {}, {}


def _kept(case_no: str | None) -> tuple[list, list, dict[str, tuple[str, str]]]:
    """What a refused POST sent: (name, value) pairs as sent (for sending again), the filled ones
    in words — (the field's label, the option's or code's name, or what was typed; never a field
    id or an option code) — and the process's elements (to name the step that failed)."""
    kept = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"] \
        if request.method == "POST" else []
    labels: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    names: dict[str, tuple[str, str]] = {}
    if kept or case_no:
        labels, options, names = _words(case_no)
    shown = [(field_label(labels, k), value_text(k, v, {}, options)) for k, v in kept if v.strip()]
    return kept, shown, names


def conflict(exc: Exception):
    """409: the task was completed or the case changed meanwhile; what was typed is shown again."""
    gone = isinstance(exc, TaskNoLongerAvailable)
    if wants_json():
        return jsonify(error="task_no_longer_available" if gone else "concurrent_update",
                       message=_("此任务已由他人处理或已超过时限，提交的内容没有保存")
                       if gone else _("内容刚被他人更新，提交的内容没有保存，请重新提交")), 409
    case_no = (request.view_args or {}).get("case_no")
    kept, shown, _names = _kept(case_no)
    room = exc if isinstance(exc, RoomTakenMeanwhile) else None
    if room is not None:   # the room by its name, not the code the select sent
        shown = [(label, room.room if key == "room_code" else text)
                 for (label, text), key in zip(shown, [k for k, v in kept if v.strip()],
                                               strict=True)]
    return _page("errors/409.html", 409, gone=gone, kept=kept, shown=shown, action=request.path,
                 case_no=case_no, room=room)


def process_incident(exc: ProcessIncident):
    """409: the process failed at a step; what was typed is shown again, nothing was saved."""
    message = _("流程执行出错，已通知督办员")
    if wants_json():
        return jsonify(error="process_incident", message=message,
                       element_id=exc.element_id, case_no=exc.case_no), 409
    _sent, shown, names = _kept(exc.case_no)
    name, kind = names.get(exc.element_id or "", ("", ""))   # by its name, else by its kind
    return _page("errors/incident.html", 409, message=message, shown=shown, case_no=exc.case_no,
                 element=name or (label("element_kind", kind) if kind else ""))


def idempotency_reused(exc: IdempotencyConflict):
    return jsonify(error="idempotency_key_reused",
                   message=_("同一 Idempotency-Key 已用于不同的请求内容")), 422


def csrf_failed(exc: CSRFError):
    if wants_json():
        return jsonify(error="csrf_failed"), 400
    return _page("errors/400.html", 400, reason=_("表单已过期或来源无效，请刷新页面后重试。"))


def http_error(exc: HTTPException):
    if exc.code == 404:
        return not_found(exc)
    if wants_json():
        return jsonify(error=(exc.name or "error").lower().replace(" ", "_")), exc.code
    return _page("errors/http.html", exc.code or 500, words=HTTP_WORDS.get(exc.code or 500))


def server_error(exc: Exception):
    """Anything unexpected: generic page (no trace, no SQL), logged with the request id."""
    if isinstance(exc, HTTPException):
        return http_error(exc)
    log.exception("unhandled error (request %s)", g.get("request_id"))
    if wants_json():
        return jsonify(error="internal_error", request_id=g.get("request_id")), 500
    return _page("errors/500.html", 500, request_id=g.get("request_id"))


def register(app: Flask) -> None:
    """Attach every handler to the app."""
    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(NotPermitted, forbidden)
    app.register_error_handler(InvalidInput, invalid)
    app.register_error_handler(TaskNoLongerAvailable, conflict)
    app.register_error_handler(ConcurrentUpdate, conflict)
    app.register_error_handler(ProcessIncident, process_incident)
    app.register_error_handler(IdempotencyConflict, idempotency_reused)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, server_error)
