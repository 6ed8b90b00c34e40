"""Profile: where a server process spends its time on next + submit, in-process with cProfile.

Runs N rounds of POST /api/v1/work/next/ → POST /api/v1/work/assignments/{id}/submit/ through Django's
test client (the whole middleware and DRF stack, no network), on an OCR project of base64 PNG tasks with
2 answers per task, and prints the top functions by cumulative and by own time. Uses DATABASE_URL
(PostgreSQL for figures that mean anything); it creates its own client organization, members and project.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_bench DEBUG=true python benchmarks/profile_hot_path.py --rounds 300
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from marketplace_claiming import PROJECTS, setup_accounts  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300, help="answers to submit (2 members alternate, 2 answers per task)")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--dump", default="", help="also write the raw profile here (for pstats or snakeviz)")
    parser.add_argument("--plain", action="store_true",
                        help="no profiler: print only the process's CPU per round (one thread, so alternated runs of two "
                             "commits compare changes too small for the load benchmark's noise)")
    args = parser.parse_args()
    org_token, tokens = setup_accounts(2, deposit=str(0.11 * args.rounds + 10))
    from django.test import Client

    fields, rows, answer = PROJECTS["ocr"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {org_token}")
    created = client.post("/api/v1/projects/", {**fields, "pay_per_task": "0.0800", "estimated_seconds": 10, "overlap": 2,
                                               "max_overlap": 2, "agreement_target": "0.5", "gold_ratio": "0"},
                          content_type="application/json")
    project = created.json()["id"]
    body = "\n".join(json.dumps(row) for row in rows(args.rounds // 2 + 1))
    assert client.post(f"/api/v1/projects/{project}/tasks/", body, content_type="application/x-ndjson").status_code == 201
    assert client.post(f"/api/v1/projects/{project}/publish/").status_code == 200
    members = [Client(HTTP_AUTHORIZATION=f"Bearer {token}") for token in tokens]

    def one(member):
        lease = member.post("/api/v1/work/next/", {"project": project}, content_type="application/json").json()
        response = member.post(f"/api/v1/work/assignments/{lease['assignment']['id']}/submit/", {"answer": answer},
                               content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        assert response.status_code == 201, response.content

    for i in range(10):  # warm up
        one(members[i % 2])
    rounds = args.rounds - 10
    if args.plain:
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(rounds):
            one(members[i % 2])
        cpu, elapsed = time.process_time() - cpu_started, time.perf_counter() - started
        print(f"{rounds} next+submit rounds: {cpu / rounds * 1000:.2f} ms of this process's CPU per round "
              f"({elapsed / rounds * 1000:.2f} ms wall, PostgreSQL included)")
        return
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(rounds):
        one(members[i % 2])
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{rounds} next+submit rounds in {elapsed:.2f} s = {rounds / elapsed:.1f} answers/s in one process "
          f"({elapsed / rounds * 1000:.1f} ms per round, profiler on)")
    if args.dump:
        profiler.dump_stats(args.dump)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
