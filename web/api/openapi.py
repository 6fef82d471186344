"""The hand-written OpenAPI 3.1 document of /api/v1 (tests check it against real responses)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.access import public
from web.api.base import bp
from workflows.cases.field_limits import AMOUNT_MAX, LOCATION_MAX_LENGTH, MAX_PARTIES
from workflows.cases.parties import VULNERABILITIES
from workflows.models import (
    AlarmKind,
    AlarmSeverity,
    AlarmState,
    CaseStatus,
    Category,
    ContactPreference,
    PartyKind,
    PartyRole,
    RiskLevel,
    Tier,
    Urgency,
)

NULL_STR = {"type": ["string", "null"]}
NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
DEPT = {"type": ["object", "null"], "required": ["code", "name"],
        "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
LOCATION = {"type": ["object", "null"], "required": ["place_code", "names"],
            "description": "the case's grid or building; null: not located (district-level units)",
            "properties": {"place_code": NULL_STR, "names": {
                "type": "array", "items": {"type": "string"},
                "description": "names from the district down to the grid or building"}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


AUTH_ERRORS = {
    "401": _json(_ref("Error"), "unauthenticated: missing, unknown, revoked or expired token",
                 {"WWW-Authenticate": {"schema": {"type": "string"}}}),
    "403": _json(_ref("Error"), "forbidden: the token's user may not do this (audited; no "
                                "personal data); rule names the policy rule"),
    "429": _json(_ref("Error"), "too_many_requests: more refused (401) requests from this "
                                "address in a minute than allowed; a valid token is never "
                                "throttled", {"Retry-After": {"schema": {"type": "string"}}}),
    "500": _json(_ref("Error"), "internal_error with a request_id to quote; nothing was saved"),
}
ERRORS = {**AUTH_ERRORS, "404": _json(_ref("Error"), "not_found: no such case or task")}
TOO_LARGE = {"413": _json(_ref("Error"), "request_entity_too_large: the body is over "
                                         "JIEFEN_MAX_UPLOAD_BYTES")}
CONCURRENT = "concurrent_update: a concurrent change won; nothing was saved, send it again"
CASE_NO = {"name": "case_no", "in": "path", "required": True, "schema": {"type": "string"},
           "example": "JF-2025-000001"}

NUMBER = {"type": ["number", "null"]}
KPI = {"type": "object", "required": ["id", "value", "numerator", "denominator", "unit", "target",
                                      "status", "cases_url"], "properties": {
    "id": {"type": "string", "example": "K-01"}, "value": NUMBER, "numerator": NUMBER,
    "denominator": {"type": "integer"}, "previous": NUMBER,
    "unit": {"enum": ["percent", "hours", "working_days", "days"]},
    "cases": {"type": ["integer", "null"],
              "description": "cases behind the denominator (for work-order KPIs: the cases of "
                             "the orders), equal to the total of cases_url"},
    "target": {"type": ["object", "null"], "required": ["comparator", "value", "valid_from",
                                                        "valid_to", "source"], "properties": {
        "comparator": {"enum": [">=", "<="]}, "value": {"type": "number"},
        "valid_from": {"type": "string", "format": "date"}, "valid_to": NULL_STR,
        "source": {"type": "string"}}},
    "status": {"enum": ["met", "at_risk", "missed", "no_data"]},
    "cases_url": {**NULL_STR, "description": "GET /api/v1/cases listing the denominator's "
                                             "cases; null for K-11 (it counts warnings)"}}}

SCHEMAS = {
    "KpiList": {"type": "object", "required": ["from", "to", "place", "not_counted", "kpis"],
                "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "place": NULL_STR,
        "not_counted": {"type": "integer", "description": "queued cases whose latest change the "
                        "figures leave out (a failed apply kept aside, or more than a request "
                        "catches up); usually 0"},
        "kpis": {"type": "array", "items": KPI}}},
    "Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"}, "rule": {"type": "string"},
        "request_id": {"type": "string"}}},
    "FieldErrors": {"type": "object", "required": ["error", "errors"], "properties": {
        "error": {"const": "invalid_input"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "field id -> message (party fields: parties-<i>-<field>)"},
        "fields": {"type": "object", "description": "field id -> machine-readable error",
                   "additionalProperties": {"type": "object", "required": ["code", "message"],
                                            "properties": {
                                                "code": {"type": "string"},
                                                "params": {"type": "object"},
                                                "message": {"type": "string"}}}}}},
    "Party": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "role": {"enum": [str(r) for r in PartyRole], "default": "applicant"},
        "kind": {"enum": [str(k) for k in PartyKind], "default": "person"},
        "name": {"type": "string", "maxLength": 100,
                 "description": "a person's name or an organisation's registered name"},
        "id_number": {"type": "string", "description": "18-digit resident ID (GB 11643); persons"},
        "credit_code": {"type": "string", "description": "统一社会信用代码, 18 characters with "
                                                         "the GB 32100 check digit; organisations"},
        "phone": {"type": "string", "description": "a mainland mobile number, or a landline with "
                                                   "its area code (010-62345678, extension "
                                                   "after '-')"},
        "address": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150,
                "description": "persons; give age or birth_date"},
        "birth_date": {"type": "string", "format": "date",
                       "description": "persons; stored encrypted, shown masked as the year"},
        "contact_preference": {"enum": [str(p) for p in ContactPreference], "default": "sms",
                               "description": "a vulnerable party is always called (phone)"},
        "vulnerable": {"type": "array", "items": {"enum": list(VULNERABILITIES)},
                       "description": "persons; any value raises a general case to urgent"}}},
    "Location": {
        "type": "object", "additionalProperties": False,
        "description": "place_code, or address (+ detail); an address only similar to "
                       "standard addresses is answered 422 with the candidates in "
                       "fields['location-address'].params.candidates",
        "properties": {
            "place_code": {"type": "string", "maxLength": LOCATION_MAX_LENGTH["place_code"],
                           "description": "an active grid or building"},
            "address": {"type": "string", "maxLength": LOCATION_MAX_LENGTH["address"]},
            "detail": {"type": "string", "maxLength": LOCATION_MAX_LENGTH["detail"],
                       "description": "unit, door, spot"},
            "unmatched": {"type": "boolean", "default": False,
                          "description": "the address is none of the candidates: register "
                                         "without a place"}}},
    "IntakeRequest": {
        "type": "object", "required": ["category", "description", "parties"],
        "additionalProperties": False, "properties": {
            "category": {"enum": [str(c) for c in Category], "description": "dispute type code"},
            "description": {"type": "string", "maxLength": 5000,
                            "description": "complaint narrative (stored encrypted)"},
            "summary": {"type": "string", "maxLength": 200,
                        "description": "short, without personal data"},
            "people_count": {"type": "integer", "minimum": 1, "default": 1},
            "urgency": {"enum": [str(u) for u in Urgency], "default": "general"},
            "threat": {"type": "boolean", "default": False,
                       "description": "threat of violence or self-harm (always urgent)"},
            "emergency": {"type": "boolean", "default": False,
                          "description": "danger to life or a crime in progress (110/119/120)"},
            "statutory_channel": {"type": "boolean", "default": False,
                                  "description": "already in litigation, arbitration or review"},
            "channel_ref": {"type": "string", "maxLength": 128,
                            "description": "the channel's own reference (12345 order number)"},
            "received_at": {"type": "string", "format": "date-time",
                            "description": "when the channel received the matter, with its "
                                           "offset; the sign-off limit runs from it. At most "
                                           "5 minutes ahead, at most 30 days back unless "
                                           "received_late_reason (both configurable)"},
            "received_late_reason": {"type": "string", "maxLength": 200},
            "process_id": {"type": "string", "maxLength": 100,
                           "description": "the process to start the case on (its active "
                                          "version); default: the case type of the category "
                                          "and channel, else general_dispute"},
            "location": _ref("Location"),
            "amount": {"type": "number", "minimum": 0, "maximum": float(AMOUNT_MAX),
                       "description": "yuan in dispute, at most two decimals"},
            "parties": {"type": "array", "minItems": 1, "maxItems": MAX_PARTIES,
                        "items": _ref("Party")}}},
    "IntakeResponse": {
        "type": "object", "required": ["case_no", "status", "linked_as", "status_url"],
        "description": "case_no, status and status_url are null when the submission was linked "
                       "to a case outside the token user's scope (another unit's case)",
        "properties": {"case_no": NULL_STR, "status": NULL_STR,
                       "linked_as": {"enum": ["new", "duplicate", "second_complaint"]},
                       "linked_by": {"enum": ["person", "location", None],
                                     "description": "a duplicate's basis: the same applicant "
                                                    "or the same building"},
                       "submission_id": {"type": ["integer", "null"]},
                       "status_url": NULL_STR}},
    "WorkOrder": {"type": "object", "required": ["department", "role", "round", "status"],
                  "properties": {"department": {"type": "string"}, "role": {"enum": ["lead", "co"]},
                                 "round": {"type": "integer"}, "status": {"type": "string"},
                                 "due_at": NULL_TIME}},
    "Case": {"type": "object", "required": ["case_no", "status", "channel", "work_orders"],
             "properties": {
                 "case_no": {"type": "string"}, "status": {"type": "string"}, "stage": NULL_STR,
                 "channel": {"type": "string"}, "category": NULL_STR, "urgency": {"type": "string"},
                 "tier": NULL_STR, "risk_level": {"type": "string"},
                 "people_count": {"type": "integer"}, "summary": {"type": "string"},
                 "second_complaint": {"type": "boolean"}, "reopened_count": {"type": "integer"},
                 "outcome": NULL_STR, "satisfaction": NULL_STR, "lead_department": DEPT,
                 "co_departments": {"type": "array", "items": DEPT}, "opened_at": NULL_TIME,
                 "closed_at": NULL_TIME, "deadline": NULL_TIME, "location": LOCATION,
                 "location_detail": NULL_STR, "lead_unit": DEPT,
                 "co_units": {"type": "array", "items": DEPT}, "received_at": NULL_TIME,
                 "registered_at": NULL_TIME,
                 "amount": {"type": ["number", "null"], "description": "yuan"},
                 "work_orders": {"type": "array", "items": _ref("WorkOrder")}}},
    "CaseRow": {
        "type": "object",
        "required": ["case_no", "status", "channel", "category", "tier", "risk_level", "summary",
                     "lead_unit", "location", "registered_at", "deadline"],
        "properties": {
            "case_no": {**NULL_STR, "description": "null only in a kpi drill-down, for a case "
                                                   "the caller may not open (visible false)"},
            "visible": {"type": "boolean", "description": "false: counted in a kpi "
                                                          "drill-down, code, summary and place "
                                                          "withheld"},
            "status": {"type": "string"}, "stage": NULL_STR,
            "channel": {"type": "string"}, "category": NULL_STR, "urgency": {"type": "string"},
            "tier": NULL_STR, "risk_level": {"type": "string"},
            "people_count": {"type": "integer"}, "summary": {"type": "string"},
            "second_complaint": {"type": "boolean"}, "outcome": NULL_STR,
            "satisfaction": NULL_STR, "lead_unit": DEPT, "location": LOCATION,
            "location_detail": NULL_STR, "received_at": NULL_TIME, "registered_at": NULL_TIME,
            "closed_at": NULL_TIME,
            "deadline": {**NULL_TIME, "description": "the earliest due time of its open tasks"}}},
    "CaseList": {
        "type": "object", "required": ["total", "page", "per_page", "cases"], "properties": {
            "total": {"type": "integer", "description": "cases matching, over all pages"},
            "total_exact": {"type": "boolean", "description":
                            "false: at least total cases match (outside a kpi drill-down the "
                            "count stops at 1,000 or ten pages past this one)"},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "cases": {"type": "array", "items": _ref("CaseRow")}}},
    "FormField": {"type": "object", "required": ["id", "type", "label", "required", "options"],
                  "properties": {
                      "id": {"type": "string"},
                      "type": {"enum": ["string", "long", "boolean", "date", "enum", "enums",
                                        "textarea"]},
                      "label": {"type": "string"}, "required": {"type": "boolean"},
                      "default": NULL_STR,
                      "options": {"type": "array", "items": {"type": "object", "properties": {
                          "value": {"type": "string"}, "label": {"type": "string"}}}},
                      "validation": {"type": "object"}}},
    "Task": {"type": "object",
             "required": ["task_id", "bpmn_id", "name", "can_complete", "form"],
             "properties": {
                 "task_id": {"type": "string"}, "bpmn_id": {"type": "string"},
                 "name": {"type": "string"}, "role": NULL_STR, "due_at": NULL_TIME,
                 "can_complete": {"type": "boolean"},
                 "form": {"type": ["array", "null"], "items": _ref("FormField"),
                          "description": "present when the caller may complete the task"}}},
    "TaskList": {"type": "object", "required": ["case_no", "tasks"], "properties": {
        "case_no": {"type": "string"}, "tasks": {"type": "array", "items": _ref("Task")}}},
    "CompleteResult": {
        "type": "object", "required": ["case_no", "task_id", "bpmn_id", "status", "next_tasks"],
        "properties": {"case_no": {"type": "string"}, "task_id": {"type": "string"},
                       "bpmn_id": {"type": "string"}, "status": {"type": "string"},
                       "next_tasks": {"type": "array", "items": {"type": "object"}}}},
    "Event": {"type": "object",
              "required": ["seq", "action", "occurred_at", "actor_type", "payload"],
              "properties": {
                  "seq": {"type": "integer"}, "action": {"type": "string"},
                  "occurred_at": {"type": "string", "format": "date-time"},
                  "actor_type": {"type": "string"}, "actor_role": NULL_STR,
                  "actor_name": {"type": "string"}, "object_type": NULL_STR,
                  "object_id": NULL_STR, "payload": {"type": "object"},
                  "transition": {"type": "integer", "description":
                                 "the task transition's place within its engine step (one "
                                 "audit event, one seq)"}}},
    "HotlineOrder": {"type": "object", "required": ["order_no"], "properties": {
        "order_no": {"type": "string", "maxLength": 64, "description": "工单号 (idempotency key)"},
        "received_at": {"type": "string", "format": "date-time",
                        "description": "受理时间, ISO 8601 with offset"},
        "category_text": {"type": "string", "description": "诉求类型 as the hotline names it"},
        "content": {"type": "string", "description": "诉求内容; identifiers in it are masked"},
        "caller": {"type": "object", "properties": {"name": {"type": "string"},
                                                    "phone": {"type": "string"}}},
        "address": {"type": "string", "description": "事发地址"}}},
    "HotlineAccepted": {"type": "object", "required": ["case_no", "linked_as"], "properties": {
        "case_no": {"type": "string"},
        "linked_as": {"enum": ["new", "duplicate", "second_complaint"]}}},
    "HotlineQuarantined": {"type": "object", "required": ["quarantined", "reason"],
                           "properties": {"quarantined": {"const": True},
                                          "reason": {"type": "string"}}},
    "CaseEvent": {"type": "object",
                  "required": ["id", "kind", "occurred_at", "case_no", "status", "data"],
                  "properties": {
                      "id": {"type": "string", "description": "event id (idempotency)"},
                      "kind": {"enum": ["registered", "dispatched", "signed_off", "progress",
                                        "deadline_near", "overdue", "closed", "rated"]},
                      "occurred_at": {"type": "string", "format": "date-time"},
                      "case_no": {"type": "string"}, "category": NULL_STR,
                      "status": {"type": "string"},
                      "unit_id": {"type": ["integer", "null"]},
                      "data": {"type": "object", "description": "work_order, role, round, "
                                                                "light, outcome, rating"},
                      "applicant": {"type": ["string", "null"],
                                    "description": "the applicant's masked name, for roles "
                                                   "that may see parties; never clear"}}},
    "EventPage": {"type": "object", "required": ["events", "next"], "properties": {
        "events": {"type": "array", "items": _ref("CaseEvent")},
        "next": {"type": "string"}}},
    "History": {"type": "object", "required": ["case_no", "events"], "properties": {
        "case_no": {"type": "string"}, "events": {"type": "array", "items": _ref("Event")}}},
}

def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False,
            "schema": schema or {"type": "string"}, "description": description}


LIST_PARAMETERS = [
    _query("q", "free text, words separated by spaces, each must match: case code, summary, "
                "location, place names; a whole ID number or mobile number matches a party "
                "exactly (never in part)", {"type": "string", "maxLength": 100}),
    _query("category", "dispute type code", {"enum": [str(c) for c in Category]}),
    _query("status", "case status code", {"enum": [str(s) for s in CaseStatus]}),
    _query("tier", "district | street | community", {"enum": [str(t) for t in Tier]}),
    _query("risk_level", "risk colour", {"enum": [str(r) for r in RiskLevel]}),
    _query("place", "a place code: cases at that place or below it"),
    _query("from", "registered on or after this local date",
           {"type": "string", "format": "date"}),
    _query("to", "registered on or before this local date", {"type": "string", "format": "date"}),
    _query("open", "1: only cases not closed", {"enum": ["1", "true"]}),
    _query("kpi", "a KPI id (or received, closed, overdue, open, returns, notices): exactly the "
                  "cases behind that figure of /api/v1/kpis, in the caller's cockpit scope "
                  "(leaders, supervisors); from and to are then the figure's period (required) "
                  "and unit a unit code; see docs/cockpit.md"),
    _query("page", "1-based page number", {"type": "integer", "minimum": 1, "maximum": 10000,
                                          "default": 1}),
    _query("per_page", "rows per page", {"type": "integer", "minimum": 1, "maximum": 100,
                                         "default": 25}),
]

PATHS = {
    "/api/v1/cases": {"get": {
        "summary": "Cases in the caller's scope, newest registration first, filtered and paged",
        "operationId": "listCases", "parameters": LIST_PARAMETERS,
        "responses": {"200": _json(_ref("CaseList"), "one page and the total"),
                      "422": _json(_ref("FieldErrors"), "a parameter refused (named in errors)"),
                      **AUTH_ERRORS}}, "post": {
        "summary": "Register a submission (intake from a channel)",
        "operationId": "createCase",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 128},
                        "description": "same key twice -> one case, the stored response replayed"}],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": _ref("IntakeRequest")}}},
        "responses": {
            "201": _json(_ref("IntakeResponse"), "registered (or replayed)", {
                "Idempotent-Replayed": {"description": "true when the stored response is replayed",
                                        "schema": {"type": "string", "enum": ["true"]}}}),
            "409": _json(_ref("Error"), "process_incident: the process failed at element_id "
                                        "while opening the case; nothing was saved and the "
                                        "supervisors were notified; or " + CONCURRENT +
                                        " (with the same Idempotency-Key)"),
            "422": _json({"anyOf": [_ref("FieldErrors"), _ref("Error")]},
                         "field errors, or idempotency_key_reused (same key, other body)"),
            **AUTH_ERRORS, **TOO_LARGE}}},
    "/api/v1/cases/{case_no}": {"get": {
        "summary": "Case status", "operationId": "getCase", "parameters": [CASE_NO],
        "responses": {"200": _json(_ref("Case"), "the case"), **ERRORS}}},
    "/api/v1/cases/{case_no}/tasks": {"get": {
        "summary": "Open tasks of a case", "operationId": "listTasks", "parameters": [CASE_NO],
        "responses": {"200": _json(_ref("TaskList"), "open tasks"), **ERRORS}}},
    "/api/v1/tasks/{task_id}/complete": {"post": {
        "summary": "Complete a task with form data", "operationId": "completeTask",
        "parameters": [{"name": "task_id", "in": "path", "required": True,
                        "schema": {"type": "string", "format": "uuid"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "description": "form field id -> value"}}}},
        "responses": {"200": _json(_ref("CompleteResult"), "completed; the case advanced"),
                      "409": _json(_ref("Error"), "task_no_longer_available: completed by "
                                                  "someone else or overtaken by a deadline; "
                                                  + CONCURRENT + "; process_incident: the "
                                                  "process failed at element_id, nothing was "
                                                  "saved, the case is paused and the "
                                                  "supervisors were notified"),
                      "422": _json(_ref("FieldErrors"), "field errors"), **ERRORS,
                      **TOO_LARGE}}},
    "/api/v1/cases/{case_no}/history": {"get": {
        "summary": "The case's audit events in order", "operationId": "caseHistory",
        "parameters": [CASE_NO],
        "responses": {"200": _json(_ref("History"), "events"), **ERRORS}}},
    "/api/v1/processes": {
        "get": {"summary": "Processes with their versions, and the decision tables (process owners)",
                "operationId": "listProcesses",
                "responses": {"200": _json({"type": "object", "required": ["processes", "decisions"],
                                            "properties": {
                                                "processes": {"type": "array",
                                                              "items": {"type": "object"}},
                                                "decisions": {"type": "array",
                                                              "items": {"type": "object"}}}},
                                           "the catalogue"), **AUTH_ERRORS}},
        "post": {"summary": "Validate and deploy a BPMN/DMN bundle (process owners)",
                 "operationId": "deployProcesses",
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["files"], "properties": {
                         "files": {"type": "array",
                                   "items": {"type": "string", "format": "binary"}},
                         "note": {"type": "string"},
                         "allow_unclaimable": {
                             "type": "string", "enum": ["1", "true", "on"],
                             "description": "deploy although a user task no active user could "
                                            "claim; the version's note then names each one"}}}}}},
                 "responses": {
                     "201": _json({"type": "object", "required": ["versions", "notes"],
                                   "properties": {"versions": {"type": "array", "items": {
                                       "type": "object", "required": ["process_id", "version"],
                                       "properties": {"process_id": {"type": "string"},
                                                      "version": {"type": "integer"},
                                                      "status": {"type": "string"},
                                                      "sha256": {"type": "string"},
                                                      "deployed_at": {"type": "string"},
                                                      "note": {"type": ["string", "null"]}}}},
                                                  "notes": {"type": "array"}}},
                                  "deployed (or the identical existing version)"),
                     "409": _json(_ref("Error"), CONCURRENT + " (another deploy of the "
                                                 "same process at the same moment)"),
                     "422": _json({"anyOf": [
                         {"type": "object", "required": ["error", "problems"],
                          "properties": {"error": {"const": "invalid_bundle"},
                                         "problems": {"type": "array"}}},
                         _ref("FieldErrors")]},
                         "invalid_bundle: every problem (file, element id, message), nothing "
                         "stored; or invalid_input (no files, a file name refused)"),
                     **AUTH_ERRORS, **TOO_LARGE}}},
    "/api/v1/kpis": {"get": {
        "summary": "The cockpit's KPIs for a period, in the caller's scope (leaders, supervisors)",
        "operationId": "listKpis",
        "parameters": [
            {"name": "from", "in": "query", "required": True,
             "schema": {"type": "string", "format": "date"}, "description": "first day"},
            {"name": "to", "in": "query", "required": True,
             "schema": {"type": "string", "format": "date"}, "description": "last day"},
            {"name": "place", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "a place code inside the caller's unit's subtree"}],
        "responses": {"200": _json(_ref("KpiList"), "every KPI"),
                      "422": _json(_ref("FieldErrors"), "a date missing or malformed, a "
                                                        "period over 1100 days, an unknown place"),
                      **AUTH_ERRORS}}},
    "/api/v1/channels/hotline_12345/orders": {"post": {
        "summary": "A 12345 work order pushed by the hotline (signed with the channel secret)",
        "operationId": "pushHotlineOrder", "security": [],
        "description": "Headers X-Jiefen-Timestamp (Unix seconds) and X-Jiefen-Signature: "
                       "sha256=<hex HMAC-SHA256 over \"<timestamp>.<raw body>\" with the "
                       "secret from `jiefen channel secret hotline_12345`>. The same order_no "
                       "again answers as the first time and creates nothing.",
        "parameters": [
            {"name": "X-Jiefen-Timestamp", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^[0-9]+$"}},
            {"name": "X-Jiefen-Signature", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(
            "HotlineOrder")}}},
        "responses": {
            "201": _json(_ref("HotlineAccepted"), "registered as a case, or linked to one"),
            "202": _json(_ref("HotlineQuarantined"), "kept in the quarantine for an intake "
                                                     "clerk (reason: why it could not be "
                                                     "mapped)"),
            "401": _json({"type": "object", "required": ["error", "reason"], "properties": {
                "error": {"const": "unauthenticated"}, "reason": {"enum": [
                    "missing_signature", "bad_timestamp", "stale_timestamp", "bad_signature",
                    "no_secret"]}, "message": {"type": "string"}}},
                "missing, bad or stale signature (older or further ahead than 5 minutes)"),
            "422": _json(_ref("FieldErrors"), "not JSON, or no usable order_no"),
            "429": AUTH_ERRORS["429"], "500": AUTH_ERRORS["500"], **TOO_LARGE}}},
    "/api/v1/events": {"get": {
        "summary": "Case events after a cursor, in the token user's scope",
        "operationId": "listEvents",
        "parameters": [
            {"name": "since", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the next value of the previous answer; omitted: from the start"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}}],
        "responses": {
            "200": _json(_ref("EventPage"), "events oldest first; next: the cursor to send"),
            "403": AUTH_ERRORS["403"],
            "422": _json(_ref("FieldErrors"), "since is not a cursor (bad_cursor)"),
            "401": AUTH_ERRORS["401"], "429": AUTH_ERRORS["429"], "500": AUTH_ERRORS["500"]}}},
    "/api/v1/openapi.json": {"get": {
        "summary": "This document", "operationId": "openapi", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1 document",
                              "content": {"application/json": {}}}}}},
}

# IoT alarms (web/api/alarms.py, workflows/alarms/receive.py)
SCHEMAS["AlarmRequest"] = {
    "type": "object", "additionalProperties": False,
    "required": ["device_id", "kind", "severity", "occurred_at", "state"],
    "properties": {
        "device_id": {"type": "string", "maxLength": 64,
                      "description": "as registered with `jiefen devices import`"},
        "kind": {"enum": [str(k) for k in AlarmKind]},
        "severity": {"enum": [str(s) for s in AlarmSeverity]},
        "occurred_at": {"type": "string", "format": "date-time",
                        "description": "with its UTC offset"},
        "state": {"enum": [str(s) for s in AlarmState]}}}
SCHEMAS["AlarmResponse"] = {
    "type": "object", "required": ["case_no", "alarm_count"], "properties": {
        "case_no": NULL_STR, "alarm_count": {"type": "integer"},
        "state": {"type": ["string", "null"], "enum": [*(str(s) for s in AlarmState), None]}}}
SCHEMAS["AlarmQuarantined"] = {
    "type": "object", "required": ["quarantined"], "properties": {
        "quarantined": {"const": True}, "reason": {"type": "string"}}}
PATHS["/api/v1/alarms"] = {"post": {
    "summary": "An alarm (or its clearing) from a device; token channel iot",
    "operationId": "postAlarm",
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": _ref("AlarmRequest")}}},
    "responses": {
        "201": _json(_ref("AlarmResponse"), "a new urgent case at the device's building"),
        "200": _json(_ref("AlarmResponse"), "joined the open case of the device and kind (or "
                                            "cleared it, or the same message again)"),
        "202": _json(_ref("AlarmQuarantined"), "unknown or retired device: kept in the "
                                               "quarantine list, no case"),
        "409": _json(_ref("Error"), CONCURRENT),
        "422": _json(_ref("FieldErrors"), "field errors"),
        **AUTH_ERRORS, **TOO_LARGE}}}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "jiefen (解纷) API", "version": "1",
             "description": "Channel intake and case status for 12345, the grid app, the portal "
                            "and scripts. Authorization: Bearer jf_<prefix>_<secret> "
                            "(`jiefen token create --user USERNAME`). Errors are JSON "
                            "{\"error\": code, ...}; any path answers 405 "
                            "method_not_allowed to a method it does not have. No personal "
                            "data is returned."},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                   "schemas": SCHEMAS},
    "paths": PATHS,
}


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI document (public: it describes the API, not any data)."""
    return jsonify(DOCUMENT)
