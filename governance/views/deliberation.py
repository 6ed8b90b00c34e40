"""Member initiative, discussion, amendments, outcomes, proxies and interim suspensions: HTTP only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from coop.errors import ApplicationError
from coop.models import Membership
from coop.rendering import render_markdown
from coop.views import apply_errors, member_required, steward_required

from .. import selectors, services
from ..forms import (
    STEWARD_KINDS,
    AmendmentForm,
    CommentForm,
    DelegationForm,
    InterimSuspensionForm,
    MemberProposalForm,
    OutcomeForm,
    ProposalForm,
)
from ..models import Amendment, Comment, Delegation, InterimSuspension, ProposalKind
from ..rules import KIND_RULES, MEMBER_KINDS
from .proposals import _proposal_or_404, _require_reader


@member_required
def proposal_new(request):
    """Members put proposals forward (they go to ballot once co-sponsored); stewards may also open one directly."""
    kind = request.GET.get("kind", "")
    direct = request.user.is_steward and request.GET.get("direct") == "1"
    member_kinds = [(k, ProposalKind(k).label) for k in MEMBER_KINDS]
    if direct and kind in dict(STEWARD_KINDS):
        return _steward_proposal(request, kind)
    if kind not in MEMBER_KINDS:
        return render(
            request,
            "governance/proposal_new.html",
            {"member_kinds": member_kinds, "kinds": STEWARD_KINDS if request.user.is_steward else [], "rules": KIND_RULES},
        )
    form = MemberProposalForm(request.POST or None, kind=kind)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["body"])
        else:
            try:
                proposal = services.proposal_draft(author=request.user, **form.service_kwargs())
            except ApplicationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Your proposal is up. It goes to a vote once {proposal.sponsors_required} other members co-sponsor it.",
                )
                return redirect("governance:proposal_detail", pk=proposal.pk)
    return render(
        request,
        "governance/proposal_new.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": ProposalKind(kind).label,
            "rule": KIND_RULES[kind],
            "preview": preview,
            "member_form": True,
            "cosponsors_needed": int(selectors.policy_current("proposal_cosponsors")),
        },
    )


def _steward_proposal(request, kind: str):
    form = ProposalForm(request.POST or None, kind=kind, initial={"membership": request.GET.get("membership")})
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        try:
            if kind == ProposalKind.SUSPENSION:
                rules = {k: kwargs.get(k) for k in ("quorum_pct", "duration")}
                proposal = services.suspension_propose(
                    actor=request.user, membership=kwargs.get("membership"), **kwargs["payload"], **rules
                )
            else:
                proposal = services.proposal_create(actor=request.user, **kwargs)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Proposal created." + (" Voting is open." if proposal.status == "open" else ""))
            return redirect("governance:proposal_detail", pk=proposal.pk)
    return render(
        request,
        "governance/proposal_new.html",
        {"form": form, "kind": kind, "kind_label": ProposalKind(kind).label, "rule": KIND_RULES[kind], "direct": True},
    )


def _back(pk: int, anchor: str = ""):
    response = redirect("governance:proposal_detail", pk=pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _run(request, action, success: str) -> bool:
    try:
        action()
    except ApplicationError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, success)
    return True


@member_required
@require_POST
def proposal_cosponsor(request, pk: int):
    proposal = _proposal_or_404(pk)
    _run(request, lambda: services.proposal_cosponsor(proposal=proposal, user=request.user), "You co-sponsor this proposal.")
    return _back(pk)


@login_required
@require_POST
def comment_post(request, pk: int):
    """Post a comment; on a refusal the page comes back with what was typed and the reason beside the box."""
    proposal = _proposal_or_404(pk)
    _require_reader(request, proposal)
    form = CommentForm(request.POST, auto_id="comment_%s")
    if form.is_valid():
        parent = Comment.objects.filter(pk=form.cleaned_data.get("parent") or 0, proposal=proposal).first()
        try:
            services.comment_post(proposal=proposal, author=request.user, body=form.cleaned_data["body"], parent=parent)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Comment posted.")
            return _back(pk, "discussion")
    return _detail_again(request, proposal, comment_form=form)


def _detail_again(request, proposal, **forms):
    from .proposals import _detail_context

    context = _detail_context(request, proposal)
    context.update(forms)
    context["discussion_open"] = True  # keep the box the member typed into
    return render(request, "governance/proposal_detail.html", context, status=400)


@login_required
@require_POST
def comment_edit(request, pk: int, comment_pk: int):
    comment = get_object_or_404(Comment, pk=comment_pk, proposal_id=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        _run(request, lambda: services.comment_edit(comment=comment, author=request.user, body=form.cleaned_data["body"]), "Saved.")
    return _back(pk, f"comment-{comment_pk}")


@steward_required
@require_POST
def comment_hide(request, pk: int, comment_pk: int):
    comment = get_object_or_404(Comment, pk=comment_pk, proposal_id=pk)
    reason = request.POST.get("reason", "")
    _run(request, lambda: services.comment_hide(comment=comment, actor=request.user, reason=reason), "Comment hidden; the reason is logged.")
    return _back(pk, "discussion")


@member_required
@require_POST
def amendment_propose(request, pk: int):
    proposal = _proposal_or_404(pk)
    form = AmendmentForm(request.POST, auto_id="amendment_%s")
    if form.is_valid():
        try:
            services.amendment_propose(proposal=proposal, author=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Amendment proposed. The author may accept it; otherwise the members decide it before the motion.")
            return _back(pk, "amendments")
    return _detail_again(request, proposal, amendment_form=form)


@member_required
@require_POST
def amendment_decide(request, pk: int, amendment_pk: int):
    amendment = get_object_or_404(Amendment, pk=amendment_pk, proposal_id=pk)
    accept = request.POST.get("decision") == "accept"
    _run(
        request,
        lambda: services.amendment_decide(amendment=amendment, actor=request.user, accept=accept),
        "Amendment accepted into the motion." if accept else "Done.",
    )
    return _back(pk, "amendments")


@login_required
@require_POST
def outcome_set(request, pk: int):
    proposal = _proposal_or_404(pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: services.outcome_statement_set(proposal=proposal, actor=request.user, statement=form.cleaned_data["statement"]),
            "Outcome recorded.",
        )
    return _back(pk)


@member_required
def proxies(request):
    """Name, change or revoke the members who vote for you on named ballots when you do not."""
    me = selectors.membership_of(request.user)
    form = DelegationForm(request.POST or None, me=me)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_set(user=request.user, delegate=form.cleaned_data["delegate"], category=form.cleaned_data["category"])
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['delegate'].display_name} is now your proxy.")
            return redirect("governance:proxies")
    return render(
        request,
        "governance/proxies.html",
        {"form": form, "delegations": selectors.delegations_of(me), "limit": int(selectors.policy_current("proxy_limit"))},
    )


@member_required
@require_POST
def proxy_revoke(request, pk: int):
    delegation = get_object_or_404(Delegation, pk=pk)
    _run(request, lambda: services.delegation_revoke(user=request.user, delegation=delegation), "Proxy revoked: your vote is yours again.")
    return redirect("governance:proxies")


# --- Interim suspensions (stewards) ---------------------------------------------------------------------


@steward_required
def interim_panel(request, membership_pk: int):
    """The steward member page's due-process panel (loaded into coop's page)."""
    membership = get_object_or_404(Membership, pk=membership_pk)
    return render(
        request,
        "governance/partials/interim_panel.html",
        {"m": membership, "interims": selectors.interim_suspensions_for(membership), "form": InterimSuspensionForm()},
    )


@steward_required
@require_POST
def interim_request(request, membership_pk: int):
    membership = get_object_or_404(Membership, pk=membership_pk)
    form = InterimSuspensionForm(request.POST)
    form.is_valid()
    _run(
        request,
        lambda: services.interim_suspension_request(
            actor=request.user, membership=membership, ground=form.cleaned_data.get("ground", ""), evidence=request.POST.get("evidence", "")
        ),
        "Interim suspension asked for: a second steward must confirm it before it takes effect.",
    )
    return redirect("coop:steward_member", pk=membership_pk)


@steward_required
@require_POST
def interim_action(request, pk: int, action: str):
    interim = get_object_or_404(InterimSuspension, pk=pk)
    if action == "confirm":
        _run(
            request,
            lambda: services.interim_suspension_confirm(actor=request.user, interim=interim),
            "Confirmed: the member is suspended for now and the members' review vote is open.",
        )
    elif action == "cancel":
        _run(
            request,
            lambda: services.interim_suspension_cancel(actor=request.user, interim=interim, reason=request.POST.get("reason", "")),
            "Request cancelled.",
        )
    else:
        raise Http404
    return redirect("coop:steward_member", pk=interim.membership_id)
