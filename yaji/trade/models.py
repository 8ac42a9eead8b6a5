"""Trade: addresses, carts, checkouts, orders and their lines, edition numbers, shipping fees.

Money columns are integer fen (``*_fen``) with a currency; totals are checked by the database.
An order belongs to one shop; one checkout (one payment) covers the orders of several shops.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yaji.catalog.models import Product, Shop, Variant
from yaji.catalog.uploads import private_storage_get
from yaji.core.fields import EncryptedTextField
from yaji.core.masking import mask_name, mask_phone
from yaji.trade.countries import country_name


class Address(models.Model):
    """A delivery address: China's province / city / district, or free-form abroad.

    Recipient, phone and street line are personal data and encrypted at rest.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    recipient = EncryptedTextField(_("收件人"))
    phone = EncryptedTextField(_("联系电话"))
    country = models.CharField(_("国家或地区"), max_length=2, default="CN")
    # In China the province; abroad the state / region (trade.services.address_create).
    province = models.CharField(_("省"), max_length=60, blank=True)
    city = models.CharField(_("市"), max_length=60, blank=True)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    line = EncryptedTextField(_("详细地址"))
    line2 = EncryptedTextField(_("地址第二行"), blank=True, default="")
    postal_code = models.CharField(_("邮编"), max_length=12, blank=True)
    is_default = models.BooleanField(_("默认地址"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("收货地址")
        verbose_name_plural = _("收货地址")
        ordering = ["-is_default", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="trade_one_default_address"
            ),
            models.CheckConstraint(
                condition=~Q(country="CN") | (~Q(province="") & ~Q(city="")),
                name="trade_cn_address_has_region",
            ),
            models.CheckConstraint(
                condition=Q(country="CN") | ~Q(city=""), name="trade_abroad_address_has_city"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_masked} {self.place}"

    @property
    def recipient_masked(self) -> str:
        return mask_name(self.recipient)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def abroad(self) -> bool:
        return self.country != "CN"

    @property
    def region(self) -> str:
        """Abroad: the state / region (kept in ``province``); in China empty."""
        return self.province if self.abroad else ""

    @property
    def place(self) -> str:
        if self.abroad:  # the way it is written abroad: city, region postal code, country
            place = " ".join(part for part in (self.province, self.postal_code) if part)
            return ", ".join(
                part for part in (self.city, place, country_name(self.country)) if part
            )
        return " ".join(part for part in (self.province, self.city, self.district) if part)


class Cart(models.Model):
    """A member's cart (``user``) or a guest's (``session_key``); merged into the member's at login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("购物车")
        verbose_name_plural = _("购物车")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(session_key__isnull=False),
                name="trade_cart_has_owner",
            )
        ]

    def __str__(self) -> str:
        return f"cart #{self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("数量"))
    # {option_id: value}; the same variant with another customisation is another line.
    customisation = models.JSONField(default=dict, blank=True)
    customisation_key = models.CharField(max_length=64, default="", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "variant", "customisation_key"], name="trade_cartline_uniq"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="trade_cartline_qty_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} × {self.quantity}"


class ShippingOption(models.TextChoices):
    STANDARD = "standard", _("普通快递")
    EXPRESS = "express", _("加急快递")
    SCHEDULED = "scheduled", _("预约配送")
    WHITE_GLOVE = "white_glove", _("艺术品专送")


class ShippingTemplate(models.Model):
    """A shop's shipping fee: first kilogram + each further one, free over a threshold.

    ``remote_regions`` (province names) pay ``remote_extra_fen`` on top. The option multiplies
    the fee (express ×1.5 and so on, see trade.shipping); white-glove has its own flat fee.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="shipping_template")
    first_kg_fen = models.PositiveIntegerField(_("首重费用（分）"), default=1000)
    extra_kg_fen = models.PositiveIntegerField(_("续重每公斤（分）"), default=500)
    free_over_fen = models.PositiveIntegerField(_("满额包邮（分，0 为不包邮）"), default=0)
    remote_regions = models.JSONField(_("偏远地区"), default=list, blank=True)
    remote_extra_fen = models.PositiveIntegerField(_("偏远地区加收（分）"), default=0)
    white_glove_fen = models.PositiveIntegerField(_("艺术品专送费用（分，0 为不提供）"), default=0)
    # Abroad: one rate for every country (0 = the shop does not ship abroad: checkout refuses
    # with shipping_unavailable); standard or express only, never free.
    international_first_kg_fen = models.PositiveIntegerField(
        _("海外首重费用（分，0 为不配送海外）"), default=0
    )
    international_extra_kg_fen = models.PositiveIntegerField(_("海外续重每公斤（分）"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("运费模板")
        verbose_name_plural = _("运费模板")

    def __str__(self) -> str:
        return f"shipping of shop #{self.shop_id}"


class CheckoutStatus(models.TextChoices):
    PENDING = "pending", _("待支付")
    PAID = "paid", _("已支付")
    CANCELLED = "cancelled", _("已取消")


class Checkout(models.Model):
    """One payment for the orders of one cart, possibly from several shops."""

    Status = CheckoutStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=CheckoutStatus.choices, default=CheckoutStatus.PENDING
    )
    total_fen = models.BigIntegerField(_("应付（分）"))
    currency = models.CharField(max_length=3, default="CNY")
    pay_by = models.DateTimeField(_("支付截止"))
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The Idempotency-Key of a flash-sale placement (buy now): the sold-out gate, which runs
    # before authentication, lets a retry of a placement that succeeded through (ADR 0040).
    placement_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "pay_by"], name="trade_checkout_due_idx"),
            models.Index(
                fields=["placement_key"],
                condition=~Q(placement_key=""),
                name="trade_checkout_key_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_fen__gt=0), name="trade_checkout_total_pos")
        ]

    def __str__(self) -> str:
        return str(self.pk)


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PAID = "paid", _("已付款")
    IN_PRODUCTION = "in_production", _("制作中")
    PROCESSING = "processing", _("备货中")
    SHIPPED = "shipped", _("已发货")
    DELIVERED = "delivered", _("已签收")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")
    CLOSED = "closed", _("已关闭")


class Order(models.Model):
    Status = OrderStatus

    number = models.CharField(_("订单号"), max_length=32, unique=True)
    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
    )
    items_fen = models.BigIntegerField(_("商品金额（分）"))
    shipping_fen = models.BigIntegerField(_("运费（分）"), default=0)
    total_fen = models.BigIntegerField(_("合计（分）"))
    currency = models.CharField(max_length=3, default="CNY")
    shipping_option = models.CharField(
        _("配送方式"),
        max_length=16,
        choices=ShippingOption.choices,
        default=ShippingOption.STANDARD,
    )
    # A snapshot: later edits of the address book do not move a placed order.
    address = models.JSONField(_("收货信息"), default=dict)
    note = models.CharField(_("买家留言"), max_length=200, blank=True)
    lead_time_days = models.PositiveIntegerField(_("制作周期（天）"), default=0)
    carrier = models.CharField(_("承运商"), max_length=40, blank=True)
    tracking_number = models.CharField(_("运单号"), max_length=40, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    commission_fen = models.BigIntegerField(_("平台佣金（分）"), null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="trade_order_buyer_idx"),
            models.Index(fields=["shop", "status", "-created_at"], name="trade_order_shop_idx"),
            models.Index(fields=["status", "delivered_at"], name="trade_order_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=F("items_fen") + F("shipping_fen")),
                name="trade_order_total_sum",
            ),
            models.CheckConstraint(
                condition=Q(items_fen__gt=0, shipping_fen__gte=0), name="trade_order_amounts"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class FlashSale(models.Model):
    """A variant on sale for a window: a sale price, its own stock, a per-buyer limit.

    The sale's stock is carved out of the variant's: a sale unit is taken from both with
    conditional decrements, so neither can be oversold however many buyers storm it.
    """

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="flash_sales")
    title = models.CharField(_("活动名称"), max_length=40)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    price_fen = models.BigIntegerField(_("秒杀价（分）"))
    initial_stock = models.PositiveIntegerField(_("秒杀库存"))
    stock = models.IntegerField(_("剩余库存"))
    per_user_limit = models.PositiveIntegerField(_("每人限购"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("限时秒杀")
        verbose_name_plural = _("限时秒杀")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["variant", "starts_at", "ends_at"], name="trade_flash_window_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="trade_flash_stock_non_negative"
            ),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="trade_flash_price_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="trade_flash_window_order"
            ),
            models.CheckConstraint(
                condition=Q(stock__lte=F("initial_stock")), name="trade_flash_stock_le_initial"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("商品"), max_length=120)
    sku = models.CharField(max_length=40)
    options = models.JSONField(default=dict, blank=True)
    customisation = models.JSONField(_("定制内容"), default=dict, blank=True)
    kind = models.CharField(max_length=20)
    unit_price_fen = models.BigIntegerField(_("单价（分）"))
    quantity = models.PositiveIntegerField(_("数量"))
    total_fen = models.BigIntegerField(_("小计（分）"))
    flash_sale = models.ForeignKey(
        FlashSale, null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=F("unit_price_fen") * F("quantity")),
                name="trade_orderline_total",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, unit_price_fen__gt=0), name="trade_orderline_pos"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} × {self.quantity}"


class EditionUnit(models.Model):
    """One numbered unit of a limited edition, issued when its order is paid.

    UNIQUE(product, number) is what makes an edition number belong to exactly one buyer.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="edition_units")
    number = models.PositiveIntegerField(_("编号"))
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="edition_units")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("限量编号")
        verbose_name_plural = _("限量编号")
        ordering = ["product", "number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="trade_edition_unit_uniq"),
            models.CheckConstraint(condition=Q(number__gt=0), name="trade_edition_number_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} No.{self.number}"


class OrderEvent(models.Model):
    """The order's history: every state change, by whom, with a note (shown on the order page)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"


class TrackingEvent(models.Model):
    """One tracking event a carrier reported (stored once per carrier event id)."""

    class Code(models.TextChoices):
        PICKED_UP = "picked_up", _("已揽件")
        IN_TRANSIT = "in_transit", _("运输中")
        OUT_FOR_DELIVERY = "out_for_delivery", _("派送中")
        DELIVERED = "delivered", _("已签收")
        EXCEPTION = "exception", _("异常")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tracking_events")
    event_id = models.UUIDField(unique=True)
    code = models.CharField(max_length=20, choices=Code.choices)
    description = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=60, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = _("物流轨迹")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.code}"


class Review(models.Model):
    """A buyer's review of one product of a completed order: 1–5 stars, text, photos, a reply."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="reviews")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reviews")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="reviews")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField(_("评分"))
    text = models.TextField(_("评价"), max_length=1000, blank=True)
    reply = models.TextField(_("店铺回复"), max_length=1000, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="trade_review_product_idx")]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="trade_review_once"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="trade_review_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ★{self.rating}"


class ReviewPhoto(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="reviews/", max_length=200)
    thumb = models.FileField(upload_to="reviews/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file.name


class AfterSaleKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")


class AfterSaleStatus(models.TextChoices):
    REQUESTED = "requested", _("待店铺处理")
    APPROVED = "approved", _("待买家退货")
    RETURNED = "returned", _("买家已寄回")
    REFUNDED = "refunded", _("已退款")
    REJECTED = "rejected", _("店铺已拒绝")
    DISPUTED = "disputed", _("平台介入中")
    CLOSED = "closed", _("已关闭")


class AfterSale(models.Model):
    """An after-sales request on a shipped order: refund only, or return and refund.

    requested → (shop approves) → refunded (refund only) | approved → returned (buyer ships back)
    → refunded (shop confirms); requested → rejected → disputed (buyer escalates) → refunded or
    closed (an operator decides). One open request per order at a time.
    """

    Kind = AfterSaleKind
    Status = AfterSaleStatus

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="after_sales")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="after_sales"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=AfterSaleKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=AfterSaleStatus.choices, default=AfterSaleStatus.REQUESTED
    )
    reason = models.CharField(_("原因"), max_length=200)
    amount_fen = models.BigIntegerField(_("退款金额（分）"))
    shop_note = models.CharField(_("店铺说明"), max_length=200, blank=True)
    return_carrier = models.CharField(_("退货承运商"), max_length=40, blank=True)
    return_tracking = models.CharField(_("退货运单号"), max_length=40, blank=True)
    decision_note = models.CharField(_("平台裁决"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("售后")
        verbose_name_plural = _("售后")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="trade_aftersale_amount_pos"
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(
                    status__in=["requested", "approved", "returned", "rejected", "disputed"]
                ),
                name="trade_aftersale_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.status}"


class AfterSalePhoto(models.Model):
    """Evidence a buyer attaches to an after-sales request: re-encoded, in private storage.

    Seen only by the buyer, the shop's managers and operators (``trade:after_sale_photo``).
    """

    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(storage=private_storage_get, upload_to="after-sales/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file.name
