"""The client console (/client/): what the client API does, in the browser, through the same services and selectors.

HTTP only: forms in, services called, selectors read, templates out. Every
page is for signed-in users of a client organization and only ever reaches
that organization's projects, deliveries and agreements (anything else is a
404, as in the API). Service refusals (ApplicationError) are shown on the page
with their message.
"""

from __future__ import annotations

import base64

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.exports import streamed
from coop.views import apply_errors, role_required
from governance import selectors as governance_selectors
from governance import services as governance_services
from governance.models import Contract, DataUseAgreement
from governance.rules import PURPOSES
from marketplace.error_codes import MarketplaceErrorCode

from . import dataset_exports, import_formats, selectors
from .apis import results_stream
from .apis_datasets import answers_stream, json_cells
from .console_forms import CATEGORY_LABELS, DeletionAttestationForm, GoldTaskForm, ProjectForm
from .datasheet import project_datasheet
from .ledger import selectors as ledger_selectors
from .models import Project, Task, WebhookDelivery
from .rendering import render_instructions
from .services import exports, importing, projects, task_drafts, webhook_admin

client_required = role_required("client")

TASKS_SHOWN = 50
DELIVERIES_SHOWN = 100
SECRET_SESSION_KEY = "console_new_webhook_secret"
# Which buttons the page offers; the services decide (and explain) whether a move is allowed.
IMPORTABLE = (Project.Status.DRAFT, Project.Status.PAUSED, Project.Status.PUBLISHED)
CANCELLABLE = (Project.Status.DRAFT, Project.Status.HELD, Project.Status.PUBLISHED, Project.Status.PAUSED)


def _project(request, pk) -> Project:
    project = selectors.project_for_client(organization=request.user.organization, project_id=pk)
    if project is None:
        raise Http404("No such project.")
    return project


def _field_errors(form, error: DjangoValidationError) -> None:
    """A model constraint the service's full_clean raised, placed beside the field it names."""
    for field, field_messages in getattr(error, "message_dict", {"__all__": error.messages}).items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)




# --- Projects ------------------------------------------------------------------------------------


@client_required
def project_list(request):
    rows = selectors.project_list_with_progress(organization=request.user.organization)
    return render(request, "marketplace/console/projects.html", {"rows": rows, "section": "projects"})


@client_required
def project_new(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = projects.project_create(
                organization=request.user.organization,
                task_type=form.cleaned_data["task_type"],
                created_by=request.user,
                **form.service_fields(),
            )
        except ApplicationError as error:
            apply_errors(form, error)
        except DjangoValidationError as error:
            _field_errors(form, error)
        else:
            if project.webhook_secret:
                request.session[SECRET_SESSION_KEY] = {"project": project.pk, "secret": project.webhook_secret}
            messages.success(request, "Draft saved. Import tasks, then publish it.")
            return redirect("marketplace:console_project", pk=project.pk)
    return render(request, "marketplace/console/project_form.html", {"form": form, "section": "projects"})


@client_required
def project_edit(request, pk: int):
    project = _project(request, pk)
    if project.status != Project.Status.DRAFT:
        messages.error(request, "Only draft projects can be edited; pause and relaunch changes as a new project.")
        return redirect("marketplace:console_project", pk=pk)
    form = ProjectForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        had_secret = bool(project.webhook_secret)
        try:
            project = projects.project_update(project=project, **form.service_fields())
        except ApplicationError as error:
            apply_errors(form, error)
        except DjangoValidationError as error:
            _field_errors(form, error)
        else:
            if project.webhook_secret and not had_secret:
                request.session[SECRET_SESSION_KEY] = {"project": project.pk, "secret": project.webhook_secret}
            messages.success(request, "Draft saved.")
            return redirect("marketplace:console_project", pk=pk)
    return render(request, "marketplace/console/project_form.html", {"form": form, "project": project, "section": "projects"})


def _detail_context(request, project: Project) -> dict:
    dua = selectors.project_dua(project)
    new_secret = request.session.get(SECRET_SESSION_KEY)
    if new_secret and new_secret.get("project") == project.pk:
        del request.session[SECRET_SESSION_KEY]  # shown once
    else:
        new_secret = None
    return {
        "project": project,
        "progress": selectors.project_progress(project=project),
        "tasks": Task.objects.filter(project=project).order_by("pk")[:TASKS_SHOWN],
        "dua": dua,
        "purposes": [(code, PURPOSES.get(code, code)) for code in (dua.permitted_purposes if dua else [])],
        "escrow": ledger_selectors.escrow_summary(project),
        "categories": [CATEGORY_LABELS.get(c, c) for c in project.sensitive_categories],
        "gold_form": GoldTaskForm(),
        "new_secret": new_secret["secret"] if new_secret else None,
        "formats": import_formats.FORMATS,
        "can_import": project.status in IMPORTABLE,
        "can_cancel": project.status in CANCELLABLE,
        "section": "projects",
    }


@client_required
def project_detail(request, pk: int):
    project = _project(request, pk)
    return render(request, "marketplace/console/project_detail.html", _detail_context(request, project))


@client_required
def project_progress(request, pk: int):
    """The progress panel alone; the project page polls it while the project is live."""
    project = _project(request, pk)
    return render(
        request,
        "marketplace/console/partials/progress.html",
        {"project": project, "progress": selectors.project_progress(project=project)},
    )


PAST = {"publish": "published", "pause": "paused", "cancel": "cancelled"}
TRANSITIONS = {
    "publish": (projects.project_publish, "Published: members can see and claim the work now."),
    "pause": (projects.project_pause, "Paused: no new leases; answers already submitted are still reviewed and paid."),
    "cancel": (projects.project_cancel, "Cancelled: no new leases; submitted work is still reviewed and paid, unspent escrow is returned."),
}


@client_required
@require_POST
def project_action(request, pk: int, action: str):
    if action not in TRANSITIONS:
        raise Http404
    project = _project(request, pk)
    transition, done = TRANSITIONS[action]
    try:
        project = transition(project=project)
    except ApplicationError as error:
        messages.error(request, f"Not {PAST[action]}: {error.message}")
    else:
        if project.status == Project.Status.HELD:
            messages.warning(request, project.status_reason or "Held for a member vote: it is cheaper than your earlier near-identical project.")
        else:
            messages.success(request, done)
    return redirect("marketplace:console_project", pk=pk)


@client_required
@require_POST
def resume_vote(request, pk: int):
    """A pause by the members or a steward: the client asks the members to vote on resuming it."""
    project = _project(request, pk)
    try:
        proposal = projects.project_resume_propose(project=project, statement=request.POST.get("statement", ""))
    except ApplicationError as error:
        messages.error(request, f"Not put to a vote: {error.message}")
    else:
        messages.success(request, f"The members vote on resuming it until {proposal.closes_at:%Y-%m-%d %H:%M} UTC; you will be told the result.")
    return redirect("marketplace:console_project", pk=pk)


# --- Tasks ---------------------------------------------------------------------------------------


def _import_result(request, project: Project, rows) -> tuple[dict, int]:
    try:
        report = importing.tasks_import(project=project, rows=rows)
    except ApplicationError as error:
        return {"error": error, "rows": error.extra.get("rows", []), "error_count": len(error.extra.get("rows", []))}, error.status
    return {"report": report}, 200


@client_required
@require_POST
def task_import(request, pk: int):
    """Import an uploaded JSON / JSON Lines / CSV file or a folder of images; all or nothing, errors listed by line."""
    project = _project(request, pk)
    upload = request.FILES.get("file")
    images = request.FILES.getlist("images")
    try:
        if upload is not None:
            rows = import_formats.rows_for_file(upload)
        elif images:
            rows = import_formats.iter_image_rows(images)
        else:
            raise ApplicationError("Choose a file (or a folder of images) to import.", code=MarketplaceErrorCode.EMPTY_IMPORT, status=400)
        context, status = _import_result(request, project, rows)
    except ApplicationError as error:
        context, status = {"error": error, "rows": [], "error_count": 0}, error.status
    context["project"] = project
    if request.htmx:
        # 200 either way: htmx swaps only successful responses, and the refusal is the content to show.
        response = render(request, "marketplace/console/partials/import_result.html", context)
        response["HX-Trigger"] = "tasks-changed" if "report" in context else "import-failed"
        return response
    if "report" in context:
        report = context["report"]
        messages.success(request, f"Imported {report.imported} task(s), {report.gold} of them gold.")
        return redirect("marketplace:console_project", pk=pk)
    return render(request, "marketplace/console/import_failed.html", context, status=status)


@client_required
@require_POST
def gold_add(request, pk: int):
    """One gold (control) task with its known answer, through the same import as a file."""
    project = _project(request, pk)
    form = GoldTaskForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label or field}: {' '.join(errors)}" if field in form.fields else " ".join(errors))
        return redirect(f"{reverse('marketplace:console_project', kwargs={'pk': pk})}#gold")
    values = form.cleaned_data
    data = {key: values[key] for key in ("text", "prompt", "response_a", "response_b") if values.get(key)}
    if values.get("image"):
        data["image"] = base64.b64encode(values["image"].read()).decode()
    row = {"external_id": values["external_id"], "data": data, "gold": values["gold"]}
    try:
        importing.tasks_import(project=project, rows=[(1, row)])
    except ApplicationError as error:
        rows = error.extra.get("rows") or []
        messages.error(request, "Gold task not added: " + ("; ".join(r["message"] for r in rows) or error.message))
    else:
        messages.success(request, f"Gold task {values['external_id']} added.")
    return redirect(f"{reverse('marketplace:console_project', kwargs={'pk': pk})}#gold")


@client_required
@require_POST
def tasks_delete(request, pk: int):
    project = _project(request, pk)
    every = request.POST.get("all") == "1"
    try:
        ids = None if every else [int(value) for value in request.POST.getlist("task")]
        deleted = task_drafts.tasks_delete_draft(project=project, task_ids=ids)
    except ValueError:
        messages.error(request, "Choose tasks from the list.")
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Deleted {deleted} task(s).")
    return redirect(f"{reverse('marketplace:console_project', kwargs={'pk': pk})}#tasks")


@client_required
def task_image(request, pk: int, task_pk: int):
    project = _project(request, pk)
    task = get_object_or_404(Task, pk=task_pk, project=project)
    if not task.image:
        raise Http404
    return FileResponse(task.image.open("rb"))


@client_required
def preview(request, pk: int):
    """The labeling screen as a worker sees it, with the first task (nothing is leased or submitted)."""
    project = _project(request, pk)
    task = Task.objects.filter(project=project, is_gold=False).order_by("pk").first()
    return render(
        request,
        "marketplace/console/preview.html",
        {
            "project": project,
            "task": task,
            "instructions_html": render_instructions(project.instructions),
            "categories": [CATEGORY_LABELS.get(c, c) for c in project.sensitive_categories],
            "section": "projects",
        },
    )


# --- Results and statements ------------------------------------------------------------------------


@client_required
def results_download(request, pk: int):
    """Accepted labels, every answer or preference pairs, with a purpose the DUA permits (checked and logged as in the API)."""
    project = _project(request, pk)
    fmt, data = request.GET.get("format", "jsonl"), request.GET.get("data", "labels")
    if fmt not in ("jsonl", "csv") or data not in ("labels", "answers", "preferences"):
        messages.error(request, "Choose what to download and JSON Lines or CSV.")
        return redirect("marketplace:console_project", pk=pk)
    try:
        if data == "preferences":
            dataset_exports.preference_check(project, "labels")
        entry = exports.export_begin(project=project, purpose=request.GET.get("purpose", ""))
    except ApplicationError as error:
        messages.error(request, f"Results not downloaded: {error.message}")
        return redirect(f"{reverse('marketplace:console_project', kwargs={'pk': pk})}#results")
    if data == "labels":
        return results_stream(project=project, fmt=fmt, entry=entry)
    if data == "answers":
        return answers_stream(project=project, fmt=fmt, entry=entry)
    rows = dataset_exports.preference_rows(project=project)
    fields = dataset_exports.PREFERENCE_FIELDS
    return streamed(fmt, exports.export_rows_counted(rows, entry=entry), fields=fields, filename=f"project-{pk}-{data}", prepare_csv=json_cells)


@client_required
def datasheet(request, pk: int):
    """Who made this data, in aggregate, and on what terms (the API's datasheet as a page)."""
    project = _project(request, pk)
    return render(request, "marketplace/console/datasheet.html", {"project": project, "sheet": project_datasheet(project=project)})


@client_required
def statement_download(request, pk: int):
    from .apis_money import StatementOutput

    project = _project(request, pk)
    statement = ledger_selectors.project_statement_for_client(project)
    if request.GET.get("format") == "json":
        response = JsonResponse(StatementOutput(statement).data)
        response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-statement.json"'
        return response
    return streamed("csv", statement["rows"], fields=ledger_selectors.CLIENT_STATEMENT_FIELDS, filename=f"project-{project.pk}-statement")


# --- Webhooks ------------------------------------------------------------------------------------


def _webhooks_page(request, project: Project, *, new_secret: str | None = None, status: int = 200):
    deliveries = WebhookDelivery.objects.filter(project=project).order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]
    return render(
        request,
        "marketplace/console/webhooks.html",
        {"project": project, "deliveries": deliveries, "new_secret": new_secret, "section": "projects"},
        status=status,
    )


@client_required
def webhooks(request, pk: int):
    return _webhooks_page(request, _project(request, pk))


@client_required
@require_POST
def webhook_resend(request, pk: int, delivery_pk: int):
    project = _project(request, pk)
    try:
        webhook_admin.webhook_resend(project=project, delivery_id=delivery_pk)
    except ApplicationError as error:
        if error.status == 404:
            raise Http404 from None
        messages.error(request, error.message)
    else:
        messages.success(request, "Queued again: it will be signed with the current secret.")
    return redirect("marketplace:console_webhooks", pk=pk)


@client_required
@require_POST
def webhook_rotate(request, pk: int):
    project = _project(request, pk)
    try:
        secret = webhook_admin.webhook_secret_rotate(project=project)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("marketplace:console_webhooks", pk=pk)
    # Rendered, not redirected: the new secret is shown on this response only.
    return _webhooks_page(request, project, new_secret=secret)


# --- Money ---------------------------------------------------------------------------------------


@client_required
def money(request):
    organization = request.user.organization
    return render(
        request,
        "marketplace/console/money.html",
        {
            **ledger_selectors.organization_balances(organization),
            "deposits": ledger_selectors.organization_deposits(organization),
            "section": "money",
        },
    )


# --- Agreements ----------------------------------------------------------------------------------


@client_required
def agreements(request):
    organization = request.user.organization
    return render(
        request,
        "marketplace/console/agreements.html",
        {
            "contracts": governance_selectors.contract_list(organization=organization),
            "duas": governance_selectors.dua_list(organization=organization),
            "section": "agreements",
        },
    )


@client_required
def contract_detail(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("organization"), pk=pk, organization=request.user.organization)
    return render(
        request,
        "marketplace/console/contract_detail.html",
        {"contract": contract, "duas": contract.data_use_agreements.order_by("-version"), "section": "agreements"},
    )


@client_required
def dua_detail(request, pk: int):
    dua = get_object_or_404(
        DataUseAgreement.objects.select_related("contract__organization", "deletion_attested_by"),
        pk=pk,
        contract__organization=request.user.organization,
    )
    form = DeletionAttestationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            governance_services.dua_attest_deletion(dua=dua, actor=request.user, statement=form.cleaned_data["statement"])
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Deletion attested. The members can see your statement.")
            return redirect("marketplace:console_dua", pk=pk)
    return render(
        request,
        "marketplace/console/dua_detail.html",
        {
            "dua": dua,
            "purposes": [(code, PURPOSES.get(code, code)) for code in dua.permitted_purposes],
            "retention_ends_on": governance_selectors.dua_retention_ends_on(dua),
            "exports": dua.exports.order_by("-created_at")[:50],
            "form": form,
            "can_attest": dua.status in ("active", "expired", "terminated") and dua.deletion_attested_at is None,
            "section": "agreements",
        },
    )

