from django.contrib import admin

from yaji.payments.models import PaymentIntent, ProviderNotification, SandboxPayment


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
