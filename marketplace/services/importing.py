"""Bulk task import: JSON ({"tasks": [...]}) or JSON Lines, streamed, in bounded memory, all or nothing.

Rows are parsed one at a time (ijson for JSON, line by line for JSON Lines),
validated, and inserted in batches inside one transaction. Images (base64 in
data.image) are checked with Pillow and written through Django's storage API.
Any bad row or duplicate external_id rolls the whole import back, deletes the
images already written, and reports every problem (up to a cap) with its line
or row number. Duplicates are found by the database's unique constraint per
batch, so memory does not grow with the size of the import.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import ijson
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from coop import parsers, validation
from coop.errors import ApplicationError, Conflict

from ..models import Project, Task
from ..task_types import gold_value, task_content_hash, validate_task_data

BATCH_SIZE = 1000
MAX_ERRORS = 100
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_EXTERNAL_ID = 200
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg"}


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
        raise ApplicationError(f"Malformed JSON: {exc}", code="malformed_json") from exc
    except UnicodeDecodeError as exc:  # invalid UTF-8, or an escaped lone surrogate (ijson's C backend cannot decode it)
        raise ApplicationError(f"Malformed JSON: not valid Unicode ({exc.reason}); lone surrogates are refused.", code="malformed_json") from None


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
    if not isinstance(encoded, str):
        raise ApplicationError("'data.image' must be a base64 string.")
    if encoded.startswith("data:"):
        encoded = encoded.partition(",")[2]
    if len(encoded) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ApplicationError(f"The image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError("'data.image' is not valid base64.") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image_format = image.format
            if image_format not in IMAGE_FORMATS:
                raise ApplicationError(f"Images must be PNG or JPEG, not {image_format}.")
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ApplicationError("The image has too many pixels (max 4096×4096).")
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ApplicationError("'data.image' is not a readable PNG or JPEG image.") from None
    return raw, IMAGE_FORMATS[image_format]


class _Importer:
    def __init__(self, project: Project):
        self.project = project
        self.report = ImportReport()
        self.batch: list[tuple[int, Task]] = []
        self.saved_files: list[str] = []

    def error(self, line: int, external_id, message: str) -> None:
        self.report.error_count += 1
        if len(self.report.errors) < MAX_ERRORS:
            self.report.errors.append({"line": line, "external_id": external_id, "message": message})

    def add(self, line: int, row) -> None:
        if isinstance(row, _BadLine):
            self.error(line, None, row.message)
            return
        if not isinstance(row, dict):
            self.error(line, None, "Each task must be a JSON object.")
            return
        problem = validation.json_problem(row)
        if problem:
            # NUL, a lone surrogate, NaN or hostile nesting anywhere in the row: it could not be stored or shown.
            external_id = row.get("external_id")
            clean_id = external_id if isinstance(external_id, str) and not validation.text_problem(external_id) else None
            self.error(line, clean_id, f"'{problem.path}': {problem.reason}")
            return
        external_id = row.get("external_id")
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > MAX_EXTERNAL_ID:
            self.error(line, external_id, f"'external_id' must be a non-empty string of at most {MAX_EXTERNAL_ID} characters.")
            return
        unknown = set(row) - {"external_id", "data", "gold"}
        if unknown:
            self.error(line, external_id, f"Unknown fields: {', '.join(sorted(unknown))}.")
            return
        try:
            data = validate_task_data(self.project, row.get("data"))
            gold = row.get("gold")
            if gold is not None:
                gold_value(self.project, gold, data)  # validates the known answer's shape
            image_name, raw = "", b""
            if "image" in (row.get("data") or {}):
                raw, extension = _decode_image(row["data"]["image"])
                if self.report.errors:
                    # The import will be rolled back anyway: keep validating, stop writing files.
                    image_name = ""
                else:
                    image_name = default_storage.save(
                        f"tasks/{self.project.pk}/{uuid.uuid4().hex}.{extension}", ContentFile(raw)
                    )
                    self.saved_files.append(image_name)
        except ApplicationError as error:
            self.error(line, external_id, error.message)
            return
        task = Task(
            project=self.project,
            external_id=external_id.strip(),
            data=data,
            image=image_name,
            gold=gold if gold is not None else None,
            is_gold=gold is not None,
            content_hash=task_content_hash(data, raw),
            required_answers=self.project.overlap,
        )
        self.batch.append((line, task))
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        seen: dict[str, int] = {}
        for line, task in batch:
            if task.external_id in seen:
                self.report.duplicates.append(task.external_id)
                self.error(line, task.external_id, f"Duplicate external_id (also on line {seen[task.external_id]}).")
            seen.setdefault(task.external_id, line)
        if self.report.errors:
            # A doomed import: insert nothing more, but keep finding every duplicate to report.
            self._report_existing(batch, seen)
            return
        try:
            with transaction.atomic():
                Task.objects.bulk_create([task for _, task in batch])
        except IntegrityError:
            if not self._report_existing(batch, seen):
                raise
            return
        for _, task in batch:
            self.report.imported += 1
            self.report.gold += task.is_gold

    def _report_existing(self, batch, seen: dict[str, int]) -> bool:
        """Report rows whose external_id the project already has; True if there were any."""
        existing = set(Task.objects.filter(project=self.project, external_id__in=list(seen)).values_list("external_id", flat=True))
        for line, task in batch:
            if task.external_id in existing and seen.get(task.external_id) == line:
                self.report.duplicates.append(task.external_id)
                self.error(line, task.external_id, "Duplicate external_id: a task with this id already exists in the project.")
        return bool(existing)

    def discard_files(self) -> None:
        for name in self.saved_files:
            default_storage.delete(name)


def tasks_import(*, project: Project, rows: Iterable[tuple[int, object]]) -> ImportReport:
    """Import rows into a draft or paused project; all or nothing. Raises ApplicationError listing every bad row."""
    if project.status not in (Project.Status.DRAFT, Project.Status.PAUSED, Project.Status.PUBLISHED):
        raise Conflict(f"Tasks cannot be added to a {project.status} project.", code="invalid_status")
    importer = _Importer(project)
    try:
        with transaction.atomic():
            for line, row in rows:
                importer.add(line, row)
            importer.flush()
            if not importer.report.imported and not importer.report.errors:
                raise ApplicationError("The import contained no tasks.", code="empty_import")
            report = importer.report
            if report.errors:
                raise ApplicationError(
                    f"{report.error_count} task(s) were rejected; nothing was imported."
                    + (f" The first {MAX_ERRORS} are listed." if report.error_count > MAX_ERRORS else ""),
                    code="duplicate_external_ids" if report.duplicates else "invalid_tasks",
                    extra={"rows": report.errors, "duplicates": sorted(set(report.duplicates))[:MAX_ERRORS]},
                )
            if project.status != Project.Status.DRAFT:
                # A live project's escrow must cover the new tasks too: funded now, or nothing is imported.
                from .payment import escrow_ensure

                escrow_ensure(Project.objects.select_for_update().get(pk=project.pk))
    except BaseException:
        importer.discard_files()
        raise
    return importer.report
