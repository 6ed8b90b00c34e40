"""The one JSON parser: API bodies (DRF's parser for application/json) and task import rows.

It refuses, with a 400 naming the problem, what the standard library would
accept and the platform could not then store or render: NaN and Infinity
(not JSON; PostgreSQL's jsonb refuses them), numbers that overflow to
infinity, nesting deeper than MAX_JSON_DEPTH (the standard library recurses
and would raise RecursionError), NUL and lone surrogates in any string.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework.parsers import BaseParser, JSONParser

from coop.error_codes import CoopErrorCode

from .errors import ApplicationError
from .validation import MAX_JSON_DEPTH, check_json


class InvalidJSON(ApplicationError):
    status = 400
    code = CoopErrorCode.PARSE_ERROR  # the code DRF gives malformed JSON, kept for clients that check it


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON; send a finite number or null")


def loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH):
    """json.loads with the platform's bounds; raises InvalidJSON (or InvalidInput from the validator)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJSON(f"JSON nested more than {max_depth} levels deep.", code=CoopErrorCode.TOO_DEEP) from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidJSON(f"Malformed JSON: {exc}") from None
    return check_json(value, max_depth=max_depth)


class SafeJSONParser(JSONParser):
    """DRF's JSONParser with the bounds of `loads`."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError as exc:
            raise InvalidJSON(f"The body is not valid {encoding}: {exc}") from None
        return loads(text)


class LargeJSONParser(BaseParser):
    """For a route whose documented limit is above DATA_UPLOAD_MAX_MEMORY_SIZE (OCR predictions).

    The view sets `max_body_bytes`; a larger Content-Length is a 413 before anything is read.
    Not a JSONParser subclass on purpose: DRF hands those `request.body`, which Django caps at
    DATA_UPLOAD_MAX_MEMORY_SIZE; this one gets the request stream, bounded by Content-Length.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        request = (parser_context or {}).get("request")
        limit = getattr(view, "max_body_bytes", settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if limit and length > limit:
            raise ApplicationError(f"The request body is larger than {limit} bytes.", code=CoopErrorCode.TOO_LARGE, status=413)
        return SafeJSONParser().parse(stream, media_type, parser_context)
