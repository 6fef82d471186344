"""The distributed shape under load: gunicorn web workers and two ``jiefen scheduler`` processes
on one PostgreSQL, clients registering cases and completing tasks over the JSON API while the
cases' timers fall due.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        python benchmarks/load_test.py [--seconds 60] [--clients 16] [--workers 1,2] \\
                                       [--schedulers 2]

For each worker count, in a scratch schema of that database (dropped afterwards): the demo
district (places, units, users, the process library, the sample cases) and an API token per
user; then, as subprocesses on 127.0.0.1 only, gunicorn with ``web/gunicorn_conf.py`` on a free
port and the schedulers (the real ``jiefen scheduler`` command). Each client thread loops until
the time is up (or ``--max-requests``): register a case (``POST /api/v1/cases``) or work on an
open task of the run's cases as the user it belongs to (``GET /api/v1/cases/<no>/tasks``, then
``POST /api/v1/tasks/<id>/complete`` with the form filled in). Cases are registered as received
almost 24 hours earlier (``received_at``, from which the general sign-off limit counts), so the
sign-off reminder (75 %) is due at once and the sign-off limit falls due during the run: the
schedulers fire timers and send notices while clients complete tasks of the same cases.

Afterwards (web and schedulers stopped with SIGTERM) it counts in SQL what must happen once:
timer firings per instance, timer and due time; outbox messages with the same case, recipient,
template and content; 督办 notices per case, order, level and kind; messages written to the
channel sinks more than once (both schedulers' files); scheduler slot claims — and runs
``jiefen audit verify``. Printed, per worker count: throughput, answers by status, the
duplicate counts and the verification. It prints; ``tests/postgres/test_load_round.py`` runs a
short round and asserts no error but 409 and no duplicate, never a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import scratch_database  # noqa: E402
from engine.crypto import Keyring  # noqa: E402
from engine.db import make_engine  # noqa: E402
from workflows.access import tokens  # noqa: E402
from workflows.core.actors import SYSTEM  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.demo.loader import load_demo, load_directory  # noqa: E402
from workflows.models import Department, Role, User, UserRole  # noqa: E402
from workflows.people.departments import seed_reference_data  # noqa: E402
from workflows.processes.deploy import deploy_bundle, read_directory  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402

BIN = Path(sys.executable).parent
MAX_SECONDS, MAX_CLIENTS = 600, 64           # bounded: a typo must not load the machine for hours
INTAKE_SHARE = 0.15                          # of the client loops (more when nothing is open)
CHEAP_HASHING = {"JIEFEN_ARGON2_TIME_COST": "1", "JIEFEN_ARGON2_MEMORY_KIB": "8",
                 "JIEFEN_ARGON2_PARALLELISM": "1"}
# decisions a client prefers when a form offers them: move the case on, not round in circles
PREFERRED = ("accept", "approve", "agree", "pass", "done", "resolved", "R1", "R2", "yes",
             "phone")
OWN_CASES = 3               # a client registers until it has this many cases to move on
SHARED_SHARE = 0.2          # of its work: a task of anyone's case (clients race each other)
DUE_WITHIN = (0.3, 0.9)     # sign-off limits fall due this far into the run (shares of it)
CATEGORIES = ("noise", "neighbour", "property", "other")
SUMMARIES = ("夜间施工噪声扰民", "邻里楼道堆物纠纷", "物业费收取争议", "小区停车位被长期占用")


# -- the district, its users and their tokens ---------------------------------------------------
@dataclass
class District:
    """Tokens by user, and who may act on a task: (role, department) and role alone."""

    tokens: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    by_role_unit: dict[tuple[str, int | None], list[int]] = field(default_factory=dict)
    by_role: dict[str, list[int]] = field(default_factory=dict)
    clerk: int = 0

    def user_for(self, role: str | None, department_id: int | None, assignee: int | None,
                 candidates: str | None) -> int | None:
        if assignee is not None:
            return assignee if assignee in self.tokens else None
        if candidates:
            named = [int(c) for c in candidates.split(",") if c.isdigit()]
            return named[0] if named else None
        users = self.by_role_unit.get((role or "", department_id)) or \
            (self.by_role.get(role or "") if department_id is None else None)
        return random.choice(users) if users else None


def prepare(url: str, folder: Path, *, samples: bool = True) -> District:
    """Migrate, load the demo district (``samples``: with its sample cases, else the directory
    and the process library only), issue a token per user with a role."""
    upgrade(url)
    keys = Keyring.generate(folder / "keys.json")
    settings = Settings.from_env(instance_path=folder / "setup", database_url=url,
                                 keys_file=folder / "keys.json", secret_key="load-test",
                                 scheduler_embedded=False)
    services = bootstrap(settings, keyring=keys)
    try:
        hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        if samples:
            load_demo(services, history=0, hasher=hasher)
        else:
            with services.new_uow() as uow:
                seed_reference_data(uow.session)
                uow.commit()
            load_directory(services, hasher)
            deploy_bundle(services.new_uow(), SYSTEM, read_directory(settings.bpmn_dir))
        district = District()
        with services.session_factory() as session:
            grants = session.execute(
                select(User.id, User.username, User.department_id, Role.code, Department.code)
                .join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
                .outerjoin(Department, Department.id == User.department_id)
                .where(User.active.is_(True))).all()
        names = district.names
        for uid, username, dept, role, unit in grants:
            names[uid] = username
            district.by_role_unit.setdefault((role, dept), []).append(uid)
            if unit == "ZZ":   # tasks of no unit go to the district centre's people
                district.by_role.setdefault(role, []).append(uid)
            if username == "clerk":
                district.clerk = uid
        for uid, username in names.items():
            district.tokens[uid] = tokens.issue_token(services.new_uow(), SYSTEM,
                                                      username=username, channel="portal").token
    finally:
        services.db.dispose()  # type: ignore[union-attr]  # an Engine here
    return district


# -- the processes ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(url: str, folder: Path, instance: str) -> dict[str, str]:
    """One instance folder per process (its outbox file), shared keys and heads file."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JIEFEN_")}
    return {**env, **CHEAP_HASHING, "DATABASE_URL": url, "JIEFEN_DATABASE_URL": url,
            "JIEFEN_INSTANCE_PATH": str(folder / instance),
            "JIEFEN_KEYS_FILE": str(folder / "keys.json"), "JIEFEN_SECRET_KEY": "load-test",
            "JIEFEN_AUDIT_HEADS_FILE": str(folder / "audit" / "heads.jsonl"),
            "JIEFEN_OUTBOX_INTERVAL": "2", "JIEFEN_SCHEDULER_EMBEDDED": "false"}


class Processes:
    """gunicorn and the schedulers, each writing to its own log file in the run's folder."""

    def __init__(self, url: str, folder: Path, workers: int, schedulers: int):
        self.folder, self.port = folder, _free_port()
        self.children: list[tuple[str, subprocess.Popen]] = []
        self._start("web", [str(BIN / "gunicorn"), "-c", "python:web.gunicorn_conf",
                            "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
                            "web:create_app()"], _environment(url, folder, "web"))
        for n in range(schedulers):
            self._start(f"scheduler{n + 1}", [str(BIN / "jiefen"), "scheduler"],
                        _environment(url, folder, f"scheduler{n + 1}"))

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.children.append((name, subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log,
                                                     stderr=subprocess.STDOUT)))

    def wait_ready(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, child in self.children:
                if child.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.log(name)[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each process and the gunicorn workers (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        parents = {child.pid: name for name, child in self.children}
        used: dict[str, float] = dict.fromkeys(parents.values(), 0.0)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue   # the process ended meanwhile
            pid, ppid = int(stat.parent.name), int(fields[1])
            name = parents.get(pid) or parents.get(ppid)
            if name is not None:
                used[name] += (int(fields[11]) + int(fields[12])) / ticks
        return used

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to each (the schedulers finish their sweep and write the closing checkpoint)."""
        for _name, child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, child in self.children:
            try:
                codes[name] = child.wait(timeout=90)
            except subprocess.TimeoutExpired:
                child.kill()
                codes[name] = child.wait()
        return codes


# -- the clients --------------------------------------------------------------------------------
@dataclass
class Tally:
    """What the clients saw, shared under a lock."""

    statuses: Counter = field(default_factory=Counter)        # (kind, status) -> answers
    errors: list[str] = field(default_factory=list)           # first bodies of non-2xx/409
    cases: list[str] = field(default_factory=list)
    registered: dict[str, dict] = field(default_factory=dict)  # case -> what intake sent
    skipped: Counter = field(default_factory=Counter)         # why a client chose no task
    vanished: list[str] = field(default_factory=list)         # tasks completed with a 404
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0

    def note(self, kind: str, status: int, body: bytes, path: str) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1
            self.requests += 1
            if status == 404 and kind == "complete":
                self.vanished.append(path.split("/")[-2])
            if (status >= 400 and status != 409 or status == 0) and len(self.errors) < 20:
                self.errors.append(f"{kind} {path} {status}: "
                                   f"{body[:300].decode(errors='replace').strip()}")


class Client(threading.Thread):
    """One API client with a kept-alive connection, as a channel system or a handler's app."""

    def __init__(self, run: Run, seed: int):
        super().__init__(daemon=True)
        self.run_, self.rng = run, random.Random(seed)
        self.connection: http.client.HTTPConnection | None = None
        self.mine: list[str] = []     # cases this client registered and still moves on

    def request(self, kind: str, method: str, path: str, token: str,
                body: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"}
        raw = None
        if body is not None:
            raw = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.run_.port,
                                                             timeout=120)
            try:
                self.connection.request(method, path, body=raw, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None   # a worker recycled (max_requests) closed the socket
                if attempt == 2:
                    self.run_.tally.note(kind, 0, b"connection failed", path)
                    return 0, {}
        self.run_.tally.note(kind, response.status, data, path)
        try:
            return response.status, json.loads(data or b"{}")
        except ValueError:
            return response.status, {}

    def run(self) -> None:
        """Mostly move on the client's own cases (register, then the next task, as the people
        they reach); now and then a task of anyone's case, racing the other clients."""
        run = self.run_
        while not run.over():
            if len(self.mine) < OWN_CASES or self.rng.random() < INTAKE_SHARE:
                self.intake()
            elif self.rng.random() < SHARED_SHARE:
                self.work_on(self.rng.choice(run.tally.cases))
            else:
                case_no = self.rng.choice(self.mine)
                if not self.work_on(case_no):
                    self.mine.remove(case_no)

    def intake(self) -> None:
        n = self.rng.randrange(len(CATEGORIES))
        # received almost 24 hours ago: the 75 % reminder is due when the case is dispatched,
        # the general sign-off limit (24 h from receipt) falls due while the run lasts
        received = datetime.now(UTC) - timedelta(hours=24) + timedelta(
            seconds=self.rng.uniform(*DUE_WITHIN) * self.run_.seconds)
        body = {"category": CATEGORIES[n], "summary": SUMMARIES[n], "urgency": "general",
                "people_count": 1, "received_at": received.isoformat(),
                "description": "压测登记的纠纷：双方多次协商未果，请求调解。",
                "parties": [{"role": "applicant", "name": "压测申请人",
                             "phone": f"139{self.rng.randrange(10**8):08d}",
                             "contact_preference": "sms"}]}
        token = self.run_.district.tokens[self.run_.district.clerk]
        status, answer = self.request("intake", "POST", "/api/v1/cases", token, body)
        if status == 201 and answer.get("linked_as") == "new":
            with self.run_.tally.lock:
                self.run_.tally.cases.append(answer["case_no"])
                self.run_.tally.registered[answer["case_no"]] = {
                    "category": body["category"], "urgency": "general", "people_count": 1,
                    "summary": body["summary"], "emergency": False, "statutory_channel": False}
            self.mine.append(answer["case_no"])

    def work_on(self, case_no: str) -> bool:
        """Complete one open task of the case as a user it belongs to; False: none open."""
        tasks = self.run_.open_tasks(case_no)
        if not tasks:
            return False
        task_id, bpmn_id, role, department_id, assignee, candidates = self.rng.choice(tasks)
        uid = self.run_.district.user_for(role, department_id, assignee, candidates)
        if uid is None:
            self.skip(f"no user for {bpmn_id}")
            return True
        token = self.run_.district.tokens[uid]
        status, answer = self.request("tasks", "GET", f"/api/v1/cases/{case_no}/tasks", token)
        if status != 200:
            return True
        task = next((t for t in answer.get("tasks", []) if t["task_id"] == task_id), None)
        if task is None or not task.get("can_complete"):   # done meanwhile, or not theirs
            self.skip(f"{bpmn_id} {'gone' if task is None else 'not completable'}")
            return True
        known = self.run_.tally.registered.get(case_no, {}) if bpmn_id == "register" else {}
        if any(item["id"] == "mediator_id" for item in task["form"] or []):
            # a mediator the step may assign: of the assigning unit or of a unit handling the
            # case (workflows/mediation/mediators.py also offers the mediation bodies above
            # the case's place)
            units = {department_id, *self.run_.order_units(case_no)}
            mediators = [uid for unit in units
                         for uid in self.run_.district.by_role_unit.get(("mediator", unit), [])]
            if not mediators:
                self.skip(f"{bpmn_id}: no mediator of the case's units")
                return True
            known = {"mediator_id": self.run_.district.names[self.rng.choice(sorted(mediators))]}
        self.request("complete", "POST", f"/api/v1/tasks/{task_id}/complete", token,
                     fill(task["form"] or [], self.rng, known))
        return True


    def skip(self, reason: str) -> None:
        with self.run_.tally.lock:
            self.run_.tally.skipped[reason] += 1


def fill(form: list[dict], rng: random.Random, known: dict) -> dict:
    """The form as a careful user sends it: ``known`` values as they are (the registration
    checked against what was registered), a decision that moves the case on, a sentence in a
    required text, no to a required yes/no."""
    values: dict = {}
    for item in form:
        kind, options = item["type"], [o["value"] for o in item.get("options") or []]
        if item["id"] in known:
            values[item["id"]] = known[item["id"]]
        elif item.get("default") not in (None, ""):
            values[item["id"]] = item["default"]
        elif options:
            liked = [o for o in PREFERRED if o in options]
            values[item["id"]] = liked[0] if liked else options[0]
        elif not item.get("required"):
            continue
        elif kind == "boolean":
            values[item["id"]] = False
        elif kind in ("long", "integer", "number"):
            values[item["id"]] = int(item.get("validation", {}).get("min", 1) or 1)
        elif kind == "date":
            values[item["id"]] = datetime.now(UTC).date().isoformat()
        else:
            values[item["id"]] = rng.choice(
                ("已电话联系当事人，说明处理进度", "现场核实情况属实，已协调处理", "同意"))
    return values


class Run:
    """One timed round against one server."""

    def __init__(self, url: str, port: int, district: District, seconds: float,
                 max_requests: int, min_completions: int = 0):
        self.port, self.district, self.seconds = port, district, seconds
        self.max_requests, self.tally = max_requests, Tally()
        self.min_completions = min_completions
        self.engine = make_engine(url, pool_size=4)
        self.started = self.ends = 0.0

    def over(self) -> bool:
        """Time is up (on a slow machine, once ``min_completions`` tasks were completed too, at
        most ten times the time), or the request budget is spent."""
        now = time.monotonic()
        done = self.tally.statuses[("complete", 200)] >= self.min_completions
        late = now >= self.started + 10 * self.seconds
        return (now >= self.ends and (done or late)) or self.tally.requests >= self.max_requests

    def open_tasks(self, case_no: str) -> list[tuple]:
        """What a client's work list shows: the case's open tasks and whose they are."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT t.task_id, t.bpmn_id, t.role, t.department_id, t.assignee_id, t.candidate_users "
                "FROM open_task t JOIN dispute_case c ON c.id = t.case_id "
                "WHERE c.case_no = :no"), {"no": case_no}))

    def order_units(self, case_no: str) -> list[int]:
        """The units with a work order on the case."""
        with self.engine.connect() as conn:
            return list(conn.scalars(text(
                "SELECT DISTINCT w.department_id FROM work_order w "
                "JOIN dispute_case c ON c.id = w.case_id WHERE c.case_no = :no"), {"no": case_no}))

    def go(self, clients: int) -> float:
        threads = [Client(self, seed) for seed in range(clients)]
        self.started = time.monotonic()
        self.ends = self.started + self.seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.seconds + 180)
        self.engine.dispose()
        return time.monotonic() - self.started


# -- afterwards: what must have happened once ---------------------------------------------------
DUPLICATE_QUERIES = {   # each row: a group of effects that should have happened once
    "timer firings (instance, timer, due time)": """
        SELECT case_id, object_id, payload::jsonb ->> 'timer', payload::jsonb ->> 'due_at',
               count(*), string_agg(actor_type || ':' || coalesce(actor_id, ''), ' ')
          FROM audit_event WHERE action = 'timer_fired'
         GROUP BY case_id, object_id, payload::jsonb ->> 'timer', payload::jsonb ->> 'due_at'
        HAVING count(*) > 1""",
    # a reminder's key names the step that sent it: fired twice, the same words go out twice
    # (task_ready is left out: parallel or returned tasks tell one user the same words)
    "outbox messages (case, recipient, template, content)": """
        SELECT case_id, recipient_type, recipient_id, template, count(*),
               string_agg(dedupe_key, ' ')
          FROM outbox_message WHERE template <> 'task_ready'
         GROUP BY case_id, channel, recipient_type, recipient_id, template, params::text
        HAVING count(*) > 1""",
    "督办 notices (case, order, level, kind)": """
        SELECT case_id, work_order_id, level, kind, count(*), string_agg(dedupe_key, ' ')
          FROM supervision_notice GROUP BY case_id, work_order_id, level, kind, source
        HAVING count(*) > 1""",
}
EFFECT_QUERIES = {
    "timers fired": "SELECT count(*) FROM audit_event WHERE action = 'timer_fired'",
    "sign-off reminders (the 75 % timer)":
        "SELECT count(*) FROM outbox_message WHERE template = 'sign_off_reminder'",
    "outbox messages": "SELECT count(*) FROM outbox_message",
    "messages sent": "SELECT count(*) FROM outbox_message WHERE status = 'sent'",
    "督办 notices": "SELECT count(*) FROM supervision_notice",
    "audit events": "SELECT count(*) FROM audit_event",
}


def count_effects(url: str, folder: Path) -> tuple[dict[str, list[tuple]], dict[str, int]]:
    """(duplicate groups by kind, totals by kind) after the processes stopped."""
    engine = make_engine(url)
    with engine.connect() as conn:
        groups = {name: [tuple(row) for row in conn.execute(text(q))]
                  for name, q in DUPLICATE_QUERIES.items()}
        totals = {name: int(conn.scalar(text(q)) or 0) for name, q in EFFECT_QUERIES.items()}
    engine.dispose()
    written: Counter = Counter()
    for sink in folder.glob("*/outbox/messages.jsonl"):
        for line in sink.read_text(encoding="utf-8").splitlines():
            if line.strip():
                written[json.loads(line)["idempotency_key"]] += 1
    groups["messages written to a sink twice"] = [(k, n) for k, n in written.items() if n > 1]
    totals["messages written to the sinks"] = sum(written.values())
    return groups, totals


def cancelled_by(url: str, task_ids: list[str]) -> Counter:
    """Who closed the tasks a completion found gone (404): the actor type of the step whose
    transitions cancelled it ('scheduler' for a timer), or 'unknown'."""
    found: Counter = Counter()
    engine = make_engine(url)
    with engine.connect() as conn:
        for task_id in task_ids:
            who = conn.scalar(text(
                "SELECT actor_type FROM audit_event WHERE action = 'engine_step' "
                "AND payload LIKE :pattern ORDER BY id LIMIT 1"),
                {"pattern": f'%"task_id":"{task_id}","to":"CANCELLED"%'})
            found[who or "unknown"] += 1
    engine.dispose()
    return found


def verify(url: str, folder: Path) -> tuple[int, str]:
    """``jiefen audit verify`` as an operator runs it after the day: exit status and last line."""
    done = subprocess.run([str(BIN / "jiefen"), "audit", "verify"], cwd=ROOT, text=True,
                          env=_environment(url, folder, "web"), capture_output=True, timeout=600)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


# -- one round per worker count -----------------------------------------------------------------
@dataclass
class Round:
    workers: int
    seconds: float
    statuses: Counter
    errors: list[str]
    duplicates: dict[str, list[tuple]]     # kind -> the groups found more than once
    totals: dict[str, int]
    verify_status: int
    verify_line: str
    exits: dict[str, int | None]
    cases: int
    skipped: Counter
    vanished: Counter      # 404 on completing: who had cancelled the task
    cpu: dict[str, float]  # CPU seconds during the run: web (master and workers), schedulers

    @property
    def failures(self) -> int:
        """Answers that are neither a success nor a 409 (a race lost as documented)."""
        return sum(n for (_kind, status), n in self.statuses.items()
                   if status >= 400 and status != 409 or status == 0)

    def ok(self, kind: str) -> int:
        return sum(n for (k, status), n in self.statuses.items() if k == kind and status < 400)


def one_round(base_url: str, workers: int, *, seconds: float, clients: int, schedulers: int,
              max_requests: int = 100_000, samples: bool = True, min_completions: int = 0,
              echo=print) -> Round:
    with tempfile.TemporaryDirectory(prefix="load_test_") as name, \
            scratch_database(base_url, Path(name), "load_test") as url:
        folder = Path(name)
        echo(f"[{workers} worker(s)] preparing the demo district and tokens …")
        district = prepare(url, folder, samples=samples)
        processes = Processes(url, folder, workers, schedulers)
        try:
            processes.wait_ready()
            echo(f"[{workers} worker(s)] {clients} clients for {seconds:g} s on port "
                 f"{processes.port}, {schedulers} schedulers")
            run = Run(url, processes.port, district, seconds, max_requests, min_completions)
            before = processes.cpu_seconds()
            elapsed = run.go(clients)
            after = processes.cpu_seconds()
            cpu = {name: after[name] - before.get(name, 0.0) for name in after}
            time.sleep(2)   # timers already due fire, the outbox drains once more
        finally:
            exits = processes.stop()
        duplicates, totals = count_effects(url, folder)
        vanished = cancelled_by(url, run.tally.vanished)
        status, line = verify(url, folder)
        return Round(workers, elapsed, run.tally.statuses, run.tally.errors, duplicates, totals,
                     status, line, exits, len(run.tally.cases), run.tally.skipped, vanished, cpu)


def report(result: Round, echo=print) -> None:
    by_status: Counter = Counter()
    for (_kind, status), n in result.statuses.items():
        by_status[status] += n
    total = sum(by_status.values())
    echo(f"== {result.workers} gunicorn worker(s): {total} requests in {result.seconds:.1f} s = "
         f"{total / result.seconds:.1f} req/s; intakes {result.ok('intake')} "
         f"({result.ok('intake') / result.seconds:.1f}/s), completions "
         f"{result.ok('complete')} ({result.ok('complete') / result.seconds:.1f}/s), "
         f"task reads {result.ok('tasks')}; {result.cases} new cases")
    cpu_web = result.cpu.get("web", 0.0)
    echo(f"   CPU during the run: web {cpu_web:.1f} s ({1000 * cpu_web / max(total, 1):.0f} ms "
         f"a request), " + ", ".join(f"{k} {v:.1f} s" for k, v in result.cpu.items()
                                     if k != "web"))
    echo("   answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    echo("   by request: " + ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(result.statuses.items())))
    echo(f"   errors other than 409: {result.failures}")
    if result.vanished:
        echo("     of which 404 completing a task cancelled meanwhile, by: " + ", ".join(
            f"{k} {n}" for k, n in result.vanished.items()))
    echo("   tasks passed over: " + ", ".join(f"{k} {n}" for k, n in result.skipped.most_common()))
    for line in result.errors[:5]:
        echo(f"     {line}")
    echo("   effects: " + ", ".join(f"{k} {v}" for k, v in result.totals.items()))
    echo("   duplicates: " + ", ".join(f"{k} {len(v)}" for k, v in result.duplicates.items()))
    for kind, groups in result.duplicates.items():
        for group in groups[:3]:
            echo(f"     {kind}: {group}")
    echo(f"   jiefen audit verify: exit {result.verify_status}: {result.verify_line}")
    echo("   exit statuses: " + ", ".join(f"{k} {v}" for k, v in result.exits.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", default="1,2", help="gunicorn worker counts, one round each")
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""),
                        help="a PostgreSQL database to hold the scratch schema (DATABASE_URL)")
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        parser.error("needs a PostgreSQL URL (--url or DATABASE_URL)")
    if not (0 < args.seconds <= MAX_SECONDS and 0 < args.clients <= MAX_CLIENTS):
        parser.error(f"--seconds 1..{MAX_SECONDS}, --clients 1..{MAX_CLIENTS}")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for workers in (int(w) for w in args.workers.split(",")):
        result = one_round(args.url, workers, seconds=args.seconds, clients=args.clients,
                           schedulers=args.schedulers, max_requests=args.max_requests)
        report(result)
        load = os.getloadavg()
        print(f"   load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
