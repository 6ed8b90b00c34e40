"""Portal pages of mlops: the model registry, training runs with live curves, snapshots with exclusion reasons, my models."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError, NotFound
from coop.views import member_required, steward_required

from . import cards, selectors
from .forms import RunForm
from .models import ContributorCredit
from .services import registry, training
from .services.credit import contributor_credit_set


def _get(getter, pk):
    from django.http import Http404

    try:
        return getter(pk)
    except NotFound:
        raise Http404 from None


@member_required
def models(request):
    versions = list(selectors.model_versions()[:300])
    if request.user.is_steward:  # the steward sees, before clicking, whether the gate would let it through
        promoted = {v.name: v for v in versions if v.promoted}
        for version in versions:
            version.gate = None if version.promoted else registry.promotion_gate(version, promoted.get(version.name))
    return render(
        request,
        "mlops/models.html",
        {
            "versions": versions,
            "promotions": selectors.promotion_history(),
            "mine": selectors.models_of_worker(request.user),
            "dividends": selectors.dividends_of_worker(request.user),
            "credit_by_name": ContributorCredit.objects.filter(user=request.user, credit_by_name=True).exists(),
        },
    )


def _markdown(text: str, filename: str):
    from django.http import HttpResponse

    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_required
def model_card(request, pk: int):
    version = _get(selectors.model_version_get, pk)
    card = cards.model_card(version)
    if request.GET.get("download") == "md":
        return _markdown(cards.card_markdown(card), f"model-card-{version.name}-v{version.version}.md")
    return render(request, "mlops/card.html", {"card": card, "version": version, "title": f"Model card: {version}"})


@member_required
def snapshot_datasheet(request, pk: int):
    snapshot = _get(selectors.snapshot_get, pk)
    card = cards.datasheet(snapshot)
    if request.GET.get("download") == "md":
        return _markdown(cards.card_markdown(card), f"datasheet-snapshot-{snapshot.pk}.md")
    return render(request, "mlops/card.html", {"card": card, "snapshot": snapshot, "title": f"Datasheet: snapshot #{snapshot.pk}"})


@member_required
@require_POST
def credit_preference(request):
    contributor_credit_set(user=request.user, credit_by_name=request.POST.get("credit_by_name") == "on")
    messages.success(request, "Saved: model cards credit you " + ("by name." if request.POST.get("credit_by_name") == "on" else "by a pseudonym."))
    return redirect("mlops:models")


@member_required
def model_detail(request, pk: int):
    version = _get(selectors.model_version_get, pk)
    return render(request, "mlops/model_detail.html", {"version": version, "contributors": selectors.contributors_of(version)[:500]})


@steward_required
@require_POST
def model_promote(request, pk: int):
    version = _get(selectors.model_version_get, pk)
    try:
        registry.model_version_promote(actor=request.user, model_version=version,
                                       override_reason=request.POST.get("override_reason", "")[:500])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{version} is now promoted.")
    return redirect("mlops:models")


@steward_required
@require_POST
def model_rollback(request):
    try:
        version = registry.model_version_rollback(actor=request.user, name=request.POST.get("name", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Rolled back: {version} is promoted again.")
    return redirect("mlops:models")


@member_required
def runs(request):
    form = RunForm(request.POST or None) if request.user.is_steward else None
    if request.method == "POST":
        if form is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Only stewards start training runs.")
        if form.is_valid():
            try:
                run = training.training_run_start(
                    actor=request.user, model_name=form.cleaned_data["model_name"],
                    projects=list(form.cleaned_data["projects"]) or None, config=form.training_config(),
                    auto_promote=form.cleaned_data["auto_promote"], snapshot_options=form.snapshot_options(),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Run {run.pk} queued on the gpu queue.")
                return redirect("mlops:run", pk=run.pk)
    page = Paginator(selectors.run_list(), 50).get_page(request.GET.get("page"))
    return render(request, "mlops/runs.html", {"page": page, "form": form})


@member_required
def run_detail(request, pk: int):
    run = _get(selectors.run_get, pk)
    resumable = run.status in (run.Status.FAILED, run.Status.CANCELLED) or training.run_is_stale(run)
    return render(request, "mlops/run_detail.html", {"run": run, "curve": selectors.run_curve(run), "resumable": resumable})


@steward_required
@require_POST
def run_resume(request, pk: int):
    run = _get(selectors.run_get, pk)
    try:
        training.training_run_resume(actor=request.user, run=run)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Run queued again; it resumes from its last checkpoint.")
    return redirect("mlops:run", pk=pk)


@steward_required
@require_POST
def run_cancel(request, pk: int):
    run = _get(selectors.run_get, pk)
    try:
        training.training_run_cancel(actor=request.user, run=run)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Cancellation requested.")
    return redirect("mlops:run", pk=pk)


@member_required
def snapshots(request):
    page = Paginator(selectors.snapshot_list(), 50).get_page(request.GET.get("page"))
    return render(request, "mlops/snapshots.html", {"page": page})


@member_required
def snapshot_detail(request, pk: int):
    snapshot = _get(selectors.snapshot_get, pk)
    page = Paginator(selectors.exclusions(snapshot), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "mlops/snapshot_detail.html",
        {"snapshot": snapshot, "summary": selectors.exclusion_summary(snapshot), "page": page,
         "sources": snapshot.sources.select_related("project", "organization", "dua"), "runs": snapshot.runs.all()[:50]},
    )
