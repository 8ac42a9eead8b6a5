"""Read-only views of the books. Nothing here can change money: corrections are new
transactions posted by a service, never edits."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from yaji.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction


class ReadOnlyLedgerAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("id", "account", "amount", "currency", "balance_after", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyLedgerAdmin):
    list_display = ("id", "kind", "owner", "owner_ref", "currency", "balance", "allow_negative")
    list_filter = ("kind", "currency", "allow_negative")
    search_fields = ("=id", "owner_ref")
    raw_id_fields = ("owner",)
    ordering = ("id",)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyLedgerAdmin):
    list_display = ("id", "kind", "reference", "description", "created_at")
    list_filter = ("kind",)
    search_fields = ("=id", "reference")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    inlines = [EntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyLedgerAdmin):
    list_display = ("id", "transaction", "account", "amount", "currency", "balance_after")
    list_filter = ("currency",)
    search_fields = ("=transaction__id", "=account__id", "transaction__reference")
    list_select_related = ("transaction", "account")
    raw_id_fields = ("transaction", "account")
    ordering = ("-id",)
