"""Portal pages of the co-op domain. HTTP only: forms in, services called, templates out."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services
from .errors import ApplicationError
from .forms import (
    ActivateForm,
    MembershipApplicationForm,
    OrganizationForm,
    OrganizationUserForm,
    ProfileForm,
    ReasonForm,
    RequiredReasonForm,
    TokenForm,
)
from .models import ApiToken, Membership


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles and not (request.user.is_superuser and "steward" in roles):
                raise PermissionDenied(_why_not(request.user, roles))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _why_not(user, roles) -> str:
    """Why this role may not open the page, and what to do about it (shown on the 403 page)."""
    membership = getattr(user, "membership", None)
    if roles == ("steward",):
        return "This page is for stewards, the members elected to run the co-op day to day. Stewards are elected by the members."
    if user.is_client:
        return "This page is for members of the co-op. Your organization's work is in the client console (Projects in the menu)."
    if membership is None:
        return "This page is for members of the co-op. Apply for membership from the Membership page."
    if membership.status == Membership.Status.SUSPENDED:
        return (
            "Your membership is suspended, so member pages are closed to you for now. "
            "You can read your case and appeal it from the governance appeal page."
        )
    if membership.status in (Membership.Status.APPLIED, Membership.Status.ADMITTED):
        return "This page opens once your membership is active: see the Membership page for the next step."
    return "This page is for members in good standing. See the Membership page for your status."


steward_required = role_required("steward")
member_required = role_required("member", "steward")


def apply_errors(form, error: ApplicationError) -> None:
    """Show a service's refusal on the form: field messages where it names fields, else at the top."""
    placed = False
    for field, field_messages in error.fields.items():
        if field in form.fields:
            for message in field_messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def home(request):
    if request.user.is_authenticated:
        return redirect("coop:dashboard")
    return render(request, "coop/home.html", {"counts": selectors.membership_counts()})


@login_required
def dashboard(request):
    user = request.user
    context = {"role": user.role, "membership": getattr(user, "membership", None)}
    if user.is_steward:
        context["counts"] = selectors.membership_counts()
        context["applications"] = selectors.membership_list(status=Membership.Status.APPLIED)[:5]
        context["organizations"] = selectors.organization_list()[:5]
    if user.is_client:
        context["organization"] = user.organization
        context["tokens"] = selectors.api_tokens_for(organization=user.organization)[:5]
    context["notifications"] = selectors.notification_list(user=user)[:5]
    return render(request, "coop/dashboard.html", context)


# --- Membership -------------------------------------------------------------------------------


@login_required
def membership_detail(request):
    user = request.user
    if user.is_client:
        raise PermissionDenied("Client users are not members of the co-op.")
    membership = getattr(user, "membership", None)
    can_apply = membership is None or membership.status in (Membership.Status.LEFT, Membership.Status.DECLINED)
    form = MembershipApplicationForm(request.POST or None) if can_apply else None
    if can_apply and request.method == "POST" and form.is_valid():
        try:
            services.membership_apply(user=user, **form.cleaned_data)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Application sent. The stewards will review it; you will be notified.")
            return redirect("coop:membership")
    context = {
        "membership": membership,
        "form": form,
        "activate_form": ActivateForm(),
        "leave_form": ReasonForm(),
        "events": selectors.membership_events(membership=membership) if membership else [],
        "profile_form": ProfileForm.for_membership(membership) if membership else None,
    }
    return render(request, "coop/membership.html", context)


@login_required
@require_POST
def membership_activate(request):
    membership = get_object_or_404(Membership, user=request.user)
    form = ActivateForm(request.POST)
    try:
        services.membership_activate(
            membership=membership, actor=request.user, accept_agreement=form.is_valid() and form.cleaned_data["accept_agreement"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Welcome, member! You can now take work and vote.")
    return redirect("coop:membership")


@login_required
@require_POST
def membership_leave(request):
    membership = get_object_or_404(Membership, user=request.user)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.membership_leave(membership=membership, actor=request.user, reason=form.cleaned_data.get("reason", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, "You have left the co-op. Your work records stay yours; you can re-apply at any time.")
    return redirect("coop:membership")


@login_required
@require_POST
def membership_profile(request):
    membership = get_object_or_404(Membership, user=request.user)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.membership_update_profile(membership=membership, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Profile saved.")
    else:
        messages.error(request, "The profile has errors: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return redirect("coop:membership")


# --- Stewards: applications and members --------------------------------------------------------


@steward_required
def steward_members(request):
    status = request.GET.get("status", "")
    if status and status not in Membership.Status.values:
        status = ""
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.membership_list(status=status or None, search=search), 25).get_page(request.GET.get("page"))
    template = "coop/partials/member_rows.html" if request.htmx else "coop/steward_members.html"
    return render(
        request,
        template,
        {"page": page, "status": status, "q": search, "statuses": Membership.Status.choices, "counts": selectors.membership_counts()},
    )


@steward_required
def steward_applications(request):
    return render(
        request,
        "coop/steward_applications.html",
        {"applications": selectors.membership_list(status=Membership.Status.APPLIED), "form": RequiredReasonForm()},
    )


@steward_required
def steward_member_detail(request, pk: int):
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    return render(
        request,
        "coop/steward_member_detail.html",
        {"m": membership, "events": selectors.membership_events(membership=membership), "form": ReasonForm()},
    )


STEWARD_ACTIONS = {
    "admit": lambda m, actor, reason: services.membership_admit(membership=m, actor=actor, reason=reason),
    "decline": lambda m, actor, reason: services.membership_decline(membership=m, actor=actor, reason=reason),
    "reinstate": lambda m, actor, reason: services.membership_reinstate(membership=m, actor=actor, reason=reason),
    "grant_steward": lambda m, actor, reason: services.membership_steward_set(membership=m, actor=actor, is_steward=True, reason=reason),
    "revoke_steward": lambda m, actor, reason: services.membership_steward_set(
        membership=m, actor=actor, is_steward=False, reason=reason
    ),
}


@steward_required
@require_POST
def steward_member_action(request, pk: int, action: str):
    if action not in STEWARD_ACTIONS:
        raise Http404
    membership = get_object_or_404(Membership, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        STEWARD_ACTIONS[action](membership, request.user, form.cleaned_data.get("reason", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Done: {action.replace('_', ' ')} — {membership.display_name}.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("coop:steward_member", pk=pk)


# --- Client organizations ----------------------------------------------------------------------


@steward_required
def organization_list(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Organization {organization.name} created.")
            return redirect("coop:organization", slug=organization.slug)
    return render(request, "coop/organization_list.html", {"organizations": selectors.organization_list(), "form": form})


@login_required
def organization_detail(request, slug: str):
    organization = selectors.organization_visible_to(user=request.user, slug=slug)
    if organization is None:
        raise Http404
    can_manage = request.user.is_steward or (request.user.is_org_admin and request.user.organization_id == organization.pk)
    token_form = TokenForm(request.POST or None, prefix="token")
    user_form = OrganizationUserForm(request.POST or None, prefix="user")
    new_token = None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if "token-name" in request.POST and token_form.is_valid():
            try:
                issued = services.api_token_create(
                    actor=request.user,
                    organization=organization,
                    name=token_form.cleaned_data["name"],
                    expires_at=token_form.cleaned_data["expires_at"],
                )
            except ApplicationError as error:
                apply_errors(token_form, error)
            else:
                new_token = issued
                token_form = TokenForm(prefix="token")
        elif "user-email" in request.POST and user_form.is_valid():
            try:
                added = services.organization_add_user(actor=request.user, organization=organization, **user_form.cleaned_data)
            except ApplicationError as error:
                apply_errors(user_form, error)
            else:
                messages.success(request, f"{added.email} added. They set a password with 'Forgot password'.")
                return redirect("coop:organization", slug=organization.slug)
    return render(
        request,
        "coop/organization_detail.html",
        {
            "organization": organization,
            "can_manage": can_manage,
            "tokens": selectors.api_tokens_for(organization=organization),
            "users": organization.users.order_by("email"),
            "token_form": token_form,
            "user_form": user_form,
            "new_token": new_token,
        },
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    visible = (
        token.user_id == request.user.pk
        or request.user.is_steward
        or (token.organization_id and token.organization_id == request.user.organization_id)
    )
    if not visible:
        raise Http404
    try:
        services.api_token_revoke(actor=request.user, token=token)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Token {token.name} revoked; it stops working immediately.")
    if token.organization_id:
        return redirect("coop:organization", slug=token.organization.slug)
    return redirect("coop:tokens")


@member_required
def personal_tokens(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token = services.api_token_create(
                actor=request.user, user=request.user, name=form.cleaned_data["name"], expires_at=form.cleaned_data["expires_at"]
            )
        except ApplicationError as error:
            apply_errors(form, error)
        else:
            form = TokenForm()
    return render(
        request,
        "coop/tokens.html",
        {"tokens": selectors.api_tokens_for(user=request.user), "form": form, "new_token": new_token},
    )


# --- Notifications -----------------------------------------------------------------------------


@login_required
def notifications(request):
    if request.method == "POST":
        services.notification_mark_read(user=request.user)
        if request.htmx:
            return render(request, "coop/partials/notification_badge.html", {"unread_notifications": 0})
        return redirect("coop:notifications")
    page = Paginator(selectors.notification_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "coop/notifications.html", {"page": page})
