"""The project's one error type and the API's one error shape.

Services raise ApplicationError (or a subclass) with a machine code and a human
message. The DRF exception handler turns it, DRF's own errors and Django's
ValidationError / PermissionDenied / Http404 into

    {"error": {"code": ..., "message": ..., "fields": {...}}}

with a correct status code. Requests under /api/ never see an HTML error page.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from coop.error_codes import CoopErrorCode

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule refused the request. `status` is the HTTP status an API returns."""

    status = 422
    code = CoopErrorCode.INVALID

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
    code = CoopErrorCode.NOT_FOUND


class Forbidden(ApplicationError):
    status = 403
    code = CoopErrorCode.FORBIDDEN


class Conflict(ApplicationError):
    status = 409
    code = CoopErrorCode.CONFLICT


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


def _request_limit_error(exc) -> tuple[dict, int] | None:
    """Django's request-size guards (raised while reading the body) as a 413 / 400 in the error shape."""
    if isinstance(exc, RequestDataTooBig):
        return error_body(CoopErrorCode.TOO_LARGE, "The request body is too large."), 413
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return error_body(CoopErrorCode.TOO_MANY_FIELDS, "The request has too many form fields or files."), 400
    return None


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    limit = _request_limit_error(exc)
    if limit is not None:
        return Response(limit[0], status=limit[1])
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body(CoopErrorCode.INVALID, "; ".join(exc.messages), fields), status=400)
    if isinstance(exc, Http404):
        return Response(error_body(CoopErrorCode.NOT_FOUND, "Not found."), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(error_body(CoopErrorCode.FORBIDDEN, str(exc) or "You do not have permission to do this."), status=403)

    # Imported here: rest_framework.views loads the API settings, which import our authentication.
    from rest_framework.views import exception_handler as drf_default_handler

    response = drf_default_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body(CoopErrorCode.SERVER_ERROR, "Something went wrong on our side; it has been logged."), status=500)

    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        first = next(iter(fields.values()), ["Invalid input."])[0]
        response.data = error_body(CoopErrorCode.INVALID, f"Invalid input: {first}", fields)
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
        return JsonResponse(error_body(CoopErrorCode.NOT_FOUND, "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


# Unknown paths under /api/ (any method, so no CSRF check: there is nothing to protect and the answer must be JSON).
api_not_found = csrf_exempt(json_or_html_404)


def json_or_html_500(request):
    if _is_api(request):
        return JsonResponse(error_body(CoopErrorCode.SERVER_ERROR, "Something went wrong on our side; it has been logged."), status=500)
    from django.views.defaults import server_error

    return server_error(request)


def json_or_html_403(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(CoopErrorCode.FORBIDDEN, "You do not have permission to do this."), status=403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the error shape under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body(CoopErrorCode.CSRF_FAILED, "CSRF check failed; send a Bearer token or the CSRF token."), status=403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def json_or_html_400(request, exception=None):
    limit = _request_limit_error(exception)
    if limit is not None and _is_api(request):
        return JsonResponse(limit[0], status=limit[1])
    if limit is not None and limit[1] == 413:
        from django.http import HttpResponse

        return HttpResponse("Request body too large.", status=413, content_type="text/plain; charset=utf-8")
    if _is_api(request):
        return JsonResponse(error_body(CoopErrorCode.BAD_REQUEST, "Bad request."), status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


# --- OpenAPI: the error shape on every operation ------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Machine-readable reason, e.g. invalid, not_found, too_large."},
                "message": {"type": "string", "description": "What went wrong, for a person."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Problems per input field (dotted paths for nested data).",
                },
            },
            "additionalProperties": True,  # some errors add detail, e.g. an import's rejected rows
        }
    },
}

_ERROR_STATUSES = {
    "400": "Invalid input (fields name each problem), a malformed body, or a NUL in the URL",
    "401": "No or invalid credentials",
    "403": "Not allowed for this caller",
    "404": "No such object (or not yours)",
    "429": "Too many requests",
}
_BODY_ERROR_STATUSES = {
    "409": "Conflicts with the object's current state (error.code says which)",
    "413": "The request body is too large",
    "415": "Unsupported content type",
    "422": "A rule refused the request (error.code says which)",
}


def openapi_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the error statuses it can answer, with the error shape.

    Responses an operation already describes (409, 422, ...) keep their description and gain the shape.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            statuses = dict(_ERROR_STATUSES)
            if method in ("post", "put", "patch"):
                statuses.update(_BODY_ERROR_STATUSES)
            for status, description in statuses.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if str(status).startswith(("4", "5")) and not response.get("content"):
                    response["content"] = {"application/json": {"schema": ref}}
    return result
