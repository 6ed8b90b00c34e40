"""Test data built through the real services where practical."""

from __future__ import annotations

import itertools

from allauth.account.models import EmailAddress

from coop import services
from coop.models import ClientOrganization, Membership, User

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def make_user(email: str | None = None, *, password: str = PASSWORD, verified: bool = True) -> User:
    email = email or f"person{next(_seq)}@example.org"
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_applicant(email: str | None = None, **profile) -> User:
    user = make_user(email)
    defaults = {"display_name": f"Applicant {user.pk}", "country": "KE", "timezone_name": "Africa/Nairobi", "languages": ["en"]}
    defaults.update(profile)
    services.membership_apply(user=user, **defaults)
    return User.objects.select_related("membership").get(pk=user.pk)


def make_member(email: str | None = None, **profile) -> User:
    user = make_applicant(email, **profile)
    membership = services.membership_admit(membership=user.membership, actor=None)
    services.membership_activate(membership=membership, actor=user, accept_agreement=True)
    return User.objects.select_related("membership").get(pk=user.pk)


def make_steward(email: str | None = None, *, with_totp: bool = True) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = make_member(email)
    services.membership_steward_set(membership=user.membership, actor=None, is_steward=True)
    if with_totp:
        TOTP.activate(user, generate_totp_secret())
    return User.objects.select_related("membership").get(pk=user.pk)


def make_organization(name: str | None = None, **details) -> ClientOrganization:
    return services.organization_create(actor=None, name=name or f"Client {next(_seq)}", **details)


def make_client_user(organization: ClientOrganization | None = None, *, admin: bool = True, email: str | None = None) -> User:
    organization = organization or make_organization()
    return services.organization_add_user(
        actor=None,
        organization=organization,
        email=email or f"client{next(_seq)}@{organization.slug}.example",
        password=PASSWORD,
        is_org_admin=admin,
    )


def org_token(organization: ClientOrganization, name: str = "test token") -> str:
    return services.api_token_create(actor=None, organization=organization, name=name).plaintext


def membership_of(user: User) -> Membership:
    return Membership.objects.get(user=user)
