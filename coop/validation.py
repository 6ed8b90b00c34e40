"""One validator for every text the platform stores or renders, and bounds on the shapes requests may take.

Text: a NUL (PostgreSQL refuses it in text and JSON columns) or a lone
surrogate (U+D800-U+DFFF, which has no UTF-8 form, so the JSON renderer and
PostgreSQL both fail on it) is refused at the boundary with a 400 naming the
field. A JSON escape such as "\\udc00" is the usual way in. Everything that
stores text received from outside (task data, external ids, answers, titles,
instructions, comments) goes through `text_problem`, directly or through
`json_problem` (which walks nested data, keys included, and also bounds
nesting depth and refuses NaN and infinities).

Ids: integers a client sends as references are bounded to what the database's
64-bit keys can hold, so a 10**20 is a 400 instead of an overflow.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from coop.error_codes import CoopErrorCode

from .errors import ApplicationError, Forbidden

MAX_JSON_DEPTH = 32
MAX_ID = 2**63 - 1  # BigAutoField

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class InvalidInput(ApplicationError):
    status = 400
    code = CoopErrorCode.INVALID_TEXT


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or rendered, or None when it can."""
    match = _UNSAFE.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Must not contain NUL (\\u0000) characters."
    return f"Must not contain a lone surrogate (\\u{ord(match.group()):04x}); send valid Unicode."


def check_text(value, *, field: str):
    """`value` unchanged if it is storable text (or not text at all); InvalidInput naming `field` otherwise."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InvalidInput(f"'{field}': {problem}", fields={field: [problem]})
    return value


class Problem(NamedTuple):
    path: str
    reason: str
    code: CoopErrorCode


def json_problem(value, *, max_depth: int = MAX_JSON_DEPTH, path: str = "") -> Problem | None:
    """The first thing in parsed JSON the platform cannot store or render (path, reason, error code), or None.

    Iterative, so a hostile nesting depth cannot exhaust the stack here.
    """
    stack = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return Problem(where or "body", problem, CoopErrorCode.INVALID_TEXT)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return Problem(where or "body", "Must be a finite number (NaN and Infinity are not JSON).", CoopErrorCode.INVALID_NUMBER)
        elif isinstance(item, (dict, list, tuple)):
            if depth >= max_depth:
                return Problem(where or "body", f"Nested more than {max_depth} levels deep.", CoopErrorCode.TOO_DEEP)
            if isinstance(item, dict):
                for key, child in item.items():
                    key_text = str(key)
                    problem = text_problem(key_text) if isinstance(key, str) else None
                    if problem:
                        return Problem(f"{where}.{ascii(key_text)}" if where else ascii(key_text), problem, CoopErrorCode.INVALID_TEXT)
                    stack.append((child, f"{where}.{key_text}" if where else key_text, depth + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, f"{where}[{index}]", depth + 1))
    return None


def check_json(value, *, field: str = "", max_depth: int = MAX_JSON_DEPTH):
    """`value` unchanged if every part of it is storable; InvalidInput naming the first bad path otherwise."""
    problem = json_problem(value, max_depth=max_depth, path=field)
    if problem:
        raise InvalidInput(f"'{problem.path}': {problem.reason}", code=problem.code, fields={problem.path: [problem.reason]})
    return value


def text_validator(value) -> None:
    """A field validator (Django forms and DRF serializers alike) for storable text."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise DjangoValidationError(problem, code="invalid_text")


class IdField(serializers.IntegerField):
    """A reference to a row by id: 1 … 2**63 − 1 (what a 64-bit key holds)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class RefuseUnsafeRequestTextMiddleware:
    """A NUL in the path, the query string or a header is refused with a 400 before any view runs.

    Django already decodes paths and query strings so that they hold no lone
    surrogates, but a %00 arrives as a NUL, which PostgreSQL refuses in any
    text comparison (a 500 from a slug or filter lookup otherwise).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.core.exceptions import BadRequest

        query = request.GET.lists() if request.META.get("QUERY_STRING") else ()
        if "\x00" in request.path or any("\x00" in key or any("\x00" in v for v in values) for key, values in query):
            raise BadRequest("NUL characters are not allowed in URLs.")
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
                raise BadRequest("NUL characters are not allowed in headers.")
        return self.get_response(request)


class DecimalStringField(serializers.DecimalField):
    """A decimal amount sent as a string ("0.10") or a whole JSON number; never a float, only ASCII digits.

    A JSON number with a fraction arrives as a binary float (0.1 is not 0.1),
    and Python's Decimal would also read Arabic-Indic or fullwidth digits.
    """

    default_error_messages = {
        "float": 'Send the amount as a string such as "0.10": JSON numbers with a fraction are binary floats.',
        "ascii": "Use the digits 0-9.",
    }

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, str) and not data.strip().isascii():
            self.fail("ascii")
        return super().to_internal_value(data)


class RefuseUnknownFieldsMixin:
    """A serializer that refuses fields it does not know (a misspelt `pay_per_tsak` must not be silently dropped)."""

    def validate(self, attrs):
        initial = getattr(self, "initial_data", None)
        if isinstance(initial, dict):
            unknown = sorted(str(key) for key in set(initial) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown[:20]})
        return super().validate(attrs)


# Dates a request may name: wide enough for any real filter, far enough from year 1 and 9999 that
# "the day after" or a time-zone conversion cannot overflow.
MIN_YEAR, MAX_YEAR = 1900, 9000


def date_or_none(value: str):
    """A YYYY-MM-DD date in MIN_YEAR..MAX_YEAR, or None (Django's parse_date raises on 2026-02-30)."""
    from django.utils.dateparse import parse_date

    try:
        parsed = parse_date(value)
    except ValueError:
        return None
    return parsed if parsed is not None and MIN_YEAR <= parsed.year <= MAX_YEAR else None


def datetime_or_none(value: str):
    """An ISO 8601 date-time in MIN_YEAR..MAX_YEAR, or None (out-of-range parts included)."""
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    return parsed if parsed is not None and MIN_YEAR <= parsed.year <= MAX_YEAR else None


def require_steward(actor, message: str = "Only stewards can do this.", *, system: bool = False, superuser: bool = False) -> None:
    """The one steward check: refuse (403, "steward_required") unless `actor` is a steward.

    A missing actor is the co-op itself acting (a passed vote applying its effect, the scheduler, a management
    command run by an operator) and passes only where the caller says so with `system=True`; everywhere else it
    is refused. `superuser=True` lets the server's operator through as well (the ledger's money in and out).
    """
    if actor is None:
        if system:
            return
        raise Forbidden(message, code=CoopErrorCode.STEWARD_REQUIRED)
    if not (actor.is_steward or (superuser and actor.is_superuser)):
        raise Forbidden(message, code=CoopErrorCode.STEWARD_REQUIRED)


def decimal_or_none(value, *, finite: bool = True) -> Decimal | None:
    """The one decimal parser: `value` (a string, an int or a Decimal) as a Decimal, or None when it is not a number.

    Goes through `str()`, so a float is read as the digits it prints, never its binary expansion; surrounding
    whitespace is ignored. NaN and infinities count as not a number unless the caller asks for them with
    `finite=False` (to give them its own message).
    """
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    if finite and not number.is_finite():
        return None
    return number


def decimal_or_error(value, *, field: str, places: int | None = None, message: str | None = None) -> Decimal:
    """`value` as a finite Decimal with at most `places` decimals; an ApplicationError naming `field` otherwise.

    Not a number: `message` (default "'field' must be a number.") with `fields={field: ["Not a number."]}`.
    NaN, infinities and too many decimals, when `places` is given: "'field' allows at most N decimal places."
    """
    number = decimal_or_none(value, finite=False)
    if number is None or (places is None and not number.is_finite()):
        raise ApplicationError(message or f"'{field}' must be a number.", fields={field: ["Not a number."]})
    if places is not None and (not number.is_finite() or number.as_tuple().exponent < -places):
        raise ApplicationError(f"'{field}' allows at most {places} decimal places.", fields={field: [f"At most {places} decimals."]})
    return number


def required_text(value, *, field: str, max_length: int = 200) -> str:
    """Stripped text of 1 to `max_length` characters, or ApplicationError naming the field."""
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if not value or len(value) > max_length:
        raise ApplicationError(f"'{field}' is required (1 to {max_length} characters).", fields={field: ["Required."]})
    return value
