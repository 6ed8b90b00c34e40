"""Demo accounts for seed_demo and demo_totp. Never used outside the demo domain."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from coop import services
from coop.models import Membership, User

DEMO_DOMAIN = "demo.coop.localhost"
DEMO_PASSWORD = "coop-demo-2026"
# A fixed base32 TOTP secret so the demo steward can log in; never reuse it for a real account.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def ensure_demo_user(handle, name, country, tz, languages, skills, *, steward=False, status=Membership.Status.ACTIVE) -> User:
    """Create the demo user through the real services (apply, admit, activate), once."""
    from allauth.mfa.totp.internal.auth import TOTP

    email = f"{handle}@{DEMO_DOMAIN}"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        services.membership_apply(user=user, display_name=name, country=country, timezone_name=tz, languages=languages, skills=skills)
        if status == Membership.Status.ACTIVE:
            membership = services.membership_admit(membership=user.membership, actor=None, reason="Demo data")
            services.membership_activate(membership=membership, actor=user, accept_agreement=True)
            if steward:
                services.membership_steward_set(membership=membership, actor=None, is_steward=True, reason="Demo steward")
    if steward and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
    return User.objects.select_related("membership").get(pk=user.pk)


def current_totp_code(user: User) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counters[len(counters) // 2]))
