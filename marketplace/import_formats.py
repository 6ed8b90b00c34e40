"""Task files a client uploads in the console, turned into the (line, row) pairs the import service takes.

JSON ({"tasks": [...]}) and JSON Lines use the importer's own parsers; CSV
(one task per row: `external_id`, optional `gold`, and the task type's data
columns) and a folder of images (one OCR/classification task per file, its
name the external id) are read here. Nothing is validated here: the import
service checks every row and reports errors by line.
"""

from __future__ import annotations

import base64
import codecs
import csv
import os
from collections.abc import Iterable, Iterator

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError
from marketplace.error_codes import MarketplaceErrorCode

from .services import importing

DATA_COLUMNS = ("text", "image", "hint", "prompt", "response_a", "response_b")
FORMATS = {"json": "JSON ({\"tasks\": [...]})", "jsonl": "JSON Lines (one task per line)", "csv": "CSV (one task per row)"}


def format_of(name: str) -> str:
    extension = os.path.splitext(name or "")[1].lower().lstrip(".")
    if extension in ("jsonl", "ndjson"):
        return "jsonl"
    if extension in ("json", "csv"):
        return extension
    raise ApplicationError(
        f"Upload a .json, .jsonl or .csv file (got {name or 'no file'}).", code=CoopErrorCode.UNSUPPORTED_MEDIA_TYPE, fields={"file": ["Unknown type."]}
    )


def iter_csv_rows(lines: Iterable[bytes]) -> Iterator[tuple[int, object]]:
    """Rows of a CSV file with a header, from its byte lines, numbered by line (the header is line 1). Empty cells are left out."""
    try:
        reader = csv.DictReader(codecs.iterdecode(lines, "utf-8-sig"))
        header = reader.fieldnames or []
        if "external_id" not in header:
            raise ApplicationError(
                "The CSV needs a header row with an 'external_id' column, e.g. external_id,text,gold.", code=MarketplaceErrorCode.INVALID_TASKS
            )
        unknown = set(header) - {"external_id", "gold", *DATA_COLUMNS}
        if unknown:
            raise ApplicationError(
                f"Unknown CSV columns: {', '.join(sorted(unknown))}. Use external_id, gold and {', '.join(DATA_COLUMNS)}.",
                code=MarketplaceErrorCode.INVALID_TASKS,
            )
        for record in reader:
            row: dict = {"external_id": record.get("external_id") or "", "data": {}}
            if None in record:  # more cells than header columns: the importer reports the unknown field
                row["extra_cells"] = record[None]
            for column in DATA_COLUMNS:
                if record.get(column):
                    row["data"][column] = record[column]
            if record.get("gold"):
                row["gold"] = record["gold"]
            yield reader.line_num, row
    except UnicodeDecodeError:
        raise ApplicationError("The CSV is not UTF-8 text.", code=MarketplaceErrorCode.INVALID_TASKS) from None
    except csv.Error as exc:
        raise ApplicationError(f"Malformed CSV: {exc}", code=MarketplaceErrorCode.INVALID_TASKS) from None


def rows_for_file(upload) -> Iterator[tuple[int, object]]:
    kind = format_of(upload.name)
    if kind == "jsonl":
        return importing.iter_jsonl_rows(iter(upload))
    if kind == "json":
        return importing.iter_json_rows(upload)
    return iter_csv_rows(iter(upload))


def iter_image_rows(files: Iterable) -> Iterator[tuple[int, object]]:
    """One task per image file, numbered in upload order; the file name (without folders) is the external id."""
    for number, upload in enumerate(files, start=1):
        name = os.path.basename(upload.name or "")
        # A file that is not a PNG or JPEG is reported by the importer on its line, like any bad image.
        yield number, {"external_id": name, "data": {"image": base64.b64encode(upload.read()).decode()}}
