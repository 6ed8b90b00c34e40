"""Portal pages for money: a member's earnings, statement and payouts; the stewards' payouts and books desk.

HTTP only: forms in, ledger services called, selectors read. A member only
ever reaches their own ledger rows and payouts (another member's payout is a 404).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.exports import streamed
from coop.models import ClientOrganization
from coop.views import member_required, steward_required

from .api_params import records_parameters
from .earnings import worker_earnings_summary, worker_project_pay
from .ledger import payouts, selectors, services
from .ledger.models import Payout, TransactionKind


class PayoutRequestForm(forms.Form):
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_digits=15,
        decimal_places=4,
        help_text="Leave empty to be paid everything available (rounded down to whole cents).",
    )
    currency = forms.RegexField(regex=r"^[A-Z]{3}$", initial="USD", widget=forms.HiddenInput)


class MarkPaidForm(forms.Form):
    reference = forms.CharField(max_length=200, help_text="The bank or mobile-money transfer reference.")


class DepositForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=ClientOrganization.objects.order_by("name"))
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=15, decimal_places=4)
    currency = forms.RegexField(regex=r"^[A-Z]{3}$", initial="USD", max_length=3)
    reference = forms.CharField(max_length=200, help_text="The bank transfer reference; recording it twice records it once.")


def _back_to_earnings(currency: str):
    return redirect(f"{reverse('marketplace:earnings')}?currency={currency}")


def _currency(request) -> str:
    currency = request.GET.get("currency", "USD")
    return currency if currency in selectors.worker_currencies(request.user) else "USD"


@member_required
def earnings(request):
    """Balance, pending vs accepted, hourly pay per project, the statement (filterable, downloadable) and payouts."""
    currency = _currency(request)
    try:
        fmt, date_from, date_to = records_parameters(request.GET)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("marketplace:earnings")
    statement = selectors.worker_statement(request.user, date_from, date_to, currency)
    if request.GET.get("download"):
        return streamed(fmt, statement["rows"], fields=selectors.WORKER_STATEMENT_FIELDS, filename=f"my-earnings-{currency.lower()}")
    for row in statement["rows"]:
        row["kind_label"] = TransactionKind(row["kind"]).label
    context = {"statement": statement, "date_from": date_from, "date_to": date_to, "currency": currency, "query": request.GET.urlencode()}
    if request.htmx:
        return render(request, "marketplace/partials/statement_rows.html", context)
    return render(
        request,
        "marketplace/earnings.html",
        {
            **context,
            "summary": worker_earnings_summary(request.user, currency),
            "projects": worker_project_pay(request.user, currency),
            "payouts": selectors.worker_payouts(request.user, currency)[:50],
            "currencies": selectors.worker_currencies(request.user),
            "form": PayoutRequestForm(initial={"currency": currency}),
            "minimum": payouts.PAYOUT_MINIMUM,
        },
    )


@member_required
@require_POST
def payout_request(request):
    form = PayoutRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{field}: {errors[0]}" for field, errors in form.errors.items()))
        return redirect("marketplace:earnings")
    currency = form.cleaned_data["currency"]
    try:
        payout = payouts.payout_request(worker=request.user, amount=form.cleaned_data["amount"], currency=currency)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Payout of {payout.currency} {payout.amount} requested. A steward will send it and record the reference.")
    return _back_to_earnings(currency)


@member_required
@require_POST
def payout_cancel(request, pk: int):
    payout = get_object_or_404(Payout, pk=pk, worker=request.user)
    try:
        payouts.payout_cancel(payout=payout, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Payout #{payout.pk} cancelled; the money is back in your available balance.")
    return _back_to_earnings(payout.currency)


# --- Stewards ------------------------------------------------------------------------------------


@steward_required
def steward_payouts(request):
    """Open payout requests to pay, recent decisions, client deposits and the books (trial balance must be zero)."""
    return render(
        request,
        "marketplace/steward_payouts.html",
        {
            **selectors.payout_desk(),
            "sheet": selectors.balance_sheet(),
            "deposit_form": DepositForm(initial={"currency": "USD"}),
            "paid_form": MarkPaidForm(),
        },
    )


@steward_required
@require_POST
def steward_payout_paid(request, pk: int):
    payout = get_object_or_404(Payout, pk=pk)
    form = MarkPaidForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("A transfer reference is required to mark a payout paid.")
        payouts.payout_mark_paid(payout=payout, reference=form.cleaned_data["reference"], steward=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Payout #{payout.pk} marked paid ({form.cleaned_data['reference']}).")
    return redirect("marketplace:steward_payouts")


@steward_required
@require_POST
def steward_payout_cancel(request, pk: int):
    payout = get_object_or_404(Payout, pk=pk)
    try:
        payouts.payout_cancel(payout=payout, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Payout #{payout.pk} cancelled; the money is back in the member's balance.")
    return redirect("marketplace:steward_payouts")


@steward_required
@require_POST
def steward_deposit(request):
    form = DepositForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{field}: {errors[0]}" for field, errors in form.errors.items()))
        return redirect("marketplace:steward_payouts")
    data = form.cleaned_data
    already = selectors.organization_deposits(data["organization"], reference=data["reference"].strip(), limit=1)
    try:
        posted = services.deposit_record(
            organization=data["organization"],
            amount=data["amount"],
            reference=data["reference"],
            currency=data["currency"],
            recorded_by=request.user,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        done = "was already recorded" if already else "recorded"
        messages.success(request, f"Deposit {posted.reference} from {data['organization'].name} {done}: {data['currency']} {data['amount']}.")
    return redirect("marketplace:steward_payouts")
