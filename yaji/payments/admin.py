from django.contrib import admin

from yaji.payments.models import (
    BankCard,
    PaymentIntent,
    ProviderNotification,
    Refund,
    SandboxPayment,
    SandboxPayout,
    SandboxRefund,
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
