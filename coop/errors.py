"""The project's one error type and the API's one error shape.

Services raise ApplicationError (or a subclass) with a machine code and a human
message. The DRF exception handler turns it, DRF's own errors and Django's
ValidationError / PermissionDenied / Http404 into

    {"error": {"code": ..., "message": ..., "fields": {...}}}

with a correct status code. Requests under /api/ never see an HTML error page.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule refused the request. `status` is the HTTP status an API returns."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, status: int | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        self.extra = extra or {}

    def as_dict(self) -> dict:
        return error_body(self.code, self.message, self.fields, **self.extra)


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    error = {"code": code, "message": message, "fields": fields or {}}
    error.update(extra)
    return {"error": error}


def _flatten_fields(detail) -> dict:
    """DRF details -> {"field": ["message", ...]} with plain strings."""
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _flatten_fields(value).items():
                    out[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub_key, sub_value in _flatten_fields(item).items():
                        out[f"{key}[{index}].{sub_key}"] = sub_value
            else:
                out[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("invalid", "; ".join(exc.messages), fields), status=400)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("forbidden", str(exc) or "You do not have permission to do this."), status=403)

    # Imported here: rest_framework.views loads the API settings, which import our authentication.
    from rest_framework.views import exception_handler as drf_default_handler

    response = drf_default_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body("server_error", "Something went wrong on our side; it has been logged."), status=500)

    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        first = next(iter(fields.values()), ["Invalid input."])[0]
        response.data = error_body("invalid", f"Invalid input: {first}", fields)
    else:
        code = getattr(exc, "default_code", "error")
        if isinstance(exc.detail, dict):
            message = str(exc.detail.get("detail", exc.detail))
        else:
            message = str(exc.detail)
        response.data = error_body(code, message)
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def json_or_html_404(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_or_html_500(request):
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Something went wrong on our side; it has been logged."), status=500)
    from django.views.defaults import server_error

    return server_error(request)


def json_or_html_403(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("forbidden", "You do not have permission to do this."), status=403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def json_or_html_400(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)
