from django.contrib import admin
from django.http import HttpRequest

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role
from yaji.payments.models import (
    BankCard,
    CommissionRate,
    DesignLicense,
    OrderSettlement,
    PaymentIntent,
    PayoutBatch,
    ProviderNotification,
    Refund,
    SandboxPayment,
    SandboxPayout,
    SandboxRefund,
    ShopClawback,
    ShopPayout,
    ShopTier,
    ShopTierAssignment,
    Withdrawal,
)


@admin.register(PaymentIntent)
class PaymentIntentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "payer",
        "purpose",
        "amount_fen",
        "currency",
        "status",
        "flag",
        "created_at",
    )
    list_filter = ("status", "purpose", "provider", "flag")
    search_fields = ("id", "provider_reference")
    readonly_fields = [f.name for f in PaymentIntent._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ProviderNotification)
class ProviderNotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "provider",
        "event_id",
        "signature_valid",
        "processed",
        "outcome",
        "created_at",
    )
    list_filter = ("provider", "signature_valid", "processed", "outcome")
    search_fields = ("event_id",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SandboxPayment)
class SandboxPaymentAdmin(admin.ModelAdmin):
    list_display = ("reference", "amount_fen", "currency", "status", "created_at")
    list_filter = ("status",)


@admin.register(BankCard)
class BankCardAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "bank_name", "masked_number", "created_at", "removed_at")
    list_filter = ("bank_name",)
    # The number and holder are never shown in full, not even to staff.
    fields = ("user", "bank_name", "last4", "masked_number", "created_at", "removed_at")
    readonly_fields = fields

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "amount_fen",
        "currency",
        "status",
        "failure_reason",
        "flag",
        "created_at",
    )
    list_filter = ("status", "provider", "flag")
    search_fields = ("id", "provider_reference")
    readonly_fields = [f.name for f in Withdrawal._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SandboxPayout)
class SandboxPayoutAdmin(admin.ModelAdmin):
    list_display = ("reference", "out_reference", "amount_fen", "status", "failure_reason")
    list_filter = ("status",)


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "intent",
        "amount_fen",
        "wallet_amount_fen",
        "provider_amount_fen",
        "status",
        "failure_reason",
        "flag",
        "created_at",
    )
    list_filter = ("status", "provider", "flag")
    search_fields = ("id", "provider_reference", "intent__id")
    readonly_fields = [f.name for f in Refund._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SandboxRefund)
class SandboxRefundAdmin(admin.ModelAdmin):
    list_display = ("reference", "out_reference", "amount_fen", "status", "failure_reason")
    list_filter = ("status",)


# --- finance: commission rates, shop tiers, licensed designs (ADR 0032) ----------------------


class FinanceAdmin(admin.ModelAdmin):
    """Edited by the finance role (and superusers), whatever Django model permissions say."""

    def _finance(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.FINANCE)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._finance(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._finance(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._finance(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._finance(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._finance(request)


class FinanceReadOnlyAdmin(FinanceAdmin):
    """Written only by services (money moved with them): finance looks, nobody edits."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ShopTier)
class ShopTierAdmin(FinanceAdmin):
    list_display = ("code", "name_zh", "name_en", "updated_at")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(ShopTierAssignment)
class ShopTierAssignmentAdmin(FinanceAdmin):
    list_display = ("shop", "tier", "updated_at")
    list_filter = ("tier",)
    raw_id_fields = ("shop",)


@admin.register(CommissionRate)
class CommissionRateAdmin(FinanceAdmin):
    list_display = ("category", "tier", "bps", "note", "updated_at")
    list_filter = ("tier",)


@admin.register(DesignLicense)
class DesignLicenseAdmin(FinanceAdmin):
    list_display = ("product", "creator", "royalty_bps", "active", "updated_at")
    list_filter = ("active",)
    raw_id_fields = ("product", "creator", "registration")


@admin.register(OrderSettlement)
class OrderSettlementAdmin(FinanceReadOnlyAdmin):
    list_display = (
        "order",
        "shop",
        "gross_fen",
        "refunded_fen",
        "commission_fen",
        "royalty_fen",
        "net_fen",
        "settled_at",
    )
    raw_id_fields = ("order", "shop")


@admin.register(ShopClawback)
class ShopClawbackAdmin(FinanceReadOnlyAdmin):
    list_display = ("order", "shop", "amount_fen", "reason", "created_at")


@admin.register(PayoutBatch)
class PayoutBatchAdmin(FinanceReadOnlyAdmin):
    list_display = ("id", "total_fen", "currency", "created_by", "created_at")


@admin.register(ShopPayout)
class ShopPayoutAdmin(FinanceReadOnlyAdmin):
    list_display = ("id", "batch", "shop", "amount_fen", "status", "failure_reason", "created_at")
    list_filter = ("status",)
