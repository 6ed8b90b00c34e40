"""The co-op's own error codes: membership, accounts, tokens, and the API's generic ones (invalid input, not found, forbidden, DRF's codes).

`error.code` in the API's error body is one of these (or of a higher app's enum); clients switch on it. Each app
raises its own codes and may raise a lower app's (`CoopErrorCode.STEWARD_REQUIRED` everywhere), never a higher
one's. A StrEnum member is its string, so comparisons and JSON keep working with the plain value.
"""

from enum import StrEnum


class CoopErrorCode(StrEnum):
    AGREEMENT_REQUIRED = "agreement_required"
    AUTHENTICATION_FAILED = "authentication_failed"
    BAD_REQUEST = "bad_request"
    BUSY = "busy"
    CLIENT_CANNOT_JOIN = "client_cannot_join"
    CONFLICT = "conflict"
    CSRF_FAILED = "csrf_failed"
    DEEP_CHECK_FORBIDDEN = "deep_check_forbidden"
    DUPLICATE = "duplicate"
    ERROR = "error"
    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    INVALID_NUMBER = "invalid_number"
    INVALID_TEXT = "invalid_text"
    INVALID_TRANSITION = "invalid_transition"
    MEMBER_REQUIRED = "member_required"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MFA_REQUIRED = "mfa_required"
    NOT_ACCEPTABLE = "not_acceptable"
    NOT_ACTIVE = "not_active"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    ORGANIZATION_INACTIVE = "organization_inactive"
    PARSE_ERROR = "parse_error"
    PERMISSION_DENIED = "permission_denied"
    REASON_REQUIRED = "reason_required"
    SERVER_ERROR = "server_error"
    STEWARD_REQUIRED = "steward_required"
    SUSPENSION_NEEDS_DUE_PROCESS = "suspension_needs_due_process"
    THROTTLED = "throttled"
    TOKEN_SCOPE = "token_scope"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    TOO_MANY_FIELDS = "too_many_fields"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
