"""Benchmark: stream every individual answer (and the preference pairs) of a large project, in constant memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_bench python benchmarks/answer_export.py --answers 1000000
    python benchmarks/answer_export.py --answers 200000          # a throwaway SQLite file

It migrates the database, bulk-inserts a pairwise project with answers/2 tasks and two answers each (setup only:
the benchmark measures the export, not the import), then consumes the same iterators the API streams
(`dataset_exports.answer_rows` through `coop.exports.jsonl_lines`, and `preference_rows`) and prints the time
to the first byte, rows per second, megabytes written and the growth of the process's resident memory during
the export (sampled every 10,000 rows). Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def setup(answers: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from coop import services
    from coop.models import User
    from marketplace.models import Answer, Assignment, Project, Task

    organization = services.organization_create(actor=None, name=f"Export bench {int(time.time())}")
    project = Project.objects.create(
        organization=organization, title="Export bench", instructions="Pick one.", task_type="pairwise",
        pay_per_task="0.20", estimated_seconds=30, overlap=2, max_overlap=2, status="published",
    )
    workers = [User.objects.create_user(email=f"bench-{project.pk}-{i}@example.org", password=None) for i in range(50)]
    now, batch, tasks_total = timezone.now(), 5000, answers // 2
    started = time.perf_counter()
    for first in range(0, tasks_total, batch):
        tasks = Task.objects.bulk_create(
            Task(project=project, external_id=f"t{i}", data={"prompt": f"Question {i}?", "response_a": "A long enough answer.",
                 "response_b": "Another answer."}, required_answers=2, assigned_count=2, answer_count=2, state="full")
            for i in range(first, min(first + batch, tasks_total))
        )
        assignments = Assignment.objects.bulk_create(
            Assignment(task=task, project=project, worker=workers[(task.pk + k) % len(workers)], state="submitted",
                       leased_at=now, expires_at=now, ended_at=now)
            for task in tasks for k in range(2)
        )
        Answer.objects.bulk_create(
            Answer(assignment=a, task_id=a.task_id, worker_id=a.worker_id, payload={"preferred": "a", "reason": ""}, value="a",
                   idempotency_key=str(a.pk), status="accepted", submitted_at=now, active_seconds=25)
            for a in assignments
        )
    print(f"setup: {tasks_total:,} tasks, {answers:,} answers in {time.perf_counter() - started:.0f} s")
    return project


def measure(name: str, lines) -> None:
    before, peak, rows, size = rss_mb(), 0.0, 0, 0
    started = time.perf_counter()
    first_byte = None
    for line in lines:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(line)
        rows += 1
        if rows % 10_000 == 0:
            peak = max(peak, rss_mb() - before)
    elapsed = time.perf_counter() - started
    print(
        f"{name}: {rows:,} rows, first byte {first_byte:.3f} s, {rows / elapsed:,.0f} rows/s, {size / 1e6:,.0f} MB, "
        f"resident memory +{max(peak, rss_mb() - before):.0f} MB during the export"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    project = setup(args.answers)
    from coop.exports import jsonl_lines
    from marketplace import dataset_exports

    measure("answers (JSON Lines)", jsonl_lines(dataset_exports.answer_rows(project=project)))
    measure("preference pairs from answers", jsonl_lines(dataset_exports.preference_rows(project=project, source="answers")))


if __name__ == "__main__":
    main()
