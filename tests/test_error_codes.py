"""Error codes are enum members (one StrEnum per domain), never strings written at the raise site or built at run time."""

from __future__ import annotations

import ast
import pathlib

import pytest

from config.openapi import ERROR_CODE_ENUMS, error_codes
from coop.errors import ApplicationError, error_body

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ("coop", "governance", "marketplace", "mlops")
ENUM_NAMES = {enum.__name__ for enum in ERROR_CODE_ENUMS}


def _application_error_names() -> set[str]:
    """ApplicationError and every subclass the apps define (by class name), found in the source."""
    names = {"ApplicationError", "NotFound", "Forbidden", "Conflict"}
    grew = True
    while grew:
        grew = False
        for tree, _ in _trees():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    if any(ast.unparse(base).split(".")[-1] in names for base in node.bases):
                        names.add(node.name)
                        grew = True
    return names


_TREES: list = []


def _trees():
    if not _TREES:
        for app in APPS:
            for path in sorted((ROOT / app).rglob("*.py")):
                if "migrations" not in path.parts:
                    _TREES.append((ast.parse(path.read_text(), filename=str(path)), path.relative_to(ROOT)))
    return _TREES


def _is_enum_member(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ENUM_NAMES


def _is_code(node: ast.expr) -> bool:
    """An enum member, or a name or lookup that holds one (a parameter, a mapping of states to members, `problem.code`); never a string."""
    if isinstance(node, ast.IfExp):
        return _is_code(node.body) and _is_code(node.orelse)
    return _is_enum_member(node) or isinstance(node, (ast.Name, ast.Subscript, ast.Attribute))


def test_every_code_passed_to_an_application_error_is_an_enum_member():
    error_classes = _application_error_names()
    bad = []
    for tree, path in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in error_classes:
                for keyword in node.keywords:
                    if keyword.arg == "code" and not _is_code(keyword.value):
                        bad.append(f"{path}:{node.lineno}: code={ast.unparse(keyword.value)}")
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "error_body" and node.args:
                if not _is_code(node.args[0]):
                    bad.append(f"{path}:{node.lineno}: error_body({ast.unparse(node.args[0])}, ...)")
            if isinstance(node, ast.ClassDef) and node.name in error_classes:
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and any(getattr(t, "id", None) == "code" for t in statement.targets):
                        if not _is_enum_member(statement.value):
                            bad.append(f"{path}:{statement.lineno}: class {node.name} code = {ast.unparse(statement.value)}")
    assert not bad, "error codes must be members of an app's error_codes enum:\n" + "\n".join(bad)


def test_adversarial_a_code_built_at_run_time_is_caught():
    """The scan would catch the f-string this issue removed (a test that cannot fail is a defect)."""
    tree = ast.parse('raise Conflict("x", code=f"assignment_{state}")')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    value = call.keywords[0].value
    assert not _is_code(value)
    assert not _is_code(ast.parse('"assignment_expired"', mode="eval").body)
    assert _is_code(ast.parse("MarketplaceErrorCode.ASSIGNMENT_EXPIRED", mode="eval").body)


@pytest.mark.parametrize("enum", ERROR_CODE_ENUMS, ids=lambda e: e.__name__)
def test_enum_values_are_unique_and_lowercase_per_domain(enum):
    values = [member.value for member in enum]
    assert len(values) == len(set(values))
    assert all(member.name == member.value.upper() for member in enum)


def test_a_code_lives_in_one_domain_only():
    seen: dict[str, str] = {}
    clashes = []
    for enum in ERROR_CODE_ENUMS:
        for member in enum:
            if member.value in seen:
                clashes.append(f"{member.value}: {seen[member.value]} and {enum.__name__}")
            seen[member.value] = enum.__name__
    assert not clashes


def test_the_json_carries_the_plain_string():
    from coop.error_codes import CoopErrorCode

    error = ApplicationError("No.", code=CoopErrorCode.STEWARD_REQUIRED)
    assert error.code == "steward_required"
    import json

    assert json.loads(json.dumps(error.as_dict()))["error"]["code"] == "steward_required"
    assert error_body(error.code, "x")["error"]["code"] == "steward_required"


@pytest.mark.django_db
def test_the_openapi_schema_lists_every_code(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    if response.status_code == 404:
        pytest.skip("no schema URL at /api/schema/")
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"]["error"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    assert components["ErrorCode"]["enum"] == error_codes()
    assert {"steward_required", "insufficient_funds", "assignment_expired", "invalid"} <= set(error_codes())
