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


def _groups(request, role: str) -> list[dict]:
    """The navigation groups for `role` (stewards also get the member groups), the current page's group marked."""
    roles = {"steward": ["member", "steward"], "member": ["member"], "applicant": ["applicant"]}.get(role, [])
    path = getattr(request, "path", "")
    groups, best = [], None
    for key in roles:
        for label, entries in settings.PORTAL_NAV.get(key, []):
            items = _nav(entries)
            for item in items:
                if path.startswith(item["url"]) and (best is None or len(item["url"]) > len(best["url"])):
                    best = item
            groups.append({"label": label, "items": items})
    for group in groups:
        group["current"] = any(item is best for item in group["items"])
        for item in group["items"]:
            item["current"] = item is best
    return groups


def portal(request):
    """Site name, unread count, and the navigation/dashboard pieces other apps contribute via settings."""
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        unread = user.notifications.filter(read_at__isnull=True).count()
    return {
        "COOP_NAME": settings.COOP_NAME,
        "unread_notifications": unread,
        "nav_groups": _groups(request, user.role) if user is not None and user.is_authenticated else [],
        "member_dashboard_cards": settings.PORTAL_MEMBER_DASHBOARD_CARDS,
    }
