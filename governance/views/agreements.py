"""Contracts and data-use agreements: every member reads them; stewards draft, amend and propose them."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.views import apply_errors, member_required, steward_required

from .. import selectors, services
from ..agreement_text import agreement_diff
from ..forms import ContractForm, DuaForm, ReasonForm
from ..models import AgreementStatus, Contract, DataUseAgreement
from ..rules import PURPOSES


def _client_reads_in_console(console_url: str):
    """Client users read their own organization's agreements in the client console; everyone else as before (members only)."""

    def decorator(view):
        members_only = member_required(view)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated and request.user.is_client:
                return redirect(console_url, **kwargs)  # the console page 404s for another organization's agreement
            return members_only(request, *args, **kwargs)

        return wrapper

    return decorator


def _contract(pk: int) -> Contract:
    return get_object_or_404(Contract.objects.select_related("organization", "ratified_by", "previous"), pk=pk)


def _dua(pk: int) -> DataUseAgreement:
    return get_object_or_404(
        DataUseAgreement.objects.select_related("contract__organization", "ratified_by", "previous", "deletion_attested_by"),
        pk=pk,
    )


@_client_reads_in_console("marketplace:console_agreements")
def contract_list(request):
    status = request.GET.get("status", "")
    status = status if status in AgreementStatus.values else ""
    return render(
        request,
        "governance/contract_list.html",
        {"contracts": selectors.contract_list(status=status or None), "status": status, "statuses": AgreementStatus.choices},
    )


@_client_reads_in_console("marketplace:console_contract")
def contract_detail(request, pk: int):
    contract = _contract(pk)
    return render(
        request,
        "governance/contract_detail.html",
        {
            "contract": contract,
            "diff": agreement_diff(contract.previous, contract) if contract.previous else None,
            "versions": selectors.agreement_versions(contract),
            "duas": contract.data_use_agreements.order_by("-version"),
            "proposals": contract.proposals.order_by("-created_at"),
            "reason_form": ReasonForm(),
        },
    )


@steward_required
def contract_new(request):
    form = ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(
                actor=request.user, organization=form.cleaned_data["organization"], **form.terms()
            )
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Draft contract saved. Propose it for ratification when it is ready.")
            return redirect("governance:contract_detail", pk=contract.pk)
    return render(request, "governance/agreement_form.html", {"form": form, "heading": "New contract"})


@steward_required
def contract_edit(request, pk: int):
    contract = _contract(pk)
    form = ContractForm.for_contract(contract, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(actor=request.user, contract=contract, **form.terms())
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Draft saved.")
            return redirect("governance:contract_detail", pk=contract.pk)
    return render(
        request, "governance/agreement_form.html", {"form": form, "heading": f"Edit draft: {contract.title} v{contract.version}"}
    )


CONTRACT_ACTIONS = {
    "amend": lambda request, contract: services.contract_amend(actor=request.user, contract=contract),
    "propose": lambda request, contract: services.contract_propose(actor=request.user, contract=contract),
    "terminate": lambda request, contract: services.contract_terminate(
        actor=request.user, contract=contract, reason=request.POST.get("reason", "")
    ),
}


@steward_required
@require_POST
def contract_action(request, pk: int, action: str):
    if action not in CONTRACT_ACTIONS:
        raise Http404
    contract = _contract(pk)
    try:
        result = CONTRACT_ACTIONS[action](request, contract)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("governance:contract_detail", pk=pk)
    if action == "amend":
        messages.success(request, f"Amendment v{result.version} drafted: change the terms, then propose it.")
        return redirect("governance:contract_edit", pk=result.pk)
    if action == "propose":
        messages.success(request, "Put to the members' vote.")
        return redirect("governance:proposal_detail", pk=result.pk)
    messages.success(request, "Contract terminated.")
    return redirect("governance:contract_detail", pk=pk)


@_client_reads_in_console("marketplace:console_agreements")
def dua_list(request):
    return render(
        request, "governance/dua_list.html", {"duas": selectors.dua_list(), "overdue": selectors.dua_retention_overdue()}
    )


@_client_reads_in_console("marketplace:console_dua")
def dua_detail(request, pk: int):
    dua = _dua(pk)
    return render(
        request,
        "governance/dua_detail.html",
        {
            "dua": dua,
            "purposes": [(code, PURPOSES.get(code, code)) for code in dua.permitted_purposes],
            "retention_ends_on": selectors.dua_retention_ends_on(dua),
            "diff": agreement_diff(dua.previous, dua) if dua.previous else None,
            "versions": selectors.agreement_versions(dua),
            "proposals": dua.proposals.order_by("-created_at"),
            "exports": dua.exports.order_by("-created_at")[:50],
        },
    )


@steward_required
def dua_new(request, contract_pk: int):
    contract = _contract(contract_pk)
    form = DuaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dua = services.dua_create(actor=request.user, contract=contract, **form.terms())
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Draft data-use agreement saved.")
            return redirect("governance:dua_detail", pk=dua.pk)
    return render(
        request, "governance/agreement_form.html", {"form": form, "heading": f"New data-use agreement for {contract.title}"}
    )


@steward_required
def dua_edit(request, pk: int):
    dua = _dua(pk)
    form = DuaForm.for_dua(dua, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dua_update(actor=request.user, dua=dua, **form.terms())
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Draft saved.")
            return redirect("governance:dua_detail", pk=dua.pk)
    return render(
        request, "governance/agreement_form.html", {"form": form, "heading": f"Edit draft data-use agreement v{dua.version}"}
    )


@steward_required
@require_POST
def dua_action(request, pk: int, action: str):
    if action not in ("amend", "propose"):
        raise Http404
    dua = _dua(pk)
    try:
        if action == "amend":
            amendment = services.dua_amend(actor=request.user, dua=dua)
        else:
            proposal = services.dua_propose(actor=request.user, dua=dua)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("governance:dua_detail", pk=pk)
    if action == "amend":
        messages.success(request, f"Amendment v{amendment.version} drafted: change the terms, then propose it.")
        return redirect("governance:dua_edit", pk=amendment.pk)
    messages.success(request, "Put to the members' vote.")
    return redirect("governance:proposal_detail", pk=proposal.pk)
