"""The real dispute flow over HTTP against a server started here, interleaved with the raw engine
cycle at the same case length (benchmarks/engine_cycle.py).

A noise complaint is registered through ``POST /api/v1/cases`` and worked through
``POST /api/v1/tasks/<id>/complete`` by the users its tasks belong to (API tokens); the review keeps
returning it, so the case grows five completed tasks a round. At each size the next completions
over HTTP alternate with raw SpiffWorkflow cycles of a case as long, so machine noise hits both
alike. Printed per size: median and p90 of both, SQL statements per step (counted on the server's
engine) and ``ratio http-step/raw at <n> tasks``; and registration to the first task. SQLite in a
temporary folder, or PostgreSQL from DATABASE_URL (a scratch schema, dropped after). It prints, it
never asserts.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select

from benchmarks.engine_cycle import raw_cycle
from benchmarks.scratch import scratch_database
from engine.crypto import Keyring
from workflows.access import tokens
from workflows.core.actors import SYSTEM
from workflows.core.schema import upgrade
from workflows.core.settings import Settings
from workflows.models import Case, Department, OpenTask, Role, User, UserRole
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle, read_directory
from workflows.runtime.bootstrap import Services, bootstrap

FORMS = {   # the open task worked next, in this order, and what its user submits
    "register": {"category": "noise", "urgency": "general", "people_count": "1",
                 "summary": "夜间施工噪声"},
    "sign_off": {"sign_off_decision": "accept"},
    "contact_citizen": {"contact_channel": "phone", "contact_summary": "已电话联系投诉人"},
    "co_sign_off": {"co_sign_off_decision": "accept"},
    "co_handle": {"co_result": "街道已协调工地停止夜间施工", "co_result_status": "done"},
    "lead_consolidate": {"joint_result": "已责令停止夜间施工", "joint_outcome": "resolved"},
    "handle_case": {"handling_record": "现场检查并责令整改"},
    "submit_result": {"outcome": "R2", "result_summary": "责令停止夜间施工"},
    "review_result": {"review_decision": "return", "review_note": "未附检测报告，请补充"},
}
_numbers = itertools.count(1)


def _ms(samples: list[float]) -> tuple[float, float]:
    """Median and p90 in milliseconds."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p90 * 1000


def _setup(url: str, folder: Path) -> tuple[Settings, Services]:
    Keyring.generate(folder / "keys.json")
    settings = Settings.from_env(instance_path=folder, database_url=url,
                                 keys_file=folder / "keys.json", secret_key="bench",
                                 scheduler_embedded=False, api_refusals_per_minute=100_000)
    upgrade(settings.database)
    services = bootstrap(settings)
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    deploy_bundle(services.new_uow(), SYSTEM, read_directory(settings.bpmn_dir))
    return settings, services


class Server:
    """The real app under waitress on a loopback port, its SQL statements counted; settled for
    serving as `jiefen serve` settles it (web/serving.py: the heap frozen after the start and
    after the first requests)."""

    def __init__(self, settings: Settings, *, settled: bool = True):
        from waitress import create_server

        from web import create_app
        from web.serving import settle

        app = self.app = create_app(settings)
        if settled:
            settle(app)
        self.statements = 0
        event.listen(app.extensions["jiefen_services"].db, "before_cursor_execute", self._note)
        self.server = create_server(app, host="127.0.0.1", port=0, threads=2)
        threading.Thread(target=self.server.run, daemon=True).start()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.server.effective_port,
                                                     timeout=120)

    def _note(self, *_args: object) -> None:
        self.statements += 1

    def post(self, path: str, body: dict, token: str) -> tuple[int, dict, float, int]:
        """Status, answer, seconds and statements of one request (one kept-alive connection,
        as a browser or an API client holds it)."""
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        before = self.statements
        started = time.perf_counter()
        self.connection.request("POST", path, body=raw, headers=headers)
        response = self.connection.getresponse()
        answer = json.loads(response.read() or b"{}")
        return response.status, answer, time.perf_counter() - started, self.statements - before

    def get(self, path: str, token: str) -> tuple[int, float]:
        """Status and seconds of one GET on the same kept-alive connection."""
        started = time.perf_counter()
        self.connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = self.connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started

    def close(self) -> None:
        self.connection.close()
        # the serving threads first: one still answering would wake the closed loop (EBADF)
        self.server.task_dispatcher.shutdown()
        self.server.close()


class Flow:
    """Users and tokens on demand; which open task comes next and whose it is."""

    def __init__(self, services: Services, server: Server):
        self.services, self.server = services, server
        self.tokens: dict[tuple, str] = {}

    def token(self, role: str, department_id: int | None = None, user_id: int | None = None) -> str:
        key = ("user", user_id) if user_id is not None else (role, department_id)
        if key not in self.tokens:
            self.tokens[key] = self._issue(role, department_id, user_id)
        return self.tokens[key]

    def _issue(self, role: str, department_id: int | None, user_id: int | None) -> str:
        with self.services.new_uow() as uow:
            session = uow.session
            if user_id is None:
                if department_id is None and role in ("intake_clerk", "triage_officer",
                                                      "supervisor"):
                    department_id = session.scalar(select(Department.id)
                                                   .where(Department.code == "ZZ"))
                user = User(username=f"bench{next(_numbers)}_{role}", display_name="压测用户",
                            password_hash="x", department_id=department_id)
                session.add(user)
                session.flush()
                role_id = session.scalar(select(Role.id).where(Role.code == role))
                session.add(UserRole(user_id=user.id, role_id=role_id,
                                     department_id=department_id))
                uow.commit()
                user_id = user.id
            username = session.get(User, user_id).username  # type: ignore[union-attr]
        return tokens.issue_token(self.services.new_uow(), SYSTEM, username=username,
                                  channel="portal").token

    def register(self) -> tuple[str, float, int]:
        """A new case through the API: its code, seconds and statements."""
        n = next(_numbers)
        body = {"category": "noise", "summary": "夜间施工噪声",
                "description": "小区旁工地夜间施工噪声扰民，影响老人休息。",
                "parties": [{"role": "applicant", "name": "刘淑芬",
                             "phone": f"138{n % 100_000_000:08d}", "contact_preference": "sms"}]}
        status, answer, seconds, statements = self.server.post(
            "/api/v1/cases", body, self.token("intake_clerk"))
        if status != 201:
            raise RuntimeError(f"registration answered {status}: {answer}")
        return answer["case_no"], seconds, statements

    def next_task(self, case_no: str) -> tuple[str, str, str]:
        """(task id, bpmn id, token) of the next open task of the case in FORMS order."""
        with self.services.session_factory() as session:
            case_id = session.scalar(select(Case.id).where(Case.case_no == case_no))
            rows = list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)))
            for row in sorted(rows, key=lambda r: list(FORMS).index(r.bpmn_id)
                              if r.bpmn_id in FORMS else len(FORMS)):
                if row.bpmn_id in FORMS:
                    user = session.get(User, row.assignee_id) if row.assignee_id else None
                    token = self.token(row.role or "", row.department_id,
                                       user.id if user is not None else None)
                    return row.task_id, row.bpmn_id, token
        raise RuntimeError(f"{case_no}: no open task the bench knows: {[r.bpmn_id for r in rows]}")

    def warm_up(self) -> None:
        """Serve a case's steps until the server is warm (web/serving.py froze its heap again
        after its first requests), as a server that has been running a while is."""
        from web.serving import WARM_REQUESTS

        case_no = self.register()[0]
        for _ in range(WARM_REQUESTS):
            self.complete(case_no)

    def complete(self, case_no: str) -> tuple[float, int]:
        task_id, bpmn_id, token = self.next_task(case_no)
        status, answer, seconds, statements = self.server.post(
            f"/api/v1/tasks/{task_id}/complete", FORMS[bpmn_id], token)
        if status != 200:
            raise RuntimeError(f"{case_no} {bpmn_id} answered {status}: {answer}")
        return seconds, statements


@contextmanager
def _database() -> Iterator[tuple[str, str, Path]]:
    url = os.environ.get("DATABASE_URL", "")
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    with tempfile.TemporaryDirectory() as folder, \
            scratch_database(url, Path(folder), "http_bench") as scoped:
        yield scoped, kind, Path(folder)


def run(sizes: tuple[int, ...] = (10, 50, 200), repeats: int = 30,
        echo: Callable[[str], None] = print) -> dict:
    """Measure; returns {"register": (median, p90, statements), n: (raw, http, p90, stmts, ratio)}."""
    results: dict = {}
    with _database() as (url, kind, folder):
        settings, services = _setup(url, folder)
        server = Server(settings)
        try:
            flow = Flow(services, server)
            flow.warm_up()     # caches, tokens, connections; the heap frozen
            registrations = [flow.register() for _ in range(repeats)]
            reg_ms, reg_p90 = _ms([seconds for _, seconds, _ in registrations])
            reg_statements = statistics.median(s for _, _, s in registrations)
            results["register"] = (reg_ms, reg_p90, reg_statements)
            echo(f"http flow on {kind}: registration to first task median {reg_ms:.1f} ms, "
                 f"p90 {reg_p90:.1f} ms, {reg_statements:.0f} statements")
            echo(f"{'tasks':>6} {'raw ms':>8} {'raw p90':>8} {'http ms':>8} {'http p90':>8} "
                 f"{'stmts':>6} {'ratio':>6}")
            case_no, done = flow.register()[0], 0
            for size in sizes:
                while done < size:
                    flow.complete(case_no)
                    done += 1
                raw_step, _ = raw_cycle(size)
                raw_samples, http_samples, statements = [], [], []
                for _ in range(repeats):
                    started = time.perf_counter()
                    raw_step()
                    raw_samples.append(time.perf_counter() - started)
                    seconds, count = flow.complete(case_no)
                    http_samples.append(seconds)
                    statements.append(count)
                done += repeats
                raw_ms, raw_p90 = _ms(raw_samples)
                http_ms, http_p90 = _ms(http_samples)
                per_step = statistics.median(statements)
                results[size] = (raw_ms, http_ms, http_p90, per_step, http_ms / raw_ms)
                echo(f"{size:>6} {raw_ms:>8.2f} {raw_p90:>8.2f} {http_ms:>8.2f} {http_p90:>8.2f} "
                     f"{per_step:>6.0f} {http_ms / raw_ms:>6.2f}")
            for size in sizes:
                echo(f"ratio http-step/raw at {size} tasks: {results[size][4]:.2f}")
            if len(sizes) > 1:
                first, last = sizes[0], sizes[-1]
                echo(f"growth http step {last} vs {first} tasks: "
                     f"{results[last][1] / results[first][1]:.2f}")
        finally:
            server.close()
            services.db.dispose()
    return results


if __name__ == "__main__":
    run()
