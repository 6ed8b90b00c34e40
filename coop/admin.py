from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import services
from .admin_site import StewardAccessMixin
from .errors import ApplicationError
from .models import ApiToken, ClientOrganization, Membership, MembershipEvent, Notification, User


@admin.register(User)
class UserAdmin(StewardAccessMixin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "role_display", "organization", "is_org_admin", "is_active", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "is_org_admin", "organization"]
    search_fields = ["email", "membership__display_name"]
    list_select_related = ["organization", "membership"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Client organization", {"fields": ["organization", "is_org_admin"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]

    @admin.display(description="role")
    def role_display(self, obj):
        return obj.role


class MembershipEventInline(admin.TabularInline):
    model = MembershipEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "steward_change", "actor", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _membership_action(service, label, **kwargs):
    def action(modeladmin, request, queryset):
        done = 0
        for membership in queryset:
            try:
                service(membership=membership, actor=request.user, **kwargs)
                done += 1
            except ApplicationError as error:
                modeladmin.message_user(request, f"{membership.display_name}: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{label}: {done} membership(s).", messages.SUCCESS)

    action.short_description = label
    action.__name__ = label.lower().replace(" ", "_")
    return action


@admin.register(Membership)
class MembershipAdmin(StewardAccessMixin, admin.ModelAdmin):
    list_display = ["display_name", "user", "status", "is_steward", "member_number", "country", "created_at", "admitted_at"]
    list_filter = ["status", "is_steward", "country"]
    search_fields = ["display_name", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "status", "is_steward", "member_number", "admitted_at", "status_reason", "created_at"]
    inlines = [MembershipEventInline]
    # Suspension needs a written reason: it is done from the member's page in the portal.
    actions = [_membership_action(services.membership_admit, "Admit applicants")]


@admin.register(MembershipEvent)
class MembershipEventAdmin(StewardAccessMixin, admin.ModelAdmin):
    list_display = ["created_at", "membership", "from_status", "to_status", "steward_change", "actor", "reason"]
    list_filter = ["to_status", "steward_change"]
    search_fields = ["membership__display_name", "membership__user__email", "reason"]
    list_select_related = ["membership", "actor"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        return False  # append-only history


@admin.register(ClientOrganization)
class ClientOrganizationAdmin(StewardAccessMixin, admin.ModelAdmin):
    steward_can_change = True
    list_display = ["name", "contact_name", "contact_email", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "contact_name", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ApiToken)
class ApiTokenAdmin(StewardAccessMixin, admin.ModelAdmin):
    list_display = ["name", "prefix", "organization", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["organization", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "organization__name", "user__email"]
    list_select_related = ["organization", "user"]
    readonly_fields = ["prefix", "digest", "organization", "user", "created_by", "last_used_at", "revoked_at", "revoked_by"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(actor=request.user if not request.user.is_superuser else None, token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)

    def has_add_permission(self, request):
        return False  # tokens are shown once: create them in the portal or with `manage.py issue_api_token`


@admin.register(Notification)
class NotificationAdmin(StewardAccessMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "title"]
    list_select_related = ["user"]
