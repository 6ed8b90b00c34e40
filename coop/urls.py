from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views
from .errors import api_not_found
from .health import healthz


portal_patterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("membership/", views.membership_detail, name="membership"),
    path("membership/activate/", views.membership_activate, name="membership_activate"),
    path("membership/leave/", views.membership_leave, name="membership_leave"),
    path("membership/profile/", views.membership_profile, name="membership_profile"),
    path("stewards/members/", views.steward_members, name="steward_members"),
    path("stewards/members/<int:pk>/", views.steward_member_detail, name="steward_member"),
    path("stewards/members/<int:pk>/<slug:action>/", views.steward_member_action, name="steward_member_action"),
    path("stewards/applications/", views.steward_applications, name="steward_applications"),
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization"),
    path("tokens/", views.personal_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("notifications/", views.notifications, name="notifications"),
]

api_v1_patterns = [
    path("", include(("coop.api_urls", "coop"), namespace="coop")),
    path("", include(("marketplace.api_urls", "marketplace"), namespace="marketplace")),
    path("", include(("governance.api_urls", "governance"), namespace="governance")),
    path("", include(("mlops.api_urls", "mlops"), namespace="mlops")),
]

urlpatterns = [
    path("", include((portal_patterns, "coop"), namespace="coop")),
    path("", include("marketplace.urls", namespace="marketplace")),
    path("", include("governance.urls", namespace="governance")),
    path("", include("mlops.urls", namespace="mlops")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include((api_v1_patterns, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Unknown API paths (and ids that are not integers) answer a JSON 404 for any method, even with DEBUG on
    # (Django's debug 404 page is HTML, and a POST would otherwise meet the CSRF check's HTML 403).
    re_path(r"^api/", api_not_found),
]

handler400 = "coop.errors.json_or_html_400"
handler403 = "coop.errors.json_or_html_403"
handler404 = "coop.errors.json_or_html_404"
handler500 = "coop.errors.json_or_html_500"
