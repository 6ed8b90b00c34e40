"""Client organizations and their users."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import ClientOrganization, User

from ..validation import require_steward

EDITABLE_FIELDS = ("contact_name", "contact_email", "contact_phone", "website", "billing_address")


@transaction.atomic
def organization_create(*, actor: User | None, name: str, **details) -> ClientOrganization:
    require_steward(actor, system=True)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ApplicationError("An organization name of 1 to 120 characters is required.", fields={"name": ["Required."]})
    slug = slugify(name)[:120]
    if not slug:
        raise ApplicationError("The name needs at least one letter or digit.", fields={"name": ["Invalid name."]})
    unknown = set(details) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if ClientOrganization.objects.filter(name__iexact=name).exists() or ClientOrganization.objects.filter(slug=slug).exists():
        message = f"An organization named {name!r} already exists."
        raise Conflict(message, code=CoopErrorCode.DUPLICATE, fields={"name": [message]})
    try:
        with transaction.atomic():
            return ClientOrganization.objects.create(name=name, slug=slug, created_by=actor, **details)
    except IntegrityError as exc:  # a concurrent create with the same name
        raise Conflict(f"An organization named {name!r} already exists.", code=CoopErrorCode.DUPLICATE) from exc


@transaction.atomic
def organization_update(*, actor: User | None, organization: ClientOrganization, **changes) -> ClientOrganization:
    if actor is not None and not (actor.is_steward or (actor.is_org_admin and actor.organization_id == organization.pk)):
        raise Forbidden("You cannot edit this organization.")
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"is_active"}
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "is_active" in changes:
        require_steward(actor, system=True)
    for key, value in changes.items():
        setattr(organization, key, value)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def organization_add_user(
    *, actor: User | None, organization: ClientOrganization, email: str, password: str | None = None, is_org_admin: bool = False
) -> User:
    """Create a client user in the organization (a verified email address, since a steward/admin vouches for it)."""
    from allauth.account.models import EmailAddress

    if actor is not None and not (actor.is_steward or (actor.is_org_admin and actor.organization_id == organization.pk)):
        raise Forbidden("Only stewards and the organization's admins can add its users.")
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ApplicationError("A valid email address is required.", fields={"email": ["Enter a valid email address."]})
    if User.objects.filter(email=email).exists():
        raise Conflict("A user with this email already exists.", code=CoopErrorCode.DUPLICATE, fields={"email": ["Already registered."]})
    user = User.objects.create_user(email=email, password=password, organization=organization, is_org_admin=is_org_admin)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
