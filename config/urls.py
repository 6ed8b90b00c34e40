"""Every URL of the project: each app's portal pages and API, the admin, accounts, health, the API schema."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coop.errors import api_not_found
from coop.health import healthz

api_v1_patterns = [
    path("", include(("coop.api_urls", "coop"), namespace="coop")),
    path("", include(("marketplace.api_urls", "marketplace"), namespace="marketplace")),
    path("", include(("governance.api_urls", "governance"), namespace="governance")),
    path("", include(("mlops.api_urls", "mlops"), namespace="mlops")),
]

urlpatterns = [
    # The API first: Django tries the patterns in order, and every portal include that fails to match an API
    # path costs the resolver a list of what it tried (about half a millisecond per request behind four apps).
    path("api/v1/", include((api_v1_patterns, "api"), namespace="api")),
    path("", include("coop.urls", namespace="coop")),
    path("", include("marketplace.urls", namespace="marketplace")),
    path("", include("governance.urls", namespace="governance")),
    path("", include("mlops.urls", namespace="mlops")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
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
