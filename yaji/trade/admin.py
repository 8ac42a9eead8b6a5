from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yaji.trade.carriers import sandbox_carrier_advance
from yaji.trade.models import (
    FlashSale,
    Order,
    OrderEvent,
    OrderLine,
    Review,
    ShippingTemplate,
    TrackingEvent,
)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("title", "sku", "kind", "unit_price_fen", "quantity", "total_fen", "customisation")
    readonly_fields = fields


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("status", "actor", "note", "created_at")
    readonly_fields = fields


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    fields = ("code", "description", "location", "occurred_at")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "shop", "buyer", "status", "total_fen", "created_at")
    list_filter = ("status", "shipping_option")
    search_fields = ("number", "tracking_number")
    readonly_fields = [field.name for field in Order._meta.fields]
    inlines = [OrderLineInline, OrderEventInline, TrackingEventInline]
    actions = ["sandbox_deliver"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # orders come from checkouts, never from the console

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("沙箱快递：推进到已签收"))
    def sandbox_deliver(self, request, queryset):  # type: ignore[no-untyped-def]
        sent = 0
        with transaction.atomic():
            for order in queryset.filter(status="shipped", carrier="sandbox"):
                sent += sandbox_carrier_advance(order=order)
        messages.info(request, _("已发出 %(n)d 条物流回调。") % {"n": sent})


@admin.register(ShippingTemplate)
class ShippingTemplateAdmin(admin.ModelAdmin):
    list_display = ("shop", "first_kg_fen", "extra_kg_fen", "free_over_fen", "white_glove_fen")
    search_fields = ("shop__name_zh", "shop__slug")


@admin.register(FlashSale)
class FlashSaleAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "variant",
        "starts_at",
        "ends_at",
        "price_fen",
        "stock",
        "initial_stock",
    )
    readonly_fields = ("stock", "initial_stock", "created_by")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("product", "rating", "buyer", "created_at")
    list_filter = ("rating",)
    readonly_fields = ("order", "product", "shop", "buyer", "rating", "created_at")
