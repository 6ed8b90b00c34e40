"""Read-only admin for the ledger: stewards look; money moves only through marketplace.ledger.services."""

from django.contrib import admin

from coop.admin_site import ReadOnlyAdmin

from .models import LedgerAccount, LedgerEntry, LedgerTransaction, Payout
from .selectors import from_scaled, scaled_sum

LedgerReadOnlyAdmin = ReadOnlyAdmin  # nobody, superusers included, adds, changes or deletes ledger rows here


@admin.register(LedgerAccount)
class LedgerAccountAdmin(LedgerReadOnlyAdmin):
    list_display = ["id", "kind", "currency", "organization", "project", "user", "balance", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["organization__name", "project__title", "user__email"]
    list_select_related = ["organization", "project", "user"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(raw_balance=scaled_sum("entries__amount"))

    @admin.display(description="Balance")
    def balance(self, obj):
        raw = from_scaled(obj.raw_balance)
        return raw if obj.is_debit_normal else -raw


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ["account", "amount"]
    readonly_fields = ["account", "amount"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(LedgerReadOnlyAdmin):
    list_display = ["id", "created_at", "kind", "event_key", "description", "reference", "project", "user", "created_by"]
    list_filter = ["kind"]
    search_fields = ["event_key", "description", "reference", "user__email", "project__title"]
    list_select_related = ["project", "user", "created_by"]
    date_hierarchy = "created_at"
    inlines = [LedgerEntryInline]
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(LedgerReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "amount"]
    list_filter = ["account__kind", "account__currency", "transaction__kind"]
    search_fields = ["transaction__event_key", "transaction__description", "account__user__email", "account__organization__name"]
    list_select_related = ["transaction", "account"]
    show_full_result_count = False


@admin.register(Payout)
class PayoutAdmin(LedgerReadOnlyAdmin):
    list_display = ["id", "worker", "amount", "currency", "status", "reference", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "currency"]
    search_fields = ["worker__email", "reference"]
    list_select_related = ["worker", "decided_by"]
    date_hierarchy = "created_at"
