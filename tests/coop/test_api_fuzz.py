"""Schema-driven fuzzing of the whole API (schemathesis over the OpenAPI schema): no input ever gives a 5xx.

Every operation in /api/schema/ gets a bounded number of generated requests,
valid and invalid (schemathesis' positive and negative modes), each sent as a
client organization's token, a member's personal token and a steward's
personal token, through the real WSGI stack in-process. Checks: no 5xx
(`not_a_server_error`) anywhere; and, outside KNOWN_SCHEMA_GAPS, only
documented status codes with bodies matching the documented schema.
Examples are derandomized and bounded (FUZZ_EXAMPLES per operation and mode;
about 1,500 requests) so the run stays well inside CI's time.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from coop import services
from tests import factories

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))

# Operations whose responses do not yet match their documented schema, with why. Every other operation
# must answer only documented status codes with bodies that match the schema (and no operation may 5xx).
KNOWN_SCHEMA_GAPS: dict[str, str] = {}


@pytest.fixture
def tokens(db):
    """Bearer tokens of the three kinds of caller, with a little real data for them to reach."""
    organization = factories.make_organization("Fuzz Client")
    member = factories.make_member("fuzz-member@example.org")
    steward = factories.make_steward("fuzz-steward@example.org")
    factories.make_project(organization, task_type="classification", tasks=3)
    return {
        "client": factories.org_token(organization),
        "member": services.api_token_create(actor=member, user=member, name="fuzz").plaintext,
        "steward": services.api_token_create(actor=steward, user=steward, name="fuzz").plaintext,
    }


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, run in-process inside the test's transaction.

    As Django's own test client does, the per-request connection cleanup is
    switched off: it would close the test transaction's connection.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.django_db(transaction=False)
def test_adversarial_no_generated_request_gets_a_server_error(tokens, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = list(_operations(schema))
    assert len(operations) > 40  # the whole API, not a corner of it

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=FUZZ_EXAMPLES * 2,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            for role, token in tokens.items():  # the same request from each kind of caller
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                checks = [not_a_server_error]
                if operation.label not in KNOWN_SCHEMA_GAPS:
                    checks += [status_code_conformance, response_schema_conformance]
                try:
                    case.validate_response(response, checks=checks)
                except (AssertionError, BaseExceptionGroup) as error:  # a Failure, or a FailureGroup naming each failed check
                    failures.append(f"{operation.label} as {role}: {str(error)[:1500]}")

        fuzz()
    print(f"{sum(statuses.values())} requests over {len(operations)} operations: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures[:20])
    # The run reached the API's logic, not only its front door.
    assert sum(n for code, n in statuses.items() if code < 300) > len(operations) // 2
