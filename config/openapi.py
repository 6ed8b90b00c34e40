"""The API schema's list of error codes: every app's enum, so clients can switch on `error.code`.

Lives in config/ because it reads all four apps' enums (coop's own error hook may not import a higher app).
"""

import copy

from coop.error_codes import CoopErrorCode
from governance.error_codes import GovernanceErrorCode
from marketplace.error_codes import MarketplaceErrorCode
from mlops.error_codes import MlopsErrorCode

ERROR_CODE_ENUMS = (CoopErrorCode, GovernanceErrorCode, MarketplaceErrorCode, MlopsErrorCode)


def error_codes() -> list[str]:
    """Every machine code an error body can carry, sorted."""
    return sorted({member.value for enum in ERROR_CODE_ENUMS for member in enum})


def openapi_error_codes(result, generator, request, public):
    """drf-spectacular postprocessing hook (after coop.errors.openapi_error_responses): `Error.error.code` is the ErrorCode enum."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorCode"] = {
        "type": "string",
        "enum": error_codes(),
        "description": "Machine-readable reason; one enum per domain in the code (coop, governance, marketplace, mlops error_codes).",
    }
    if "Error" in components:
        error = components["Error"] = copy.deepcopy(components["Error"])  # not coop.errors.ERROR_SCHEMA itself
        error["properties"]["error"]["properties"]["code"] = {"$ref": "#/components/schemas/ErrorCode"}
    return result
