"""Fuzzing the input boundary: hostile values (tests/fixtures/fuzz/corpus.json: NUL, control
characters, lone surrogates, invalid UTF-8, bidi and invisible text, emoji, integer overflow,
deep JSON, NaN, wrong types, a 10 MB string) sent to EVERY route of the URL map, signed in as a
role that may use it (the API with that role's token), must never answer 500 or show a
traceback — on SQLite and on PostgreSQL.

For each route a seeded sample of the corpus (``tests/fuzz_corpus.py``: always NUL, a 32-bit
overflow and a lone surrogate) goes into: every path value; every query/form/JSON field the
route's module reads (found in its source, plus the fields of the forms below) at once; one of
them, the others valid. A few routes also get the hostile headers and the 10 MB value.
JIEFEN_FUZZ_SEED picks another sample, JIEFEN_FUZZ_ALL=1 sends the whole corpus (slow).
Every request runs in a savepoint rolled back afterwards, so each meets the same state.
"""

from __future__ import annotations

import inspect
import json
import random
import re
import sys
from urllib.parse import quote

import pytest

from tests.fuzz_corpus import ALWAYS, EVERYTHING, SEED, TEXT, Hostile, corpus, sample
from tests.web.conftest import csrf_token, login
from tests.web.test_access_matrix import (
    ARG,
    EXPECTED,
    FORMATS,
    FORMS,
    JSON,
    QUERY,
    _world,
)
from tests.web.test_api import BODY
from tests.web.test_case_pages import INTAKE


@pytest.fixture
def world(services, reference, process) -> dict:
    """The access sweep's world (own and foreign case, users, tokens) on this test's database."""
    return _world(services)


# fields a route reads that its module's source does not name literally
EXTRA_FORM = {
    "cases.intake": [*INTAKE, "action"], "calendar_admin.add": ["day", "kind", "reason"],
    "tasks.submit": ["department", "triage_note"],
}
EXTRA_JSON = {
    "api_v1.create_case": [*BODY, "parties.0.name", "parties.0.phone", "parties.0.id_number",
                           "parties.0.address", "parties.0.role", "parties.0.vulnerable",
                           "received_at"],
    "api_v1.complete_task": ["department", "triage_note"],
}
BASELINE_FORM = {**FORMS, "cases.intake": {**INTAKE, "action": "preview"},
                 "calendar_admin.add": {"day": "2025-05-06", "kind": "holiday",
                                        "reason": "调休"}}
BASELINE_JSON = {**JSON, "api_v1.create_case": BODY,
                 "api_v1.complete_task": {"department": "ZJ", "triage_note": "研判"}}
JSON_ENDPOINTS = {"process_editor.save_draft", "process_editor.validate", "process_editor.dry_run",
                  "process_editor.deploy"}
UPLOADS = {"processes.upload", "process_editor.import_files", "api_v1.deploy_processes"}
FRESH_CLIENT = {"auth.logout", "auth.login", "i18n.set_locale", "auth.password"}
HEADERS = ("X-Request-Id", "Idempotency-Key", "HX-Request", "Accept-Language", "Authorization")
QUERY_NAMES = re.compile(r'(?:args|values)\.get(?:list)?\(\s*"([\w-]+)"|'
                         r'(?:_int_arg|_day|_arg)\(\s*"(\w+)"|_number\(\s*args,\s*"(\w+)"')
FORM_NAMES = re.compile(r'form\.get(?:list)?\(\s*"([\w-]+)"|form\["(\w+)"\]')
JSON_NAMES = re.compile(r'body\.get\(\s*"(\w+)"')
ROLE_ORDER = ("triage_officer", "intake_clerk", "process_owner", "auditor", "admin",
              "supervisor", "leader", "mediator", "dept_handler")


def _names(pattern: re.Pattern, source: str) -> list[str]:
    return sorted({name for match in pattern.findall(source)
                   for name in (match if isinstance(match, tuple) else (match,)) if name})


def _module_source(app, endpoint: str) -> str:
    return inspect.getsource(sys.modules[app.view_functions[endpoint].__module__])


def _role(route) -> str:
    """A role that may use the route (on its own case), so the values reach the view."""
    expected = EXPECTED[route]
    return next((r for r in ROLE_ORDER if expected[r][0] != 403), "admin")


class Fuzzer:
    """Sends one hostile request at a time inside a savepoint; collects every 5xx."""

    def __init__(self, app, services, sweep_world):
        self.app, self.services, self.world = app, services, sweep_world
        self.clients: dict[str, tuple] = {}
        self.failures: list[tuple] = []
        self.sent = 0

    def client(self, role: str, fresh: bool = False):
        if fresh or role not in self.clients:
            client = self.app.test_client()
            login(client, f"sw_{role}")
            pair = (client, csrf_token(client, "/inbox"))
            if fresh:
                return pair
            self.clients[role] = pair
        return self.clients[role]

    def send(self, route, label: str, *, role: str, path: str, query: list | None = None,
             form: list | None = None, json_body: bytes | None = None,
             upload: Hostile | None = None, headers: dict | None = None) -> None:
        endpoint, method = route
        client, token = self.client(role, fresh=endpoint in FRESH_CLIENT)
        url = path + ("?" + "&".join(f"{quote(k)}={v}" for k, v in query) if query else "")
        kwargs: dict = {"headers": dict(headers or {})}
        if endpoint.startswith("api_v1.") and endpoint != "api_v1.openapi":
            kwargs["headers"].setdefault("Authorization",
                                         self.world["headers"][role]["Authorization"])
        if upload is not None:
            kwargs.update(_multipart(token, form or [], upload))
        elif json_body is not None:
            kwargs.update(data=json_body, content_type="application/json")
        elif method == "POST":
            pairs = [("csrf_token", quote(token))] + list(form or [])
            kwargs.update(data="&".join(f"{quote(k)}={v}" for k, v in pairs),
                          content_type="application/x-www-form-urlencoded")
        savepoint = self.services.db.begin_nested()
        try:
            response = client.open(url, method=method, **kwargs)
        finally:
            savepoint.rollback()
        self.sent += 1
        # downloads (spreadsheets) are bytes: look for a traceback without decoding strictly
        if response.status_code >= 500 or b"Traceback" in response.get_data():
            self.failures.append((endpoint, method, label, response.status_code))


def _multipart(token: str, form: list, upload: Hostile) -> dict:
    """A multipart body built by hand: the file name and content are the raw hostile bytes."""
    boundary = b"fuzzboundary7MA4YWxk"
    parts = [b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode()]
    parts += [b'Content-Disposition: form-data; name="' + quote(k).encode() + b'"\r\n\r\n'
              + v.encode() for k, v in form]
    parts.append(b'Content-Disposition: form-data; name="files"; filename="' + upload.raw[:300]
                 + b'.bpmn"\r\nContent-Type: application/octet-stream\r\n\r\n' + upload.raw)
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) \
        + b"--" + boundary + b"--\r\n"
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary.decode()}"}


def _path(rule, endpoint: str, values: dict, hostile: Hostile | None = None) -> str:
    def value(match):
        name = match.group(2)
        if name == "fmt":
            return FORMATS[endpoint]
        return hostile.quoted if hostile is not None else quote(str(values[name]), safe="")

    return ARG.sub(value, rule.rule)


def _nested(baseline: dict, fields: list[str], value) -> dict:
    """``baseline`` with ``value`` at each field (``parties.0.name``: inside the first party)."""
    body = json.loads(json.dumps(baseline))
    for field in fields:
        *parents, last = field.split(".")
        target = body
        try:
            for key in parents:
                target = target[int(key)] if isinstance(target, list) else target[key]
            target[int(last) if isinstance(target, list) else last] = value
        except (KeyError, IndexError, TypeError):  # the parent itself is hostile already
            continue
    return body


def _json_body(hostile: Hostile, fields: list[str], baseline: dict) -> bytes:
    if hostile.json_body is not None:
        return hostile.json_body
    value = hostile.text if hostile.json_value is TEXT else hostile.json_value
    return json.dumps(_nested(baseline, fields, value)).encode()


def _header_value(hostile: Hostile) -> str | None:
    """The value as a WSGI server presents a header (latin-1 text); None when no client can
    send it (line breaks end a header)."""
    value = hostile.raw[:8000].decode("latin-1")
    return None if "\n" in value or "\r" in value else value


def fuzz_route(fuzzer: Fuzzer, rule, route, rng: random.Random, costly: list[Hostile]) -> None:
    """Path values (ALWAYS and one more); every field at once (ALWAYS, two more and
    the costly values when given); one field, the others valid (one more value)."""
    app, endpoint, method = fuzzer.app, *route
    role = _role(route)
    shared = {**fuzzer.world["shared"], **fuzzer.world["cases"]["own"]}
    values = corpus()
    if rule.arguments - {"fmt"}:
        for hostile in sample(values, rng, 1):
            fuzzer.send(route, f"{hostile.name} in the path", role=role,
                        path=_path(rule, endpoint, shared, hostile),
                        query=_pairs(QUERY.get(endpoint, "").format(**shared)))
    source = _module_source(app, endpoint)
    query_names = _names(QUERY_NAMES, source) + (["page"] if method == "GET" else [])
    form_names = (_names(FORM_NAMES, source) + EXTRA_FORM.get(endpoint, [])) \
        if method == "POST" else []
    is_json = endpoint in JSON_ENDPOINTS or (endpoint.startswith("api_v1.") and method == "POST"
                                             and endpoint not in UPLOADS)
    json_names = _names(JSON_NAMES, source) + EXTRA_JSON.get(endpoint, []) if is_json else []
    names = query_names + form_names + json_names
    plan = [(v, names) for v in sample(values, rng, 2) + costly]
    if names:
        singles = sample(values, rng, 1)[len(ALWAYS):]
        plan += [(v, [n]) for v in singles for n in names] if EVERYTHING else \
            [(v, [rng.choice(names)]) for v in singles]
    form_base = {k: quote(str(v), safe="") for k, v in BASELINE_FORM.get(endpoint, {}).items()}
    for hostile, chosen in plan:
        query = _pairs(QUERY.get(endpoint, "").format(**shared)) + \
            [(n, hostile.quoted) for n in query_names if n in chosen]
        form = [(k, v) for k, v in form_base.items() if k not in chosen] + \
            [(n, hostile.quoted) for n in form_names if n in chosen]
        body = _json_body(hostile, [n for n in json_names if n in chosen],
                          BASELINE_JSON.get(endpoint, {})) if is_json else None
        where = "every field" if chosen is names else f"field {chosen[0]}"
        fuzzer.send(route, f"{hostile.name} in {where}", role=role,
                    path=_path(rule, endpoint, shared), query=query, form=form, json_body=body,
                    upload=hostile if endpoint in UPLOADS else None)


def _pairs(query: str) -> list[tuple[str, str]]:
    return [tuple(p.split("=", 1)) for p in query.lstrip("?").split("&") if p]


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, (rule.endpoint, method)


def test_no_route_answers_500_to_hostile_values(app, services, world):
    rng = random.Random(SEED)
    fuzzer = Fuzzer(app, services, world)
    routes = list(_routes(app))
    # the 10 MB value in bodies (a server refuses such URLs before the app sees them)
    posts = [route for _rule, route in routes if route[1] == "POST"]
    costly_routes = {*rng.sample(posts, 2), ("api_v1.create_case", "POST")}
    header_routes = {route for _rule, route in rng.sample(routes, 6)}
    costly = [v for v in corpus() if v.costly]
    for rule, route in routes:
        fuzz_route(fuzzer, rule, route, rng, costly if route in costly_routes else [])
        if route in header_routes:
            shared = {**world["shared"], **world["cases"]["own"]}
            for hostile in sample(corpus(), rng, 2):
                value = _header_value(hostile)
                if value is not None:
                    fuzzer.send(route, f"{hostile.name} in the headers", role=_role(route),
                                path=_path(rule, route[0], shared),
                                headers=dict.fromkeys(HEADERS, value))
    assert fuzzer.failures == [], f"{len(fuzzer.failures)} of {fuzzer.sent} failed: " \
        f"{fuzzer.failures}"
