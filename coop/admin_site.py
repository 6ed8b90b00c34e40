from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class CoopAdminSite(admin.AdminSite):
    """The Django admin, open to stewards (elected) and operators (superusers)."""

    site_header = "Data Co-op administration"
    site_title = "Data Co-op admin"
    index_title = "Stewards' admin"

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or getattr(user, "is_steward", False))

    def login(self, request, extra_context=None):
        # One login for everyone: allauth's, with MFA. Signed-in people without
        # admin access get a plain "not allowed" instead of a login loop.
        from django.contrib.auth.views import redirect_to_login
        from django.core.exceptions import PermissionDenied

        if request.user.is_authenticated:
            raise PermissionDenied("The admin is for stewards.")
        return redirect_to_login(request.GET.get("next", "/admin/"))


class CoopAdminConfig(AdminConfig):
    default_site = "coop.admin_site.CoopAdminSite"


class StewardAccessMixin:
    """Stewards may view everything; writes happen through actions that call services.

    Superusers (operators) keep Django's defaults. A ModelAdmin sets
    `steward_can_change = True` where stewards may edit rows directly.
    """

    steward_can_change = False

    def _is_steward(self, request):
        return getattr(request.user, "is_steward", False)

    def has_module_permission(self, request):
        return request.user.is_superuser or self._is_steward(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or self._is_steward(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self.steward_can_change and self._is_steward(request)

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class ReadOnlyAdmin(StewardAccessMixin, admin.ModelAdmin):
    """Append-only or vote-controlled records: stewards and operators look; nobody adds, changes or deletes here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
