"""Benchmark: import N tasks through the API, then drive K concurrent members through next/submit.

Default: the hot-path workload of issue 16 — 600 OCR tasks as base64 PNGs, 2 answers per task, 8 members,
against a server this script starts (`gunicorn config.wsgi:application --workers 2 --worker-class gthread --threads 4`,
production's HTTP server) on DATABASE_URL:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_bench REDIS_URL=redis://127.0.0.1:6379/2 DEBUG=true
    python manage.py migrate
    python benchmarks/marketplace_claiming.py              # --count 5: prefetch five leases per next
    python benchmarks/marketplace_claiming.py --server uvicorn    # ASGI (what serves /ws/ in production)

Or against a running server (any mode), e.g. at scale:

    uvicorn config.asgi:application --port 8100 --workers 3 --no-access-log &
    python benchmarks/marketplace_claiming.py --url http://127.0.0.1:8100 --task-type classification --overlap 1 \\
        --tasks 100000 --workers 20 --duration 120 --server-pid $(pgrep -P $!)

It creates (through the services, with the same DATABASE_URL) a client organization with a token, K members
with personal tokens, and a contract and DUA the members ratify by vote, imports the tasks in one JSON Lines
request (streamed from a temporary file), deposits and publishes (which funds escrow), counts the statements
one claim, one plain submit and one consensus submit take in-process, and then K threads each loop
POST /work/next/ → POST /assignments/{id}/submit/ over keep-alive HTTP connections until the server answers
204. Every accepted answer is paid through the ledger in the submitting transaction, so submit latency
includes the earning posting. It prints import throughput, answers/s and p50/p95/p99 latency per call, the
server's peak RSS, the CPU each answer cost the server, PostgreSQL, Redis and the load generator, and checks the invariants (no double lease, overlap never exceeded, every accepted answer
paid once). Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def setup_accounts(workers: int, deposit: str) -> tuple[str, list[str]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from allauth.account.models import EmailAddress

    from coop import services
    from coop.models import User

    run = uuid.uuid4().hex[:8]
    organization = services.organization_create(actor=None, name=f"Benchmark {run}")
    org_token = services.api_token_create(actor=None, organization=organization, name="benchmark").plaintext
    tokens = []
    for i in range(workers):
        email = f"bench-{run}-{i}@example.org"
        user = User.objects.create_user(email=email, password=None)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        services.membership_apply(user=user, display_name=f"Bench {i}", country="KE", timezone_name="UTC")
        membership = services.membership_admit(membership=User.objects.get(pk=user.pk).membership, actor=None)
        services.membership_activate(membership=membership, actor=user, accept_agreement=True)
    # Publication needs a contract and DUA the members ratified: the first member acts as steward and all vote.
    from governance.demo import ensure_demo_agreements

    steward = User.objects.get(email=f"bench-{run}-0@example.org")
    services.membership_steward_set(membership=steward.membership, actor=None, is_steward=True)
    # Tokens last, after every membership change: a change tombstones the member's cached token for a while
    # (coop/token_cache.py), which would keep the first member off the cache during a short run.
    for i in range(workers):
        user = User.objects.get(email=f"bench-{run}-{i}@example.org")
        tokens.append(services.api_token_create(actor=None, user=user, name="benchmark").plaintext)
    ensure_demo_agreements(organization, User.objects.get(pk=steward.pk))
    # Publication moves pay for every planned answer plus the co-op's fee into escrow: the client deposits it first.
    from decimal import Decimal

    from marketplace.ledger.services import deposit_record

    deposit_record(organization=organization, amount=Decimal(deposit), reference=f"bench-{run}", recorded_by=User.objects.get(pk=steward.pk))
    return org_token, tokens


class Client:
    def __init__(self, url: str, token: str):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.token = token
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method, path, body=None, headers=None, content_type="application/json"):
        all_headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type, **(headers or {})}
        payload = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        for attempt in range(3):
            try:
                self.connection.request(method, path, body=payload, headers=all_headers)
                response = self.connection.getresponse()
                data = response.read()
                return response.status, response.headers, data
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mb(pids: list[int]) -> float | None:
    """The largest peak resident set size among the server processes, in MiB."""
    peaks = []
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            peaks += [int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")]
    return max(peaks) if peaks else None


def tree_rss_mb(roots: list[int]) -> float:
    """Resident memory now of these processes and all their descendants (the import's image workers), in MiB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                continue
    total, todo, seen = 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as status:
                total += sum(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except OSError:
            continue
    return total / 1024


class TreeRssSampler(threading.Thread):
    """The largest total resident memory of a process tree, sampled every 0.1 s while it runs."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.peak, self.stopped = roots, 0.0, threading.Event()

    def run(self):
        while not self.stopped.wait(0.1):
            self.peak = max(self.peak, tree_rss_mb(self.roots))


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far, in seconds (from /proc; vanished processes count 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def pids_named(*names: str) -> list[int]:
    """Every process whose command name is one of these (PostgreSQL's backends, the Redis server)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() in names:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def cpu_split(server_pids: list[int]) -> dict[str, float]:
    """CPU seconds so far of the server processes, PostgreSQL, Redis and this load generator."""
    return {
        "server": cpu_seconds(server_pids),
        "PostgreSQL": cpu_seconds(pids_named("postgres")),
        "Redis": cpu_seconds(pids_named("redis-server")),
        "load generator": cpu_seconds([os.getpid()]),
    }


def ocr_rows(n: int):
    """N small real PNGs (4 digits drawn on each) as base64 JSON Lines rows: the issue's OCR workload."""
    import base64
    import io

    from PIL import Image, ImageDraw

    for i in range(n):
        image = Image.new("L", (160, 60), 255)
        ImageDraw.Draw(image).text((40, 22), f"{i % 10000:04d}", fill=0)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        yield {"external_id": f"img{i}", "data": {"image": base64.b64encode(buffer.getvalue()).decode()}}


def text_rows(n: int):
    for i in range(n):
        yield {"external_id": f"t{i}", "data": {"text": f"Review number {i}: it was fine."}}


PROJECTS = {
    "ocr": ({"task_type": "ocr", "title": "Benchmark CAPTCHAs", "instructions": "Type the four digits."}, ocr_rows, {"text": "1234"}),
    "classification": (
        {"task_type": "classification", "title": "Benchmark sentiment", "instructions": "Pick the sentiment.",
         "choices": ["positive", "negative", "neutral"]},
        text_rows,
        {"choice": "positive"},
    ),
}


def serve(processes: int, port: int, kind: str = "uvicorn", threads: int = 4) -> subprocess.Popen:
    """Start the server under test with `processes` worker processes: uvicorn (ASGI, what serves HTTP and WebSockets
    together) or gunicorn (WSGI, threaded workers: the production split serves HTTP this way, /ws/ with uvicorn)."""
    if kind == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
                   str(processes), "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port), "--workers", str(processes),
                   "--no-access-log", "--log-level", "warning"]
    # As in production, DEBUG is off in the server (on, Django keeps and formats every query: ~6 % of its CPU here);
    # DEBUG off needs the two keys, so a run without them gets throwaway ones.
    env = {**os.environ, "DEBUG": "false"}
    for key in ("SECRET_KEY", "PSEUDONYM_KEY"):
        env.setdefault(key, f"benchmark-only-{key.lower()}-{uuid.uuid4().hex}{uuid.uuid4().hex}")
    server = subprocess.Popen(command, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), start_new_session=True, env=env)
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(2)  # every worker process up
    return server


def server_pids(server: subprocess.Popen) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in children] or [server.pid]


def check_invariants(project_id: int) -> list[str]:
    """What must hold after any run: no double lease, overlap never exceeded, every accepted answer paid once."""
    from django.db.models import Count, F

    from marketplace.ledger.models import LedgerTransaction
    from marketplace.models import Answer, Assignment, Task

    problems = []
    doubled = Assignment.objects.filter(project_id=project_id).values("task_id", "worker_id").annotate(n=Count("id")).filter(n__gt=1)
    if doubled.exists():
        problems.append(f"{doubled.count()} (task, member) pairs leased twice")
    over = Task.objects.filter(project_id=project_id, assigned_count__gt=F("required_answers")).count()
    if over:
        problems.append(f"{over} tasks over their overlap")
    live = Assignment.objects.filter(project_id=project_id, state="leased").values("worker_id").annotate(n=Count("id")).filter(n__gt=1)
    if live.exists():
        problems.append(f"{live.count()} members holding two live leases")
    accepted = Answer.objects.filter(task__project_id=project_id, status="accepted").count()
    paid = LedgerTransaction.objects.filter(project_id=project_id, kind="earning").count()
    if accepted != paid:
        problems.append(f"{accepted} accepted answers but {paid} earnings")
    return problems


def queries_per_operation(task_type: str) -> tuple[dict[str, dict[str, int]], int]:
    """Queries one claim, one plain submit and one submit that reaches consensus and pays take, measured in-process:
    at a member's first contact (counters and ledger accounts are created) and again once they exist (what every
    later answer costs, and what tests/marketplace/test_hot_path.py pins). Like the tests, it leaves out transaction
    control (BEGIN, COMMIT, SAVEPOINT, RELEASE). Returns the counts and the answers given."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

    def statements(captured) -> int:
        return sum(1 for query in captured.captured_queries if not query["sql"].upper().startswith(control))

    reset_queries()  # a full query log (9,000 entries after a long setup) would count every operation as 0

    from coop.models import User
    from marketplace.models import Project
    from marketplace.services import claiming, submission

    project = Project.objects.filter(task_type=task_type, title__startswith="Benchmark", status="published").latest("pk")
    workers = list(User.objects.filter(email__startswith="bench-", membership__status="active").order_by("-pk")[:2])
    answer = PROJECTS[task_type][2]
    counts, answered = {}, 0
    for round_name in ("first contact", "steady state"):
        round_counts = counts[round_name] = {}
        for name, worker in (("plain submit", workers[0]), ("submit + consensus + pay", workers[1])):
            with CaptureQueriesContext(connection) as claim_queries:
                lease = claiming.work_next(worker=worker, project=project).assignment
            if lease is None:
                return counts, answered
            with CaptureQueriesContext(connection) as submit_queries:
                submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload=answer, idempotency_key=uuid.uuid4().hex)
            answered += 1
            round_counts["claim"] = statements(claim_queries)
            round_counts[name] = statements(submit_queries)
    return counts, answered


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="", help="a running server; without it the benchmark starts its own (see --processes)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes when the benchmark starts the server")
    parser.add_argument("--server", choices=["uvicorn", "gunicorn"], default="gunicorn",
                        help="the server it starts: gunicorn (WSGI, gthread workers; production's HTTP) or uvicorn (ASGI)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker process")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--task-type", choices=sorted(PROJECTS), default="ocr")
    parser.add_argument("--tasks", type=int, default=600)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--count", type=int, default=1, help="leases asked for per POST /work/next/ (prefetch, at most 5)")
    parser.add_argument("--server-pid", type=int, nargs="*", default=[], help="server process ids: report their largest peak RSS (VmHWM)")
    parser.add_argument("--duration", type=float, default=0, help="stop the workers after this many seconds (0: until no work is left)")
    args = parser.parse_args()

    server = None
    if not args.url:
        server = serve(args.processes, args.port, args.server, args.threads)
        args.url = f"http://127.0.0.1:{args.port}"
        args.server_pid = server_pids(server)
    try:
        run(args)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def run(args):
    print(f"Setting up 1 client and {args.workers} members…", flush=True)
    # 0.0800 per answer (the demo rate card asks 0.07 for OCR) + a fee of at most 30 %, for every planned answer.
    from decimal import Decimal

    org_token, worker_tokens = setup_accounts(args.workers, deposit=str(Decimal("0.11") * args.tasks * args.overlap + 1))
    client = Client(args.url, org_token)
    fields, rows, answer = PROJECTS[args.task_type]
    status, _, body = client.request(
        "POST",
        "/api/v1/projects/",
        {
            **fields,
            "pay_per_task": "0.0800",
            "estimated_seconds": 10,
            "overlap": args.overlap,
            "max_overlap": args.overlap,
            "agreement_target": "0.5",
            "gold_ratio": "0",
        },
    )
    assert status == 201, body
    project_id = json.loads(body)["id"]

    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        for row in rows(args.tasks):
            handle.write(json.dumps(row).encode() + b"\n")
        path = handle.name
    size = os.path.getsize(path)
    rss_before = peak_rss_mb(args.server_pid)
    sampler = TreeRssSampler(args.server_pid)
    sampler.start()
    started = time.perf_counter()
    with open(path, "rb") as body_file:
        connection = http.client.HTTPConnection(client.host, client.port, timeout=3600)
        connection.request(
            "POST",
            f"/api/v1/projects/{project_id}/tasks/",
            body=body_file,
            headers={"Authorization": f"Bearer {org_token}", "Content-Type": "application/x-ndjson", "Content-Length": str(size)},
        )
        response = connection.getresponse()
        result = response.read()
    import_seconds = time.perf_counter() - started
    sampler.stopped.set()
    os.unlink(path)
    assert response.status == 201, result[:2000]
    print(f"Imported {args.tasks:,} {args.task_type} tasks ({size / 2**20:.1f} MiB JSON Lines) in {import_seconds:.1f} s "
          f"= {args.tasks / import_seconds:,.0f} tasks/s", flush=True)
    rss_after = peak_rss_mb(args.server_pid)
    if rss_after is not None:
        print(f"Server peak RSS: {rss_before:.0f} MiB before import, {rss_after:.0f} MiB after; during the import, all "
              f"server processes and their image workers together: {sampler.peak:.0f} MiB at most", flush=True)
    status, _, body = client.request("POST", f"/api/v1/projects/{project_id}/publish/")
    assert status == 200, body

    # Two of the members answer the first two tasks in-process first, counting queries; the load run does the rest.
    counts, answered = queries_per_operation(args.task_type)
    for round_name, round_counts in counts.items():
        print(f"Queries per operation (service level, in-process), {round_name}:", round_counts, flush=True)
    latencies = {"next": [], "submit": []}
    done = [answered]
    errors = []
    lock = threading.Lock()
    next_body = {"project": project_id} | ({"count": args.count} if args.count > 1 else {})

    def work(token):
        worker = Client(args.url, token)
        local = {"next": [], "submit": []}
        count = 0
        try:
            while not (args.duration and time.perf_counter() - started > args.duration):
                t0 = time.perf_counter()
                status, headers, body = worker.request("POST", "/api/v1/work/next/", next_body)
                local["next"].append(time.perf_counter() - t0)
                if status == 204:
                    break
                if status != 200:
                    raise RuntimeError(f"next: HTTP {status} {body[:300]!r}")
                work = json.loads(body)
                for item in work.get("leases", [work]):  # with count > 1: every lease handed out, in order
                    t0 = time.perf_counter()
                    status, _, body = worker.request(
                        "POST",
                        f"/api/v1/work/assignments/{item['assignment']['id']}/submit/",
                        {"answer": answer, "active_seconds": 8},
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    local["submit"].append(time.perf_counter() - t0)
                    if status not in (200, 201):
                        raise RuntimeError(f"submit: HTTP {status} {body[:300]!r}")
                    count += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        with lock:
            done[0] += count
            for key in local:
                latencies[key].extend(local[key])

    print(f"Driving {args.workers} members through next/submit…", flush=True)
    cpu_before = cpu_split(args.server_pid)
    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(token,)) for token in worker_tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu_after = cpu_split(args.server_pid)
    if errors:
        print(f"{len(errors)} worker(s) failed; first error: {errors[0]}", file=sys.stderr)
    expected = args.tasks * args.overlap
    print(f"Answered {done[0]:,} of {expected:,} task slots in {elapsed:.1f} s = {done[0] / elapsed:,.1f} answers/s"
          + (f" (stopped after {args.duration:.0f} s)" if args.duration else ""))
    pairs = [n + s for n, s in zip(latencies["next"], latencies["submit"])] if args.count == 1 else []
    for key, values in list(latencies.items()) + ([("next+submit", pairs)] if pairs else []):
        print(
            f"  {key:>11}: n={len(values):,}  p50={percentile(values, 50) * 1000:.1f} ms  "
            f"p95={percentile(values, 95) * 1000:.1f} ms  p99={percentile(values, 99) * 1000:.1f} ms  "
            f"mean={statistics.fmean(values) * 1000 if values else float('nan'):.1f} ms"
        )
    if done[0]:
        spent = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
        print("  CPU per answer: " + ", ".join(f"{name} {seconds * 1000 / done[0]:.1f} ms" for name, seconds in spent.items())
              + f"; {sum(spent.values()) / elapsed:.2f} of {os.cpu_count()} cores busy")
    if rss_after is not None:
        print(f"Server peak RSS at the end: {peak_rss_mb(args.server_pid):.0f} MiB")
    problems = check_invariants(project_id)
    print("Invariants: " + ("; ".join(problems) if problems else "no double lease, overlap never exceeded, every accepted answer paid"))
    sys.exit(1 if errors or problems or (not args.duration and done[0] != expected) else 0)


if __name__ == "__main__":
    main()
