import zoneinfo

from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .error_codes import CoopErrorCode
from .errors import error_body

# Paths a steward without MFA may still reach: the pages that set MFA up, logout, assets.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/healthz", "/__reload__")


def user_has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StewardMFARequiredMiddleware:
    """Stewards hold power over other members' work and standing, so they must use TOTP.

    A steward without an authenticator is sent to set one up (the API answers
    403 with code `mfa_required`) before any other page works.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "is_steward", False)
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and not user_has_totp(user)
        ):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    error_body(CoopErrorCode.MFA_REQUIRED, "Stewards must set up two-factor authentication first."), status=403
                )
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")
        return self.get_response(request)


class MemberTimezoneMiddleware:
    """Pages show dates in the signed-in member's own timezone (their profile), everything else in UTC.

    Stored times stay UTC; exports keep ISO 8601 with the offset.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        membership = getattr(user, "membership", None) if user is not None and user.is_authenticated else None
        try:
            if membership is not None and membership.timezone:
                timezone.activate(zoneinfo.ZoneInfo(membership.timezone))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
