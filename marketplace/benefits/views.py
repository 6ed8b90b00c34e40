"""Benefits pages: my claims and the form to file one, a claim (private parts for its deciders only), the fund in public,
my contributions record, and the stewards' view of what waits. HTTP only: services and selectors do the work."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.exports import streamed
from coop.views import member_required, steward_required

from . import rules, selectors, services
from .models import BenefitClaim, BenefitKind


class ClaimForm(forms.Form):
    kind = forms.ChoiceField(choices=BenefitKind.choices)
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="First day")
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Last day")
    amount = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), max_digits=13, decimal_places=2, help_text="Hardship and equipment only."
    )
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, help_text="Private: you and the deciders only.")
    evidence_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000, label="Evidence (optional)")
    evidence = forms.FileField(required=False, label="Evidence file (optional: PDF, PNG, JPEG or text, up to 2 MiB)")


@member_required
def benefits(request):
    """My claims, the form to file one, the claims I was drawn to decide, and my contributions record."""
    form = ClaimForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("evidence")
        evidence = None
        if upload is not None:
            if upload.size > services.MAX_EVIDENCE_BYTES:
                form.add_error("evidence", "Evidence files are up to 2 MiB.")
            else:
                evidence = (upload.name, upload.content_type or "", upload.read(services.MAX_EVIDENCE_BYTES + 1))
        if not form.errors:
            try:
                claim = services.benefit_claim_file(member=request.user, evidence_file=evidence, **data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Claim #{claim.pk} filed: {claim.get_status_display().lower()}.")
                return redirect("marketplace:benefit_claim", pk=claim.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "marketplace/benefits/benefits.html",
        {
            "form": form,
            "claims": selectors.claims_of(request.user)[:100],
            "to_decide": selectors.claims_to_decide(request.user),
            "record": selectors.contributions_record(request.user)["currencies"],
            "eligibility": rules.eligibility(request.user),
            "day_pay": rules.day_pay(request.user),
        },
        status=status,
    )


@member_required
def claim_detail(request, pk: int):
    """A claim: the claimant and its deciders see the statement and evidence; stewards see the rest; nobody else sees it."""
    claim = get_object_or_404(BenefitClaim.objects.select_related("member", "proposal"), pk=pk)
    private = selectors.can_see_private(request.user, claim)
    if not (private or request.user.is_steward):
        raise Http404("No such claim.")
    evidence = getattr(claim, "evidence", None) if private else None
    return render(
        request,
        "marketplace/benefits/claim.html",
        {"claim": claim, "private": private, "evidence": evidence, "decider": selectors.can_decide(request.user, claim)},
    )


@member_required
def claim_evidence(request, pk: int):
    claim = get_object_or_404(BenefitClaim, pk=pk)
    evidence = getattr(claim, "evidence", None)
    if not selectors.can_see_private(request.user, claim) or evidence is None or evidence.content is None:
        raise Http404("No evidence file.")
    response = HttpResponse(bytes(evidence.content), content_type=evidence.content_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.pk}-evidence"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@member_required
def fund(request):
    """The fund in public: balance, inflow and outflow by month, claims paid by kind (small cells withheld), the rules' history."""
    return render(request, "marketplace/benefits/fund.html", selectors.fund_transparency("USD"))


@member_required
def record(request):
    """My contributions record as a download (csv by default, or json / jsonl)."""
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "json", "jsonl"):
        fmt = "csv"
    return streamed(fmt, selectors.contributions_rows(request.user), fields=selectors.CONTRIBUTION_FIELDS, filename="my-benefits-record")


@steward_required
def steward_benefits(request):
    """What stewards watch: claims waiting for a decision or for the fund (no statements, no evidence), and the fund."""
    return render(
        request,
        "marketplace/benefits/stewards.html",
        {"claims": selectors.claims_for_stewards(), "balance": selectors.fund_balance("USD")},
    )


@steward_required
@require_POST
def steward_pay_queue(request):
    paid = services.benefit_claims_pay_queued(currency="USD")
    messages.success(request, f"{paid} approved claim{'s' if paid != 1 else ''} paid from the fund.")
    return redirect("marketplace:steward_benefits")
