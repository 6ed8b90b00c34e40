"""Bulk task import: JSON ({"tasks": [...]}) or JSON Lines, streamed, in bounded memory, all or nothing.

Rows are parsed one at a time (ijson for JSON, line by line for JSON Lines) and validated, then go in
order through batches of at most BATCH_SIZE rows (and BATCH_IMAGE_BYTES of base64): a batch's images
are decoded, verified with Pillow and written to their files by a pool of worker processes
(image_checks.check_images; at most MAX_IN_FLIGHT batches are out at once, so memory stays bounded
at any size), and the batch's tasks are inserted with one COPY on PostgreSQL (bulk_create elsewhere),
all inside one transaction. An import smaller than one batch is checked in this process: no pool.

Any bad row or duplicate external_id rolls the whole import back, deletes the images already written,
and reports every problem (up to a cap) with its line or row number: refused rows in line order, batch by
batch, then the batch's duplicates. Duplicates are
found by the database's unique constraint per batch, so memory does not grow with the size of the import.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

import ijson
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, connection, transaction

from coop import parsers, validation
from coop.errors import ApplicationError, Conflict
from marketplace.error_codes import MarketplaceErrorCode

from .. import image_checks
from ..image_checks import IMAGE_FORMATS
from ..models import Project, Task
from ..task_types import gold_value, task_content_hash, validate_task_data

BATCH_SIZE = 1000
SAVED_NAMES_IN_MEMORY = 1 << 20  # bytes of written file names kept in memory before they go to a temporary file
BATCH_IMAGE_BYTES = 16 * 2**20  # base64 held per batch: a batch of large images closes early
MAX_ERRORS = 100
MAX_EXTERNAL_ID = 200
IMAGE_WORKERS = max(1, min(4, os.cpu_count() or 1))
MAX_IN_FLIGHT = IMAGE_WORKERS + 1  # batches out at the pool: every worker busy, one waiting, memory bounded


@dataclass
class ImportReport:
    imported: int = 0
    gold: int = 0
    errors: list[dict] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    error_count: int = 0


def iter_json_rows(stream) -> Iterator[tuple[int, object]]:
    """Rows of {"tasks": [...]}, numbered from 1, parsed incrementally."""
    try:
        for index, row in enumerate(ijson.items(stream, "tasks.item", use_float=True), start=1):
            yield index, row
    except ijson.JSONError as exc:
        raise ApplicationError(f"Malformed JSON: {exc}", code=MarketplaceErrorCode.MALFORMED_JSON) from exc
    except UnicodeDecodeError as exc:  # invalid UTF-8, or an escaped lone surrogate (ijson's C backend cannot decode it)
        raise ApplicationError(f"Malformed JSON: not valid Unicode ({exc.reason}); lone surrogates are refused.", code=MarketplaceErrorCode.MALFORMED_JSON) from None


def iter_jsonl_rows(stream) -> Iterator[tuple[int, object]]:
    """Rows of JSON Lines, numbered by line; blank lines are skipped; a bad line is reported, not fatal to parsing."""
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            # The platform's JSON parser: bounded depth, no NaN/Infinity (a bad line is reported, not fatal).
            yield number, parsers.loads(line)
        except ApplicationError as exc:
            yield number, _BadLine(exc.message)
        except UnicodeDecodeError as exc:
            yield number, _BadLine(f"Malformed JSON: {exc}")


class _BadLine:
    def __init__(self, message: str):
        self.message = message


def _decode_image(encoded) -> tuple[bytes, str]:
    """(bytes, extension) of one base64 PNG or JPEG; ApplicationError saying why not."""
    try:
        return image_checks.decode_image(encoded)
    except image_checks.ImageProblem as problem:
        raise ApplicationError(str(problem)) from None


@dataclass(slots=True)
class _Row:
    """One row on its way to the database: validated, its image (base64) still to be checked and written."""

    line: int
    external_id: object  # as sent (for error reports); stripped when stored
    data: dict | None = None
    gold: object = None
    encoded: str | None = None
    error: str | None = None
    image: str = ""
    content_hash: str = ""


class _InlinePool:
    """The pool's interface, run here and now: for imports too small to be worth starting worker processes."""

    def submit(self, function, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(function(*args))
        except Exception as exc:  # noqa: BLE001 - raised by result(), as a worker's would be
            future.set_exception(exc)
        return future

    def shutdown(self, **kwargs) -> None:
        pass


class _Importer:
    def __init__(self, project: Project):
        self.project = project
        self.report = ImportReport()
        self.batch: list[_Row] = []
        self.batch_bytes = 0
        # Batches sent to the pool, oldest first: (rows, rows with an image, file names without extension, job).
        self.in_flight: deque[tuple[list[_Row], list[_Row], list[str], Future]] = deque()
        self.pool: ProcessPoolExecutor | _InlinePool | None = None
        self.doomed = False  # a row was refused: the import will roll back, so stop writing files
        # The names of the files written so far, to delete if the import fails: one line each in a temporary
        # file, not a list, so that a million images cost no memory here (a list of them held ~100 MB).
        self.saved_files = tempfile.SpooledTemporaryFile(max_size=SAVED_NAMES_IN_MEMORY, mode="w+", encoding="utf-8")
        # FileSystemStorage: the workers write a batch's files themselves (the storage API writes one file at a
        # time, in this process); any other storage is written through its API here.
        self.local_storage = isinstance(default_storage, FileSystemStorage)

    def error(self, line: int, external_id, message: str) -> None:
        self.report.error_count += 1
        if len(self.report.errors) < MAX_ERRORS:
            self.report.errors.append({"line": line, "external_id": external_id, "message": message})

    def add(self, line: int, row) -> None:
        entry = self._validated(line, row)
        self.batch.append(entry)
        if entry.error is not None:
            self.doomed = True
        elif entry.encoded is not None:
            self.batch_bytes += len(entry.encoded)
        if len(self.batch) >= BATCH_SIZE or self.batch_bytes >= BATCH_IMAGE_BYTES:
            self.send(full=True)

    def _validated(self, line: int, row) -> _Row:
        if isinstance(row, _BadLine):
            return _Row(line, None, error=row.message)
        if not isinstance(row, dict):
            return _Row(line, None, error="Each task must be a JSON object.")
        problem = validation.json_problem(row)
        if problem:
            # NUL, a lone surrogate, NaN or hostile nesting anywhere in the row: it could not be stored or shown.
            external_id = row.get("external_id")
            clean_id = external_id if isinstance(external_id, str) and not validation.text_problem(external_id) else None
            return _Row(line, clean_id, error=f"'{problem.path}': {problem.reason}")
        external_id = row.get("external_id")
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > MAX_EXTERNAL_ID:
            return _Row(line, external_id, error=f"'external_id' must be a non-empty string of at most {MAX_EXTERNAL_ID} characters.")
        unknown = set(row) - {"external_id", "data", "gold"}
        if unknown:
            return _Row(line, external_id, error=f"Unknown fields: {', '.join(sorted(unknown))}.")
        try:
            data = validate_task_data(self.project, row.get("data"))
            gold = row.get("gold")
            if gold is not None:
                gold_value(self.project, gold, data)  # validates the known answer's shape
        except ApplicationError as error:
            return _Row(line, external_id, error=error.message)
        return _Row(line, external_id, data=data, gold=gold, encoded=row["data"].get("image"))

    def send(self, *, full: bool) -> None:
        """Hand the current batch's images to the pool, started by the first full batch (a smaller import is
        checked here); then take back finished batches until at most MAX_IN_FLIGHT are out."""
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        if not batch:
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(IMAGE_WORKERS, mp_context=multiprocessing.get_context("forkserver")) if full else _InlinePool()
        images = [row for row in batch if row.encoded is not None and row.error is None]
        names: list[str] = []
        stems = None
        if images and not self.doomed:
            directory = f"tasks/{self.project.pk}"
            names = [f"{directory}/{token.hex()}" for token in _tokens(len(images))]
            if self.local_storage:
                os.makedirs(default_storage.path(directory), exist_ok=True)
                stems = [default_storage.path(name) for name in names]
        mode = default_storage.file_permissions_mode if self.local_storage else None
        job = self.pool.submit(image_checks.check_images, [row.encoded for row in images], stems, mode)
        self.in_flight.append((batch, images, names, job))
        while len(self.in_flight) > MAX_IN_FLIGHT:
            self.receive()

    def receive(self) -> None:
        """Take back the oldest batch: its images' outcomes, its errors (reported in line order), then insert it."""
        batch, images, names, job = self.in_flight[0]
        outcomes = job.result()  # a failed job stays in flight, so discard_files removes what it wrote
        self.in_flight.popleft()
        for index, (row, outcome) in enumerate(zip(images, outcomes)):
            row.encoded = None
            if isinstance(outcome, str):
                row.error = outcome
                self.doomed = True
                continue
            raw, extension = outcome
            row.content_hash = task_content_hash(row.data, raw)
            if names and self.local_storage:
                row.image = f"{names[index]}.{extension}"  # written by the worker
                self.saved_files.write(row.image + "\n")
            elif names and not self.doomed:
                row.image = default_storage.save(f"{names[index]}.{extension}", ContentFile(raw))
                self.saved_files.write(row.image + "\n")
        good = []
        for row in batch:
            if row.error is not None:
                self.error(row.line, row.external_id, row.error)
                continue
            if not row.content_hash:
                row.content_hash = task_content_hash(row.data, b"")
            good.append(row)
        self.flush(good)

    def finish(self) -> None:
        self.send(full=False)
        while self.in_flight:
            self.receive()

    def flush(self, rows: list[_Row]) -> None:
        if not rows:
            return
        seen: dict[str, int] = {}
        for row in rows:
            key = row.external_id = row.external_id.strip()
            if key in seen:
                self.report.duplicates.append(key)
                self.error(row.line, key, f"Duplicate external_id (also on line {seen[key]}).")
            seen.setdefault(key, row.line)
        if self.report.errors:
            # A doomed import: insert nothing more, but keep finding every duplicate to report.
            self._report_existing(rows, seen)
            return
        try:
            with transaction.atomic():
                _tasks_insert(self.project, rows)
        except IntegrityError:
            if not self._report_existing(rows, seen):
                raise
            return
        self.report.imported += len(rows)
        self.report.gold += sum(row.gold is not None for row in rows)

    def _report_existing(self, rows: list[_Row], seen: dict[str, int]) -> bool:
        """Report rows whose external_id the project already has; True if there were any."""
        existing = set(Task.objects.filter(project=self.project, external_id__in=list(seen)).values_list("external_id", flat=True))
        for row in rows:
            if row.external_id in existing and seen.get(row.external_id) == row.line:
                self.report.duplicates.append(row.external_id)
                self.error(row.line, row.external_id, "Duplicate external_id: a task with this id already exists in the project.")
        return bool(existing)

    def close(self) -> None:
        """Stop the pool once its running jobs are done (so no worker writes a file after discard_files)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def discard_files(self) -> None:
        self.saved_files.seek(0)
        for line in self.saved_files:
            default_storage.delete(line.rstrip("\n"))
        for _, _, sent, _ in self.in_flight:  # sent, never taken back: the worker may have written either kind
            for name in sent:
                for extension in set(IMAGE_FORMATS.values()):
                    default_storage.delete(f"{name}.{extension}")


def _tokens(count: int) -> list[bytes]:
    """`count` random 128-bit file names, from one read of the system's random source."""
    pool = os.urandom(16 * count)
    return [pool[i : i + 16] for i in range(0, len(pool), 16)]


def _tasks_insert(project: Project, rows: list[_Row]) -> None:
    """Insert validated rows as tasks, in order: one COPY on PostgreSQL, bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        Task.objects.bulk_create(
            Task(project=project, external_id=row.external_id, data=row.data, image=row.image, gold=row.gold,
                 is_gold=row.gold is not None, content_hash=row.content_hash, required_answers=project.overlap)
            for row in rows
        )
        return
    # Every other column gets the model's default (prepared once per batch), so a new field needs no change here.
    given = {"external_id", "data", "image", "gold", "is_gold", "content_hash", "project", "required_answers"}
    others = [f for f in Task._meta.concrete_fields if not f.primary_key and f.name not in given]
    constants = (project.pk, project.overlap, *(f.get_db_prep_save(f.get_default(), connection) for f in others))
    columns = ["external_id", "data", "image", "gold", "is_gold", "content_hash", "project_id", "required_answers", *(f.column for f in others)]
    quote = connection.ops.quote_name
    sql = f"COPY {quote(Task._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            gold = None if row.gold is None else json.dumps(row.gold)
            copy.write_row((row.external_id, json.dumps(row.data), row.image, gold, gold is not None, row.content_hash, *constants))


def tasks_import(*, project: Project, rows: Iterable[tuple[int, object]]) -> ImportReport:
    """Import rows into a draft or paused project; all or nothing. Raises ApplicationError listing every bad row."""
    if project.status not in (Project.Status.DRAFT, Project.Status.PAUSED, Project.Status.PUBLISHED):
        raise Conflict(f"Tasks cannot be added to a {project.status} project.", code=MarketplaceErrorCode.INVALID_STATUS)
    importer = _Importer(project)
    try:
        with transaction.atomic():
            for line, row in rows:
                importer.add(line, row)
            importer.finish()
            if not importer.report.imported and not importer.report.errors:
                raise ApplicationError("The import contained no tasks.", code=MarketplaceErrorCode.EMPTY_IMPORT)
            report = importer.report
            if report.errors:
                raise ApplicationError(
                    f"{report.error_count} task(s) were rejected; nothing was imported."
                    + (f" The first {MAX_ERRORS} are listed." if report.error_count > MAX_ERRORS else ""),
                    code=MarketplaceErrorCode.DUPLICATE_EXTERNAL_IDS if report.duplicates else MarketplaceErrorCode.INVALID_TASKS,
                    extra={"rows": report.errors, "duplicates": sorted(set(report.duplicates))[:MAX_ERRORS]},
                )
            if project.status != Project.Status.DRAFT:
                # A live project's escrow must cover the new tasks too: funded now, or nothing is imported.
                from .payment import escrow_ensure

                escrow_ensure(Project.objects.select_for_update().get(pk=project.pk))
    except BaseException:
        importer.close()
        importer.discard_files()
        raise
    finally:
        importer.saved_files.close()
    importer.close()
    return importer.report
