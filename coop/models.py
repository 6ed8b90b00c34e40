"""The co-operative's own domain: people, membership, client organizations, tokens, notifications."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class Role(models.TextChoices):
    APPLICANT = "applicant", "Applicant"
    MEMBER = "member", "Member"
    STEWARD = "steward", "Steward"
    CLIENT = "client", "Client user"


class User(AbstractUser):
    """A person who can log in. Email is the login; there is no username.

    A user is either a worker (who may hold a Membership) or a client user (who
    belongs to a ClientOrganization); never both (see the check constraint and
    services.membership_apply).
    """

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    organization = models.ForeignKey(
        "coop.ClientOrganization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Set for client users only; a client user is never a member.",
    )
    is_org_admin = models.BooleanField(
        default=False, help_text="May manage the organization's users and API tokens."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_org_admin=False) | Q(organization__isnull=False),
                name="org_admin_has_organization",
            )
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    @property
    def role(self) -> str:
        """The role decides which pages and APIs a user sees."""
        if self.organization_id:
            return Role.CLIENT
        membership = getattr(self, "membership", None)
        if membership is not None and membership.status == Membership.Status.ACTIVE:
            return Role.STEWARD if membership.is_steward else Role.MEMBER
        return Role.APPLICANT

    @property
    def is_member(self) -> bool:
        return self.role in (Role.MEMBER, Role.STEWARD)

    @property
    def is_steward(self) -> bool:
        return self.role == Role.STEWARD

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def display_name(self) -> str:
        membership = getattr(self, "membership", None)
        if membership is not None and membership.display_name:
            return membership.display_name
        return self.email.split("@")[0]


class Membership(TimeStampedModel):
    """A worker's membership in the co-op and their public profile.

    Lifecycle: applied -> admitted -> active; active -> left; active -> suspended
    -> active. Every change goes through coop.services.membership and is recorded
    as a MembershipEvent.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        ADMITTED = "admitted", "Admitted"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        LEFT = "left", "Left"
        DECLINED = "declined", "Declined"

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="membership")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED, db_index=True)
    is_steward = models.BooleanField(default=False, help_text="Elected to the stewards' board.")
    display_name = models.CharField(max_length=80)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 country code.")
    timezone = models.CharField(max_length=64, default="UTC")
    languages = models.JSONField(default=list, blank=True, help_text="Language codes, e.g. ['en', 'sw'].")
    skills = models.JSONField(default=list, blank=True, help_text="Skills and domains, e.g. ['ocr', 'medical'].")
    motivation = models.TextField(blank=True)
    member_number = models.PositiveIntegerField(null=True, blank=True, unique=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_steward=False) | Q(status="active"),
                name="steward_is_active_member",
            ),
            models.CheckConstraint(
                condition=~Q(status="suspended") | ~Q(status_reason=""),
                name="suspension_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.get_status_display()})"

    @property
    def in_good_standing(self) -> bool:
        return self.status == self.Status.ACTIVE


class MembershipEvent(models.Model):
    """Append-only record of every membership state change: who, when and why."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    steward_change = models.CharField(
        max_length=16, blank=True, choices=[("granted", "Steward role granted"), ("revoked", "Steward role revoked")]
    )
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.membership.display_name}: {self.from_status or '-'} -> {self.to_status}"


class ClientOrganization(TimeStampedModel):
    """A company that posts labeling work through the API."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    billing_address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiToken(TimeStampedModel):
    """A bearer token, shown once at creation and stored as a SHA-256 digest.

    Scoped either to a client organization (client API) or to a member (the
    worker API), never both. The prefix identifies a token in lists without
    revealing it.
    """

    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    organization = models.ForeignKey(
        ClientOrganization, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(organization__isnull=False) & Q(user__isnull=True))
                | (Q(organization__isnull=True) & Q(user__isnull=False)),
                name="token_scoped_to_org_xor_user",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @property
    def scope(self) -> str:
        return "organization" if self.organization_id else "personal"


class Notification(models.Model):
    """A message to one user; also pushed live over the user's WebSocket."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=48)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self):
        return f"{self.user}: {self.title}"
