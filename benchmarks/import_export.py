"""Benchmark: import N base64-PNG OCR tasks, then export a project of M accepted labels (results and answers).

    createdb -h 127.0.0.1 -U postgres bench_io
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_io
    DEBUG=true python manage.py migrate
    DEBUG=true python benchmarks/import_export.py --tasks 100000 --labels 1000000
    DEBUG=true python benchmarks/import_export.py --tasks 20000 --labels 0 --profile import   # cProfile of the import

Setup goes through the services (benchmarks/marketplace_claiming.setup_accounts: a client organization, members,
a contract and DUA they ratify, a deposit; projects.project_create). The import writes N JSON Lines rows with small
PNGs drawn by Pillow (the `captcha` package draws the first few, so real CAPTCHA files are among them) to a temporary
file, then times `importing.tasks_import` reading it exactly as the API does, and prints tasks/s and the peak resident
memory of this process during the import (VmHWM, reset before it starts) and of any pool workers it used.

The export inserts M tasks, assignments, answers, accepted labels and their label-answer links with a few
INSERT … SELECT generate_series statements (setup, not measured), then consumes the response bodies the API streams:
`apis.results_stream` (the results export: accepted labels as JSON Lines) and `apis_datasets.answers_stream` (every
answer), whose JSON PostgreSQL builds, then the same rows built in Python (the path SQLite takes), and prints the time
to the first byte (from export_begin) and rows/s.
Images go to a temporary MEDIA_ROOT that is removed at the end. Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def rss_reset() -> None:
    """Reset this process's peak resident set size (VmHWM), so the next reading is the peak from now on."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def rss_peak_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))


def png_images(distinct: int) -> list[str]:
    """`distinct` small PNGs as base64: a few CAPTCHAs (the captcha package), the rest text drawn by Pillow."""
    from PIL import Image, ImageDraw

    images = []
    try:
        from captcha.image import ImageCaptcha

        captcha = ImageCaptcha(width=128, height=48)
        for i in range(min(20, distinct)):
            images.append(base64.b64encode(captcha.generate(f"{i:04d}", format="png").getvalue()).decode())
    except ImportError:
        pass
    while len(images) < distinct:
        image = Image.new("L", (128, 48), 255)
        ImageDraw.Draw(image).text((8, 16), f"k{len(images):05d}x", fill=0)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        images.append(base64.b64encode(buffer.getvalue()).decode())
    return images


def profiled(enabled: bool, function, *args, **kwargs):
    if not enabled:
        return function(*args, **kwargs)
    profile = cProfile.Profile()
    try:
        return profile.runcall(function, *args, **kwargs)
    finally:
        stats = pstats.Stats(profile, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(18)


def bench_import(organization, tasks: int, distinct: int, profile: bool) -> None:
    from marketplace.models import Task
    from marketplace.services import importing, projects

    project = projects.project_create(
        organization=organization, task_type="ocr", title="Import bench", instructions="Type what you see.",
        pay_per_task="0.07", estimated_seconds=10, overlap=2, max_overlap=2, gold_ratio="0",
    )
    images = png_images(distinct)
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        for i in range(tasks):
            handle.write(json.dumps({"external_id": f"img-{i}", "data": {"image": images[i % distinct]}}).encode() + b"\n")
        path = handle.name
    size = os.path.getsize(path)
    del images
    rss_reset()
    cpu = cpu_seconds()
    started = time.perf_counter()
    with open(path, "rb") as body:
        report = profiled(profile, importing.tasks_import, project=project, rows=importing.iter_jsonl_rows(iter(body.readline, b"")))
    elapsed = time.perf_counter() - started
    peak = rss_peak_mb()
    os.unlink(path)
    assert report.imported == tasks == Task.objects.filter(project=project).count(), report
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"import: {tasks:,} OCR tasks ({size / 2**20:.0f} MiB JSON Lines, {distinct:,} distinct PNGs) in {elapsed:.1f} s "
        f"= {tasks / elapsed:,.0f} tasks/s, {cpu_seconds() - cpu:.1f} s CPU here; peak RSS {peak:.0f} MiB (this process)"
        + (f", {children:.0f} MiB (largest pool worker)" if children else ""),
        flush=True,
    )


def build_labels(organization, workers: list[int], labels: int):
    """A published-looking OCR project with `labels` accepted tasks, one answer each, in bulk SQL (setup only)."""
    from django.db import connection

    from marketplace.services import projects

    project = projects.project_create(
        organization=organization, task_type="ocr", title="Export bench", instructions="Type what you see.",
        pay_per_task="0.07", estimated_seconds=10, overlap=1, max_overlap=1, gold_ratio="0",
    )
    started = time.perf_counter()
    params = {"project": project.pk, "n": labels, "workers": workers}
    statements = [
        """INSERT INTO marketplace_task (external_id, data, image, gold, is_gold, state, assigned_count, answer_count,
               required_answers, created_at, project_id, content_hash)
           SELECT 'img-' || g, '{}'::jsonb, 'tasks/bench/' || g || '.png', NULL, g %% 50 = 0, 'accepted', 1, 1, 1,
               now() - interval '2 days', %(project)s, md5(g::text)
           FROM generate_series(1, %(n)s) g""",
        """INSERT INTO marketplace_assignment (state, is_gold, slot, leased_at, expires_at, active_seconds, ended_at, worker_id,
               project_id, task_id)
           SELECT 'submitted', t.is_gold, 0, now() - interval '1 day', now(), 9, now(),
               (%(workers)s::bigint[])[1 + t.id %% cardinality(%(workers)s::bigint[])], %(project)s, t.id
           FROM marketplace_task t WHERE t.project_id = %(project)s""",
        """INSERT INTO marketplace_answer (payload, value, idempotency_key, status, agrees_with_label, gold_correct,
               active_seconds, prefilled, edited, submitted_at, decided_at, appeal_status, appeal_reason, worker_id,
               assignment_id, task_id)
           SELECT jsonb_build_object('text', 'k' || a.task_id), 'k' || a.task_id, 'bench-' || a.id, 'accepted', true, NULL,
               9, '', NULL, now() - interval '1 day' + a.id * interval '1 millisecond',
               now() - interval '1 day' + a.id * interval '1 millisecond', '', '', a.worker_id, a.id, a.task_id
           FROM marketplace_assignment a WHERE a.project_id = %(project)s""",
        """INSERT INTO marketplace_acceptedlabel (value, label, agreement, method, accepted_at, reviewer_id, project_id, task_id)
           SELECT an.value, an.payload, 1.000, 'consensus', an.decided_at, NULL, %(project)s, an.task_id
           FROM marketplace_answer an JOIN marketplace_task t ON t.id = an.task_id WHERE t.project_id = %(project)s""",
        """INSERT INTO marketplace_acceptedlabel_answers (acceptedlabel_id, answer_id)
           SELECT l.id, an.id FROM marketplace_acceptedlabel l JOIN marketplace_answer an ON an.task_id = l.task_id
           WHERE l.project_id = %(project)s""",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
        cursor.execute("ANALYZE marketplace_task, marketplace_assignment, marketplace_answer, marketplace_acceptedlabel, "
                       "marketplace_acceptedlabel_answers")
    print(f"setup: {labels:,} tasks, answers and accepted labels in {time.perf_counter() - started:.0f} s", flush=True)
    return project


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_stream(name: str, start, profile: bool) -> None:
    def consume():
        started = time.perf_counter()
        first_byte, rows, size = None, 0, 0
        for chunk in start():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            rows += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        return first_byte, rows, size, time.perf_counter() - started

    rss_reset()
    cpu = cpu_seconds()
    first_byte, rows, size, elapsed = profiled(profile, consume)
    print(
        f"{name}: {rows:,} rows, first byte {first_byte:.3f} s, {rows / elapsed:,.0f} rows/s, {size / 1e6:,.0f} MB, "
        f"peak RSS {rss_peak_mb():.0f} MiB, {cpu_seconds() - cpu:.1f} s CPU here in {elapsed:.1f} s",
        flush=True,
    )


def bench_export(organization, labels: int, profile: bool, reuse: int | None) -> None:
    from django.db import connection

    from coop.exports import in_blocks, jsonl_lines
    from coop.models import User
    from marketplace import apis, apis_datasets, dataset_exports
    from marketplace.services import exports

    workers = list(User.objects.filter(membership__isnull=False).order_by("-pk").values_list("pk", flat=True)[:8])
    if reuse:
        from marketplace.models import Project

        project = Project.objects.select_related("organization").get(pk=reuse, title="Export bench")
    else:
        project = build_labels(organization, workers, labels)

    def results():
        entry = exports.export_begin(project=project, purpose="model_training")
        return apis.results_stream(project=project, fmt="jsonl", entry=entry).streaming_content

    def answers():
        entry = exports.export_begin(project=project, purpose="model_training")
        return apis_datasets.answers_stream(project=project, fmt="jsonl", entry=entry).streaming_content

    def in_python(rows):  # the rows built in Python (label_rows/answer_rows, json.dumps): the path SQLite takes
        def start():
            entry = exports.export_begin(project=project, purpose="model_training")
            return in_blocks(jsonl_lines(exports.export_rows_counted(rows(project=project), entry=entry)))
        return start

    measure_stream("results export (accepted labels, JSON Lines)", results, profile)
    measure_stream("answers export (every answer, JSON Lines)", answers, profile)
    if connection.vendor == "postgresql":
        measure_stream("  the same results built in Python", in_python(dataset_exports.label_rows), profile)
        measure_stream("  the same answers built in Python", in_python(dataset_exports.answer_rows), profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="OCR tasks to import (0: skip the import)")
    parser.add_argument("--distinct", type=int, default=2_000, help="distinct PNGs among the imported tasks")
    parser.add_argument("--labels", type=int, default=1_000_000, help="accepted labels to export (0: skip the export)")
    parser.add_argument("--export-project", type=int, help="export this earlier run's Export bench project (skip building it)")
    parser.add_argument("--profile", choices=["import", "export"], help="run that part under cProfile and print the top functions")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("warning: not PostgreSQL; the targets are for PostgreSQL", file=sys.stderr)
    media_root = os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-media-")  # here: pool workers import this module
    from benchmarks.marketplace_claiming import setup_accounts

    try:
        setup_accounts(3, deposit="1")
        from coop.models import ClientOrganization

        organization = ClientOrganization.objects.filter(name__startswith="Benchmark ").latest("pk")
        from django.db import connection

        print(f"database: {connection.vendor} {connection.cursor().connection.info.server_version if connection.vendor == 'postgresql' else ''}"
              f", {os.cpu_count()} CPU cores", flush=True)
        if args.tasks:
            bench_import(organization, args.tasks, args.distinct, args.profile == "import")
        if args.labels:
            bench_export(organization, args.labels, args.profile == "export", args.export_project)
    finally:
        shutil.rmtree(media_root, ignore_errors=True)


if __name__ == "__main__":
    main()
