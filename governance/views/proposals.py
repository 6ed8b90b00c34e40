"""Proposals, voting, appeals and notification preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError, NotFound
from coop.rendering import render_markdown
from coop.views import apply_errors, member_required

from .. import selectors, services
from ..cases import case_html
from ..forms import AmendmentForm, AppealForm, CommentForm, OutcomeForm, PreferenceForm, ReasonForm, vote_form_for
from ..models import NotificationPreference, Proposal, ProposalKind
from ..rules import AMENDABLE_KINDS, KIND_RULES
from ..services.deliberation import COMMENT_EDIT_WINDOW


def _proposal_or_404(pk: int) -> Proposal:
    try:
        return selectors.proposal_get(pk)
    except NotFound:
        raise Http404 from None


@member_required
def proposal_list(request):
    status = request.GET.get("status", "open")
    status = status if status in ("open", "draft", "closed", "withdrawn", "all") else "open"
    kind = request.GET.get("kind", "")
    kind = kind if kind in ProposalKind.values else ""
    proposals = selectors.proposal_list(user=request.user, status=None if status == "all" else status, kind=kind or None)
    page = Paginator(proposals, 25).get_page(request.GET.get("page"))
    preference = NotificationPreference.objects.filter(user=request.user).first()
    return render(
        request,
        "governance/proposal_list.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "kinds": ProposalKind.choices,
            "preference_form": PreferenceForm(initial={"daily_digest": bool(preference and preference.daily_digest)}),
        },
    )


def _detail_context(request, proposal: Proposal, vote_form=None) -> dict:
    membership = selectors.membership_of(request.user)
    eligibility = selectors.eligibility(proposal=proposal, user=request.user)
    voted = selectors.has_voted(proposal=proposal, membership=membership)
    can_vote = eligibility["eligible"] and not (proposal.secret and voted)
    return {
        "proposal": proposal,
        "rule": KIND_RULES[proposal.kind],
        "eligibility": eligibility,
        "voted": voted,
        "my_vote": selectors.my_vote(proposal=proposal, user=request.user),
        "vote_form": (vote_form or vote_form_for(proposal)) if can_vote else None,
        "results": selectors.result_for_display(proposal),
        "turnout": selectors.turnout(proposal),
        "named_votes": selectors.named_votes(proposal),
        "withdraw_form": ReasonForm(auto_id="withdraw_%s") if _may_withdraw(request.user, proposal) else None,
        "sponsors": selectors.sponsors(proposal),
        "sponsored": selectors.has_sponsored(proposal=proposal, membership=membership),
        "is_author": proposal.created_by_id == request.user.pk,
        "is_party": selectors.is_party(proposal=proposal, membership=membership),
        "body_html": render_markdown(proposal.body),
        "thread": selectors.comment_thread(proposal),
        "comment_form": CommentForm(auto_id="comment_%s"),
        "discussion_open": proposal.status in ("draft", "scheduled", "open"),
        "amendments": selectors.amendment_list(proposal) if proposal.kind in AMENDABLE_KINDS else None,
        "amendment_form": AmendmentForm(initial={"body": proposal.body}, auto_id="amendment_%s"),
        "amendable": proposal.kind in AMENDABLE_KINDS and proposal.status in ("draft", "scheduled"),
        "outcome_form": OutcomeForm(initial={"statement": proposal.outcome_statement}, auto_id="outcome_%s"),
        "proxy_votes": selectors.proxy_votes_named(proposal),
        "edit_window": COMMENT_EDIT_WINDOW,
        "case_html": case_html(proposal, request.user),
    }


def _may_withdraw(user, proposal: Proposal) -> bool:
    if user.is_steward:
        return proposal.status in ("draft", "scheduled", "open")
    return bool(proposal.sponsors_required) and proposal.created_by_id == user.pk and proposal.status in ("draft", "scheduled")


def _require_reader(request, proposal: Proposal) -> None:
    """Members read every proposal; a suspended member also reads the ones about them (their suspension, their appeal)."""
    if request.user.is_member or request.user.is_superuser:
        return
    if proposal.membership_id and proposal.membership.user_id == request.user.pk:
        return
    raise PermissionDenied("Governance pages are for members of the co-op.")


@login_required
def proposal_detail(request, pk: int):
    proposal = _proposal_or_404(pk)
    _require_reader(request, proposal)
    return render(request, "governance/proposal_detail.html", _detail_context(request, proposal))


@login_required
def proposal_results(request, pk: int):
    """The results fragment the live page re-fetches when a vote is cast."""
    proposal = _proposal_or_404(pk)
    _require_reader(request, proposal)
    return render(
        request,
        "governance/partials/results.html",
        {"proposal": proposal, "results": selectors.result_for_display(proposal), "turnout": selectors.turnout(proposal)},
    )


@member_required
@require_POST
def proposal_vote(request, pk: int):
    proposal = _proposal_or_404(pk)
    form = vote_form_for(proposal, request.POST)
    if not form.is_valid():
        messages.error(request, "Your vote was not recorded: " + "; ".join(e for errors in form.errors.values() for e in errors))
        return render(request, "governance/proposal_detail.html", _detail_context(request, proposal, form), status=400)
    try:
        receipt = services.ballot_cast(proposal=proposal, user=request.user, **form.ballot())
    except ApplicationError as error:
        messages.error(request, f"Your vote was not recorded: {error.message}")
    else:
        if receipt.secret:
            messages.success(request, "Your secret vote is recorded. It cannot be changed or linked to you.")
        elif receipt.changed:
            messages.success(request, "Your vote is changed; the earlier one stays in your vote history.")
        elif receipt.recorded:
            messages.success(request, "Your vote is recorded. You can change it until voting closes.")
        else:
            messages.info(request, "That is already your vote.")
    return redirect("governance:proposal_detail", pk=pk)


@member_required
@require_POST
def proposal_withdraw(request, pk: int):
    proposal = _proposal_or_404(pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.proposal_withdraw(actor=request.user, proposal=proposal, reason=form.cleaned_data.get("reason", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Proposal withdrawn.")
    return redirect("governance:proposal_detail", pk=pk)


@login_required
def appeal_new(request):
    """A suspended member appeals their suspension (always possible: no deactivation without an appeal path)."""
    if request.user.is_client:
        raise PermissionDenied("Client users are not members of the co-op.")
    membership = selectors.membership_of(request.user)
    if membership is None:
        raise Http404
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.appeal_file(member=request.user, subject=membership, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Your appeal is filed. You will be told the decision.")
            return redirect("governance:proposal_detail", pk=proposal.pk)
    appeals = Proposal.objects.filter(kind=ProposalKind.APPEAL, created_by=request.user).order_by("-created_at")
    return render(request, "governance/appeal_new.html", {"form": form, "membership": membership, "appeals": appeals})


@member_required
@require_POST
def preferences(request):
    form = PreferenceForm(request.POST)
    form.is_valid()
    services.preference_set(user=request.user, daily_digest=form.cleaned_data.get("daily_digest", False))
    messages.success(request, "Notification preference saved.")
    return redirect("governance:proposal_list")
