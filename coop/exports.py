"""Streamed exports (constant memory): CSV, JSON Lines and a JSON array, from any iterator of dict rows.

CSV cells are neutralised against formula injection (OWASP "CSV Injection"):
a text cell starting with =, +, -, @, a tab or a carriage return gets a
leading apostrophe, so a spreadsheet shows it as text instead of running it
(a client's project title `=HYPERLINK(...)` must not become a link in a
member's records). Plain numbers such as -0.50 are left as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_safe(value):
    """`value` as a spreadsheet will show it and never evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict], fields: list[str], prepare: Callable[[dict], dict] | None = None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        row = prepare(row) if prepare else row
        writer.writerow({key: csv_safe(value) for key, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _dumps(row: dict) -> str:
    return json.dumps(row, cls=DjangoJSONEncoder, separators=(",", ":"))


def jsonl_lines(rows: Iterable[dict], encode: Callable[[object], str] = _dumps) -> Iterator[str]:
    for row in rows:
        yield encode(row) + "\n"


def json_array(rows: Iterable[dict], encode: Callable[[object], str] = _dumps) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + encode(row)
    yield "]\n"


def _as_is(text: str) -> str:
    return text


BLOCK_CHARS = 64 * 1024


def in_blocks(pieces: Iterable[str], size: int = BLOCK_CHARS) -> Iterator[str]:
    """The pieces joined into blocks of about `size` characters: one response chunk (one ASGI message, one
    encode) per block instead of per row. The first piece goes out alone, so the first byte is never held back."""
    block: list[str] = []
    length = 0
    for index, piece in enumerate(pieces):
        if index == 0:
            yield piece
            continue
        block.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(block)
            block, length = [], 0
    if block:
        yield "".join(block)


def streamed(
    fmt: str, rows: Iterable[dict], *, fields: list[str], filename: str, prepare_csv=None, encoded: bool = False
) -> StreamingHttpResponse:
    """A download in `fmt` ("csv", "jsonl" or "json") that never holds the whole export in memory.

    `encoded`: the rows are JSON text already (one object each, built by the database), for jsonl and json only.
    """
    if encoded and fmt == "csv":
        raise ValueError("CSV is written from rows, not from JSON text.")
    encode = _as_is if encoded else _dumps
    if fmt == "csv":
        response = StreamingHttpResponse(in_blocks(csv_lines(rows, fields, prepare_csv)), content_type="text/csv; charset=utf-8")
    elif fmt == "jsonl":
        response = StreamingHttpResponse(in_blocks(jsonl_lines(rows, encode)), content_type="application/x-ndjson")
    else:
        response = StreamingHttpResponse(in_blocks(json_array(rows, encode)), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def chunked(iterable, size: int):
    """Lists of up to `size` items from any iterable, lazily: for batch queries over a server-side cursor."""
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# OpenAPI responses of an export endpoint with ?format=json|jsonl|csv: a JSON array of rows, JSON Lines, or CSV.
EXPORT_RESPONSES = {
    (200, "application/json"): {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    (200, "application/x-ndjson"): {"type": "string", "description": "One JSON object per line."},
    (200, "text/csv"): {"type": "string", "description": "A header row, then one row per record."},
}
