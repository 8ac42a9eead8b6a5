"""Operators' console for red packets and gifts: the gift catalogue, the partner split table,
rights holders and licensed works are editable data; packets and gift records are read-only
(money moved through the ledger; corrections are new transactions, never edits)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.html import format_html

from yaji.redpackets.models import (
    Gift,
    GiftSend,
    PartnerSplit,
    RedPacket,
    RightsHolder,
    WorkLicense,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    list_display = ("preview", "code", "name", "name_en", "price_fen", "active", "sort_order")
    list_editable = ("active", "sort_order")
    search_fields = ("code", "name", "name_en")

    @admin.display(description="")
    def preview(self, obj: Gift) -> str:
        return format_html('<img src="{}" alt="" width="28" height="28">', static(obj.icon))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # sent gifts refer to it; take it off sale instead


@admin.register(PartnerSplit)
class PartnerSplitAdmin(admin.ModelAdmin):
    list_display = ("kind", "partner_percent", "updated_at")
    list_editable = ("partner_percent",)


@admin.register(RightsHolder)
class RightsHolderAdmin(admin.ModelAdmin):
    list_display = ("name", "split", "user", "created_at")
    raw_id_fields = ("user",)
    search_fields = ("name",)


@admin.register(WorkLicense)
class WorkLicenseAdmin(admin.ModelAdmin):
    list_display = ("work", "holder", "created_at")
    raw_id_fields = ("work",)
    list_select_related = ("work", "holder")


@admin.register(GiftSend)
class GiftSendAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "sender",
        "creator",
        "work",
        "gift",
        "quantity",
        "amount_fen",
        "platform_fen",
        "creator_fen",
        "holder_fen",
    )
    list_select_related = ("sender", "creator", "work", "gift")
    date_hierarchy = "created_at"


@admin.register(RedPacket)
class RedPacketAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "sender",
        "total_fen",
        "count",
        "claimed_count",
        "split_type",
        "audience",
        "status",
    )
    list_filter = ("status", "audience", "split_type")
    list_select_related = ("sender",)
    date_hierarchy = "created_at"
