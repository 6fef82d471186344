"""12345 pushes at a sustained rate against a multi-threaded server: accepted per second, p95
latency, and a count proving that every accepted order became exactly one case or link.

    python benchmarks/bench_hotline.py --url postgresql+psycopg://postgres@127.0.0.1:5432/DB \
        [--rate 20] [--seconds 30] [--threads 8] [--clients 16] [--repeat 0.1] [--unmapped 0.05]

The orders go into a scratch schema that is dropped afterwards. The server is waitress with
``--threads`` worker threads (the production server) in this process, serving the real app with
its own services; the senders are ``--clients`` threads that push open-loop at ``--rate`` orders a
second: each order is due at t0 + i / rate whatever the answers before it, so a slow server shows
as latency, not as a lower offered rate. A share ``--repeat`` of the pushes re-delivers an earlier
order (the hotline retrying), a share ``--unmapped`` carries a 诉求类型 without a mapping
(quarantined), and one caller in ten reports again about the same matter (linked as duplicate).
Not a timed test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.crypto import Keyring  # noqa: E402
from engine.db import make_engine  # noqa: E402
from workflows.channels import mapping  # noqa: E402
from workflows.channels.signing import issue_secret, sign  # noqa: E402
from workflows.core.actors import SYSTEM  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.models import ChannelOrder, Submission  # noqa: E402
from workflows.people.departments import seed_reference_data  # noqa: E402
from workflows.processes.deploy import deploy_bundle, read_directory  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402

PATH = "/api/v1/channels/hotline_12345/orders"
CATEGORIES = {"物业服务": "property", "邻里矛盾": "neighbour", "劳资纠纷": "labour"}


def _schema(url: str) -> tuple[str, str]:
    schema = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def _setup(url: str, folder: Path) -> tuple[Settings, str]:
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
    for source, category in CATEGORIES.items():
        mapping.save_mapping(services.new_uow(), SYSTEM, "hotline_12345", source, category)
    secret = issue_secret(services.new_uow(), SYSTEM, "hotline_12345")
    services.db.dispose()
    return settings, secret


def _serve(settings: Settings, threads: int):
    from waitress import create_server

    from web import create_app

    server = create_server(create_app(settings), host="127.0.0.1", port=0, threads=threads)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def _order(n: int, rng: random.Random, unmapped: float) -> dict:
    caller = rng.randrange(0, 10) == 0 and n > 20          # one in ten: a caller again
    phone = f"139{(n // 7 if caller else n) % 100_000_000:08d}"
    text_ = "城市管理" if rng.random() < unmapped else rng.choice(list(CATEGORIES))
    received = datetime.now(UTC) - timedelta(minutes=rng.randrange(1, 600))
    return {"order_no": f"B-{n:07d}", "received_at": received.isoformat(),
            "category_text": text_, "content": f"第{n}号工单：楼道堆物影响通行，请协调处理。",
            "caller": {"name": "王" + "甲乙丙丁戊己庚辛"[n % 8] + "明", "phone": phone},
            "address": f"测试路{n % 50}号"}


def _push(base: str, secret: str, body: dict) -> tuple[int, float, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(base + PATH, data=raw, method="POST", headers={
        "Content-Type": "application/json", "X-Jiefen-Timestamp": stamp,
        "X-Jiefen-Signature": sign(secret, stamp, raw)})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, {}
    return status, time.perf_counter() - started, answer


def run(args: argparse.Namespace) -> None:
    url, schema = _schema(args.url)
    with tempfile.TemporaryDirectory() as folder:
        try:
            settings, secret = _setup(url, Path(folder))
            server, base = _serve(settings, args.threads)
            rng = random.Random(7)
            total = int(args.rate * args.seconds)
            sent: list[dict] = []
            plan = []
            for _push_index in range(total):
                if sent and rng.random() < args.repeat:
                    plan.append(rng.choice(sent))       # the hotline delivers an order again
                else:
                    sent.append(_order(len(sent), rng, args.unmapped))
                    plan.append(sent[-1])
            results: list[tuple[str, int, float, dict]] = []
            lock = threading.Lock()
            t0 = time.perf_counter()

            def send(index: int) -> None:
                delay = t0 + index / args.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                status, seconds, answer = _push(base, secret, plan[index])
                with lock:
                    results.append((plan[index]["order_no"], status, seconds, answer))

            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(send, range(total)))
            elapsed = time.perf_counter() - t0
            server.close()
            _report(args, settings, results, elapsed, total)
        finally:
            engine = make_engine(args.url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


def _report(args, settings: Settings, results, elapsed: float, total: int) -> None:
    statuses = Counter(status for _no, status, _s, _a in results)
    latencies = sorted(seconds for _no, status, seconds, _a in results if status in (201, 202))
    accepted = statuses[201] + statuses[202]
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    answers: dict[str, set] = {}
    for order_no, status, _s, answer in results:
        answers.setdefault(order_no, set()).add((status, json.dumps(answer, sort_keys=True)))
    registered = {no for no, seen in answers.items() if any(s == 201 for s, _ in seen)}
    quarantined = {no for no, seen in answers.items() if any(s == 202 for s, _ in seen)}
    consistent = all(len(seen) == 1 for seen in answers.values())
    services = bootstrap(settings)
    with services.new_uow() as uow:
        rows = dict(uow.session.execute(select(ChannelOrder.order_no, ChannelOrder.case_id)
                                        .where(ChannelOrder.status == "registered")).all())
        queued = set(uow.session.scalars(select(ChannelOrder.order_no).where(
            ChannelOrder.status == "quarantined")))
        links = Counter(uow.session.scalars(select(Submission.channel_ref).where(
            Submission.channel == "hotline_12345")))
        kinds = Counter(uow.session.scalars(select(Submission.linked_as).where(
            Submission.channel == "hotline_12345")))
        cases = uow.session.scalar(select(func.count(func.distinct(Submission.case_id))).where(
            Submission.channel == "hotline_12345"))
    exactly_once = (set(rows) == registered and all(links[no] == 1 for no in registered)
                    and sum(links.values()) == len(registered) and queued == quarantined)
    print(f"offered {total} pushes in {elapsed:.1f} s at {args.rate}/s target "
          f"({args.clients} clients, waitress {args.threads} threads, PostgreSQL)")
    print(f"answers: {dict(sorted(statuses.items()))}")
    print(f"accepted (201 + 202): {accepted} = {accepted / elapsed:.1f}/s; "
          f"latency p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
    print(f"distinct orders: {len(answers)}; registered {len(registered)} "
          f"({dict(kinds)} over {cases} cases), quarantined {len(quarantined)}")
    print(f"repeats answered identically: {consistent}; every registered order is exactly one "
          f"case or link and every quarantined one one entry: {exactly_once}")


def main() -> None:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)   # "task queue depth" lines
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="PostgreSQL URL")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--repeat", type=float, default=0.1)
    parser.add_argument("--unmapped", type=float, default=0.05)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
