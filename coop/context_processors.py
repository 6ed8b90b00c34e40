from django.conf import settings
from django.urls import NoReverseMatch, reverse


def _nav(entries):
    items = []
    for label, url_name in entries:
        try:
            items.append({"label": label, "url": reverse(url_name)})
        except NoReverseMatch:
            continue
    return items


def portal(request):
    """Site name, unread count, and the navigation/dashboard pieces other apps contribute via settings."""
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        unread = user.notifications.filter(read_at__isnull=True).count()
    return {
        "COOP_NAME": settings.COOP_NAME,
        "unread_notifications": unread,
        "member_nav_items": _nav(settings.PORTAL_MEMBER_NAV),
        "member_dashboard_cards": settings.PORTAL_MEMBER_DASHBOARD_CARDS,
    }
