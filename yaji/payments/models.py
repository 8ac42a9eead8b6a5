"""Payment intents (what the platform asks a payer to pay) and the provider notifications that
settle them. The sandbox provider's own records (:class:`SandboxPayment`) live here too: they
stand for the provider's side of the world, which a real adapter keeps at the provider."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yaji.core.fields import EncryptedTextField
from yaji.core.masking import mask_bank_card


class IntentPurpose(models.TextChoices):
    WALLET_TOPUP = "wallet_topup", _("钱包充值")
    # A purchase paid by wallet balance, a provider, or both; the money waits in escrow
    # (account ``escrow`` owner_ref ``payment:<intent id>``) for the trade app to settle.
    CHECKOUT = "checkout", _("购物支付")


class IntentStatus(models.TextChoices):
    REQUIRES_PAYMENT = "requires_payment", _("待支付")
    PROCESSING = "processing", _("处理中")
    SUCCEEDED = "succeeded", _("支付成功")
    FAILED = "failed", _("支付失败")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已过期")


OPEN_STATUSES: frozenset[str] = frozenset({IntentStatus.REQUIRES_PAYMENT, IntentStatus.PROCESSING})
FINAL_STATUSES: frozenset[str] = frozenset(
    {IntentStatus.SUCCEEDED, IntentStatus.FAILED, IntentStatus.CANCELLED, IntentStatus.EXPIRED}
)


class PaymentIntent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("付款人"),
        on_delete=models.PROTECT,
        related_name="payment_intents",
    )
    amount_fen = models.BigIntegerField(_("金额（最小单位）"))
    # The part paid from the payer's wallet (held when the intent is created); the rest,
    # ``amount_fen - wallet_amount_fen``, is paid through ``provider``.
    wallet_amount_fen = models.BigIntegerField(_("钱包支付部分"), default=0)
    # Refunds pending or succeeded; raised under the intent's row lock and guarded by a CHECK,
    # so the refunds of an intent can never exceed what was paid.
    refunded_fen = models.BigIntegerField(_("已退款"), default=0)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    purpose = models.CharField(_("用途"), max_length=32, choices=IntentPurpose.choices)
    status = models.CharField(
        _("状态"),
        max_length=24,
        choices=IntentStatus.choices,
        default=IntentStatus.REQUIRES_PAYMENT,
    )
    provider = models.CharField(_("支付渠道"), max_length=32)
    provider_reference = models.CharField(_("渠道单号"), max_length=100, blank=True, default="")
    pay_url = models.CharField(_("支付链接"), max_length=500, blank=True, default="")
    # What the payer scans (WeChat Pay Native ``code_url``; the sandbox's pay page URL).
    qr_payload = models.CharField(_("二维码内容"), max_length=500, blank=True, default="")
    # Set when a provider reported something that does not match (e.g. amount_mismatch); an
    # operator looks at flagged intents, no money moves on them automatically.
    flag = models.CharField(_("异常标记"), max_length=64, blank=True, default="")
    # What a checkout intent pays for, ``<kind>:<id>`` (e.g. ``trade.checkout:<uuid>``); the
    # app that registered ``<kind>`` takes the money when the intent succeeds (ADR 0026).
    subject = models.CharField(_("支付对象"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(_("过期时间"))
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("支付意向")
        verbose_name_plural = _("支付意向")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["payer", "-created_at"], name="payments_intent_payer_idx"),
            models.Index(
                fields=["subject"], condition=~Q(subject=""), name="payments_intent_subject_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="payments_intent_amount_pos"
            ),
            models.CheckConstraint(
                condition=Q(wallet_amount_fen__gte=0, wallet_amount_fen__lte=F("amount_fen")),
                name="payments_intent_wallet_part_range",
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0, refunded_fen__lte=F("amount_fen")),
                name="payments_intent_refunds_le_paid",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payments_intent_provider_ref_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.purpose} {self.amount_fen} {self.currency} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def provider_amount_fen(self) -> int:
        return self.amount_fen - self.wallet_amount_fen

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.status == IntentStatus.SUCCEEDED else 0


class ProviderNotification(models.Model):
    """Every notification a provider sent us, kept verbatim (also the rejected ones)."""

    provider = models.CharField(_("支付渠道"), max_length=32)
    # Null for notifications we could not authenticate: their claimed id proves nothing, and a
    # forger must not be able to burn a real event id.
    event_id = models.CharField(_("事件编号"), max_length=100, null=True, blank=True)
    headers = models.JSONField(_("请求头"), default=dict)
    body = models.TextField(_("原文"))
    signature_valid = models.BooleanField(_("签名有效"), default=False)
    processed = models.BooleanField(_("已处理"), default=False)
    outcome = models.CharField(_("处理结果"), max_length=64, blank=True, default="")
    intent = models.ForeignKey(
        PaymentIntent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    withdrawal = models.ForeignKey(
        "payments.Withdrawal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    refund = models.ForeignKey(
        "payments.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("渠道通知")
        verbose_name_plural = _("渠道通知")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=Q(event_id__isnull=False),
                name="payments_notification_event_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id or '(unauthenticated)'} {self.outcome}"


class SandboxPaymentStatus(models.TextChoices):
    PENDING = "pending", _("待支付")
    PAID = "paid", _("已支付")
    FAILED = "failed", _("已失败")


class SandboxPayment(models.Model):
    """The sandbox provider's own record of a payment (what a real provider keeps on its side)."""

    reference = models.CharField(max_length=100, unique=True)
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=SandboxPaymentStatus.choices, default=SandboxPaymentStatus.PENDING
    )
    return_url = models.CharField(max_length=500, blank=True, default="")
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("沙箱支付")
        verbose_name_plural = _("沙箱支付")

    def __str__(self) -> str:
        return f"{self.reference} {self.amount_fen} {self.currency} {self.status}"


# --- withdrawals to bank cards ----------------------------------------------------------------


class BankCard(models.Model):
    """A user's own bank card, payout destination of withdrawals.

    The number is stored encrypted (AES-GCM, :class:`EncryptedTextField`) and found by its blind
    index; only ``last4`` and the bank name are kept in clear. Removing a card is soft
    (``removed_at``): withdrawals keep pointing at the card they were paid to.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        related_name="bank_cards",
    )
    holder_name = EncryptedTextField(_("持卡人"))
    card_number = EncryptedTextField(_("卡号"))
    card_index = models.CharField(max_length=64, editable=False)
    bank_name = models.CharField(_("开户银行"), max_length=40)
    last4 = models.CharField(_("卡号后四位"), max_length=4)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("银行卡")
        verbose_name_plural = _("银行卡")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "card_index"],
                condition=Q(removed_at__isnull=True),
                name="payments_bankcard_user_card_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask_bank_card(self.card_number)


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", _("已申请")
    PROCESSING = "processing", _("处理中")
    PAID = "paid", _("已到账")
    # A failed payout returns the money in the same transaction that records the failure, so
    # a withdrawal goes straight from open to "returned" (with ``failure_reason``).
    RETURNED = "returned", _("失败已退回")


WITHDRAWAL_OPEN_STATUSES: frozenset[str] = frozenset(
    {WithdrawalStatus.REQUESTED, WithdrawalStatus.PROCESSING}
)


class Withdrawal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        related_name="withdrawals",
    )
    card = models.ForeignKey(
        BankCard, verbose_name=_("银行卡"), on_delete=models.PROTECT, related_name="withdrawals"
    )
    amount_fen = models.BigIntegerField(_("金额（最小单位）"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=WithdrawalStatus.choices,
        default=WithdrawalStatus.REQUESTED,
    )
    failure_reason = models.CharField(_("失败原因"), max_length=64, blank=True, default="")
    flag = models.CharField(_("异常标记"), max_length=64, blank=True, default="")
    provider = models.CharField(_("代付渠道"), max_length=32)
    provider_reference = models.CharField(_("渠道单号"), max_length=100, blank=True, default="")
    # The client's Idempotency-Key for page submissions (the API has its own layer too).
    request_key = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("提现")
        verbose_name_plural = _("提现")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="payments_wd_user_idx"),
            models.Index(fields=["status"], name="payments_wd_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_wd_amount_pos"),
            models.UniqueConstraint(
                fields=["user", "request_key"],
                condition=~Q(request_key=""),
                name="payments_wd_request_key_uniq",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payments_wd_provider_ref_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount_fen} {self.currency} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in WITHDRAWAL_OPEN_STATUSES


class SandboxPayoutStatus(models.TextChoices):
    PENDING = "pending", _("处理中")
    PAID = "paid", _("已打款")
    FAILED = "failed", _("已失败")


class SandboxPayout(models.Model):
    """The sandbox payout provider's own record of a payout (kept at the provider in reality)."""

    reference = models.CharField(max_length=100, unique=True)
    # The merchant's id for the payout (our withdrawal id): the provider is idempotent on it.
    out_reference = models.CharField(max_length=100, unique=True)
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    card_last4 = models.CharField(max_length=4)
    status = models.CharField(
        max_length=16, choices=SandboxPayoutStatus.choices, default=SandboxPayoutStatus.PENDING
    )
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("沙箱代付")
        verbose_name_plural = _("沙箱代付")

    def __str__(self) -> str:
        return f"{self.reference} {self.amount_fen} {self.currency} {self.status}"


# --- refunds ----------------------------------------------------------------------------------


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("退款中")
    SUCCEEDED = "succeeded", _("退款成功")
    FAILED = "failed", _("退款失败")
    # The provider could not refund (e.g. the card was closed): the provider part went to the
    # payer's wallet instead (checkout refunds only, ADR 0039). Final; the money reached the payer.
    WALLET_FALLBACK = "wallet_fallback", _("原路退回失败，已退至钱包")


# Refunds whose money is (being) given back: they count against the intent's refundable amount.
REFUND_LIVE_STATUSES: frozenset[str] = frozenset(
    {RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.WALLET_FALLBACK}
)


class Refund(models.Model):
    """Money of a succeeded intent going back the way it came (ADR 0017, 0039).

    ``wallet_amount_fen`` goes back to the payer's wallet at once (``wallet_refunded_at``),
    ``provider_amount_fen`` through the intent's provider (asynchronously, confirmed by its
    signed refund notification), waiting meanwhile in the refunds-in-flight escrow account. If
    the provider fails it, a checkout refund (``fallback_to_wallet``) puts the provider part in
    the payer's wallet (``wallet_fallback``); a top-up refund puts the money back where it was
    (``failed``, refundable again). Refunds created before ADR 0039 held the wallet part in
    flight too (``wallet_refunded_at`` empty while pending) and are settled that way.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    intent = models.ForeignKey(
        PaymentIntent, verbose_name=_("支付"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount_fen = models.BigIntegerField(_("退款金额"))
    wallet_amount_fen = models.BigIntegerField(_("退回钱包部分"), default=0)
    provider_amount_fen = models.BigIntegerField(_("原路退回部分"), default=0)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    status = models.CharField(
        _("状态"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    reason = models.CharField(_("退款原因"), max_length=80, blank=True, default="")
    failure_reason = models.CharField(_("失败原因"), max_length=64, blank=True, default="")
    flag = models.CharField(_("异常标记"), max_length=64, blank=True, default="")
    provider = models.CharField(_("支付渠道"), max_length=32)
    provider_reference = models.CharField(_("渠道退款单号"), max_length=100, blank=True, default="")
    # The caller's Idempotency-Key: one refund per (intent, key), even across retried requests.
    request_key = models.CharField(max_length=255, blank=True, default="")
    # The order this refund is for (after-sales, a cancel before shipment, a clawback after
    # settlement); empty for top-ups and for checkouts refunded because they closed.
    order = models.ForeignKey(
        "trade.Order",
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    fallback_to_wallet = models.BooleanField(_("失败时退至钱包"), default=False)
    wallet_refunded_at = models.DateTimeField(_("钱包部分退回时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["intent", "-created_at"], name="payments_refund_intent_idx"),
            models.Index(fields=["status"], name="payments_refund_status_idx"),
            models.Index(
                fields=["order"], condition=Q(order__isnull=False), name="payments_refund_order_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_refund_pos"),
            models.CheckConstraint(
                condition=Q(
                    wallet_amount_fen__gte=0,
                    provider_amount_fen__gte=0,
                    amount_fen=F("wallet_amount_fen") + F("provider_amount_fen"),
                ),
                name="payments_refund_parts_sum",
            ),
            models.UniqueConstraint(
                fields=["intent", "request_key"],
                condition=~Q(request_key=""),
                name="payments_refund_request_key_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount_fen} {self.currency} {self.status}"


class SandboxRefundStatus(models.TextChoices):
    PROCESSING = "processing", _("处理中")
    SUCCEEDED = "succeeded", _("退款成功")
    FAILED = "failed", _("退款失败")


class SandboxRefund(models.Model):
    """The sandbox provider's own record of a refund (kept at the provider in reality)."""

    reference = models.CharField(max_length=100, unique=True)
    # The merchant's refund number (our refund id): the provider is idempotent on it.
    out_reference = models.CharField(max_length=100, unique=True)
    payment = models.ForeignKey(SandboxPayment, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16,
        choices=SandboxRefundStatus.choices,
        default=SandboxRefundStatus.PROCESSING,
    )
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("沙箱退款")
        verbose_name_plural = _("沙箱退款")

    def __str__(self) -> str:
        return f"{self.reference} {self.amount_fen} {self.currency} {self.status}"


# --- commission rates, royalties, settlements, shop statements and payouts (ADR 0032) ---------

BPS_MAX = 10_000  # basis points: 10 000 = 100 %
ROYALTY_BPS_MAX = 5_000  # a licensed design takes at most half of the goods


class ShopTier(models.Model):
    """A tier finance puts shops in (e.g. standard, premium, heritage partner); commission
    rates may differ per tier."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name_zh = models.CharField(_("名称（中文）"), max_length=40)
    name_en = models.CharField(_("名称（英文）"), max_length=60, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("店铺等级")
        verbose_name_plural = _("店铺等级")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class ShopTierAssignment(models.Model):
    shop = models.OneToOneField(
        "catalog.Shop", verbose_name=_("店铺"), on_delete=models.CASCADE, related_name="+"
    )
    tier = models.ForeignKey(
        ShopTier, verbose_name=_("店铺等级"), on_delete=models.PROTECT, related_name="shops"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("店铺等级分配")
        verbose_name_plural = _("店铺等级分配")

    def __str__(self) -> str:
        return f"shop #{self.shop_id} → {self.tier_id}"


class CommissionRate(models.Model):
    """A commission rate for a category (and its sub-categories), a shop tier, or both.

    The most specific row wins (see ``yaji.payments.commission``); no row at all falls back to
    ``YAJI_COMMISSION_BPS``. A row with neither is the platform-wide default.
    """

    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("商品分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    tier = models.ForeignKey(
        ShopTier,
        verbose_name=_("店铺等级"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rates",
    )
    bps = models.PositiveIntegerField(_("佣金（基点）"))
    note = models.CharField(_("备注"), max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("佣金费率")
        verbose_name_plural = _("佣金费率")
        ordering = ["category_id", "tier_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bps__gte=0, bps__lte=BPS_MAX), name="payments_rate_bps_range"
            ),
            models.UniqueConstraint(
                fields=["category", "tier"],
                condition=Q(category__isnull=False, tier__isnull=False),
                name="payments_rate_cat_tier_uniq",
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(category__isnull=False, tier__isnull=True),
                name="payments_rate_cat_uniq",
            ),
            models.UniqueConstraint(
                fields=["tier"],
                condition=Q(category__isnull=True, tier__isnull=False),
                name="payments_rate_tier_uniq",
            ),
            models.UniqueConstraint(
                fields=["bps"],
                condition=Q(category__isnull=True, tier__isnull=True),
                name="payments_rate_default_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id or '*'}/{self.tier_id or '*'} {self.bps} bps"


class DesignLicense(models.Model):
    """A product made under a licensed design: ``royalty_bps`` of its goods go to the creator's
    royalty account (``creator_royalty``, owner = creator) when an order of it settles."""

    product = models.OneToOneField(
        "catalog.Product",
        verbose_name=_("商品"),
        on_delete=models.CASCADE,
        related_name="design_license",
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("设计创作者"),
        on_delete=models.PROTECT,
        related_name="design_licenses",
    )
    registration = models.ForeignKey(
        "copyright.Registration",
        verbose_name=_("版权登记"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    royalty_bps = models.PositiveIntegerField(_("版税（基点）"))
    active = models.BooleanField(_("生效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("设计授权")
        verbose_name_plural = _("设计授权")
        constraints = [
            models.CheckConstraint(
                condition=Q(royalty_bps__gte=1, royalty_bps__lte=ROYALTY_BPS_MAX),
                name="payments_license_royalty_range",
            ),
        ]

    def __str__(self) -> str:
        return f"product #{self.product_id} {self.royalty_bps} bps"


class OrderSettlement(models.Model):
    """How one order's escrow was split when it settled (a completion or an after-sale refund):
    ``gross = refunded + commission + royalty + net`` (a CHECK)."""

    order = models.OneToOneField(
        "trade.Order", verbose_name=_("订单"), on_delete=models.PROTECT, related_name="settlement"
    )
    shop = models.ForeignKey(
        "catalog.Shop", verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    gross_fen = models.BigIntegerField(_("托管金额"))
    refunded_fen = models.BigIntegerField(_("退给买家"), default=0)
    commission_fen = models.BigIntegerField(_("平台佣金"))
    royalty_fen = models.BigIntegerField(_("版税"))
    net_fen = models.BigIntegerField(_("店铺所得"))
    currency = models.CharField(max_length=3, default="CNY")
    # The payment intent that paid the order (empty: paid straight from the wallet); a
    # clawback after settlement goes back through its methods (ADR 0039).
    intent = models.ForeignKey(
        PaymentIntent,
        verbose_name=_("支付"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The rates applied, line by line: [{"line_id", "goods_fen", "commission_bps", ...}]
    detail = models.JSONField(_("明细"), default=list)
    settled_at = models.DateTimeField(_("结算时间"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("订单结算")
        verbose_name_plural = _("订单结算")
        ordering = ["-settled_at", "-id"]
        indexes = [models.Index(fields=["shop", "settled_at"], name="payments_settle_shop_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    gross_fen=F("refunded_fen")
                    + F("commission_fen")
                    + F("royalty_fen")
                    + F("net_fen")
                ),
                name="payments_settle_sum",
            ),
            models.CheckConstraint(
                condition=Q(
                    refunded_fen__gte=0, commission_fen__gte=0, royalty_fen__gte=0, net_fen__gte=0
                ),
                name="payments_settle_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"order #{self.order_id} net {self.net_fen}"


class ShopClawback(models.Model):
    """Money taken back from a shop's payable after its order settled (a refund granted later
    by an operator): shop payable → the buyer's original payment methods (``refund``; none
    when the order was paid straight from the wallet: then to the wallet)."""

    order = models.ForeignKey(
        "trade.Order", verbose_name=_("订单"), on_delete=models.PROTECT, related_name="+"
    )
    shop = models.ForeignKey(
        "catalog.Shop", verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.BigIntegerField(_("追回金额"))
    currency = models.CharField(max_length=3, default="CNY")
    reason = models.CharField(_("原因"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    refund = models.OneToOneField(
        Refund,
        verbose_name=_("退款"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clawback",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("结算后追回")
        verbose_name_plural = _("结算后追回")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "created_at"], name="payments_clawback_shop_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_clawback_pos")
        ]

    def __str__(self) -> str:
        return f"order #{self.order_id} −{self.amount_fen}"


class PayoutBatch(models.Model):
    """One run of payouts to shops: every shop whose payable is at least the minimum."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    total_fen = models.BigIntegerField(_("合计"), default=0)
    currency = models.CharField(max_length=3, default="CNY")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("店铺打款批次")
        verbose_name_plural = _("店铺打款批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch #{self.pk} {self.total_fen}"


class ShopPayoutStatus(models.TextChoices):
    PROCESSING = "processing", _("处理中")
    PAID = "paid", _("已到账")
    RETURNED = "returned", _("失败已退回")


class ShopPayout(models.Model):
    """A shop's payable paid out through the payout provider: payable → payout clearing at
    once, then clearing → outside on success, or back to the payable on failure."""

    batch = models.ForeignKey(
        PayoutBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="payouts"
    )
    shop = models.ForeignKey(
        "catalog.Shop", verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    # The shop owner's bank card at the time of the batch (number encrypted on the card).
    card = models.ForeignKey(
        BankCard, verbose_name=_("银行卡"), on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.BigIntegerField(_("金额"))
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ShopPayoutStatus.choices,
        default=ShopPayoutStatus.PROCESSING,
    )
    provider = models.CharField(_("代付渠道"), max_length=32)
    provider_reference = models.CharField(_("渠道单号"), max_length=100, blank=True, default="")
    failure_reason = models.CharField(_("失败原因"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("店铺打款")
        verbose_name_plural = _("店铺打款")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="payments_shoppayout_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payments_shoppayout_pos"),
            models.UniqueConstraint(
                fields=["batch", "shop"], name="payments_shoppayout_batch_shop_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"shop #{self.shop_id} {self.amount_fen} {self.status}"


class WechatPayPlatformCertificate(models.Model):
    """A WeChat Pay platform certificate downloaded from ``/v3/certificates`` (decrypted with
    the APIv3 key). Several are kept: during a rotation WeChat Pay signs with the new one while
    answers and notifications signed with the old one are still valid."""

    serial_no = models.CharField(_("证书序列号"), max_length=64, unique=True)
    pem = models.TextField(_("证书"))
    effective_at = models.DateTimeField(_("生效时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("微信支付平台证书")
        verbose_name_plural = _("微信支付平台证书")
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return self.serial_no
