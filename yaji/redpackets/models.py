"""Red packets: the packet, its shares (drawn at send time) and the claims on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class SplitType(models.TextChoices):
    LUCKY = "lucky", _("拼手气")
    EQUAL = "equal", _("普通")


class Condition(models.TextChoices):
    NONE = "none", _("无")
    LISTENED_FULL = "listened_full", _("完整听完作品")


class Audience(models.TextChoices):
    PUBLIC = "public", _("公开")
    GROUP = "group", _("群链接")
    FOLLOWERS = "followers", _("我的粉丝")
    CITY = "city", _("同城")


class PacketStatus(models.TextChoices):
    # Funded through a payment (ADR 0042): shares drawn, no money in escrow yet, not grabbable.
    PENDING_PAYMENT = "pending_payment", _("待支付")
    ACTIVE = "active", _("进行中")
    FINISHED = "finished", _("已抢完")
    EXPIRED_REFUNDED = "expired_refunded", _("已过期退回")
    # Never paid by its deadline: no money ever reached its escrow.
    CANCELLED = "cancelled", _("未支付已取消")


class Funding(models.TextChoices):
    WALLET = "wallet", _("钱包")
    PAYMENT = "payment", _("在线支付")


class RedPacket(models.Model):
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="red_packets_sent"
    )
    total_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    count = models.PositiveIntegerField()
    split_type = models.CharField(max_length=8, choices=SplitType.choices)
    blessing = models.CharField(max_length=60, blank=True, default="")
    work = models.ForeignKey(
        "community.Work",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="red_packets",
    )
    condition = models.CharField(max_length=16, choices=Condition.choices, default="none")
    audience = models.CharField(max_length=16, choices=Audience.choices, default="public")
    # Random, only for group packets: whoever holds the invite link may grab.
    invite_token = models.CharField(max_length=64, blank=True, default="")
    # Same-city packets only: the sender's position as a geohash cell (about 150 m), never the
    # raw coordinates, and the radius claimers must be within.
    geohash = models.CharField(max_length=12, blank=True, default="")
    radius_m = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=PacketStatus.choices, default="active")
    funding = models.CharField(max_length=8, choices=Funding.choices, default="wallet")
    # Payment-funded packets only: unpaid by then, the packet is cancelled. Its 24 h life
    # (expires_at) starts when the payment arrives.
    pay_by = models.DateTimeField(null=True, blank=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    claimed_count = models.PositiveIntegerField(default=0)
    claimed_fen = models.BigIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("红包")
        verbose_name_plural = _("红包")
        indexes = [
            models.Index(fields=["status", "expires_at"], name="redpacket_status_expiry_idx"),
            models.Index(fields=["sender", "-created_at"], name="redpacket_sender_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(claimed_count__lte=F("count")), name="redpacket_claimed_le_count"
            ),
            models.CheckConstraint(
                condition=Q(claimed_fen__gte=0) & Q(refunded_fen__gte=0),
                name="redpacket_amounts_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(claimed_fen__lte=F("total_fen") - F("refunded_fen")),
                name="redpacket_claimed_refunded_le_total",
            ),
            models.CheckConstraint(
                condition=Q(total_fen__gte=F("count")), name="redpacket_total_ge_count"
            ),
        ]

    def __str__(self) -> str:
        return f"red packet {self.pk}"


class RedPacketShare(models.Model):
    packet = models.ForeignKey(RedPacket, on_delete=models.PROTECT, related_name="shares")
    seq = models.PositiveIntegerField()  # 1-based; claim n takes share n
    amount_fen = models.BigIntegerField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("红包份额")
        verbose_name_plural = _("红包份额")
        constraints = [
            models.UniqueConstraint(fields=["packet", "seq"], name="redpacket_share_seq_uniq"),
            models.CheckConstraint(condition=Q(amount_fen__gte=1), name="redpacket_share_min"),
        ]

    def __str__(self) -> str:
        return f"share {self.seq} of packet {self.packet_id}"


class RedPacketClaim(models.Model):
    packet = models.ForeignKey(RedPacket, on_delete=models.PROTECT, related_name="claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="red_packet_claims"
    )
    share = models.OneToOneField(RedPacketShare, on_delete=models.PROTECT, related_name="claim")
    amount_fen = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("抢红包记录")
        verbose_name_plural = _("抢红包记录")
        constraints = [
            models.UniqueConstraint(fields=["packet", "user"], name="redpacket_claim_once"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="redpacket_claim_user_idx")]

    def __str__(self) -> str:
        return f"claim of packet {self.packet_id} by user {self.user_id}"


# --- gifts ------------------------------------------------------------------------------------

GIFT_MIN_FEN = 500  # 5 yuan
GIFT_MAX_FEN = 50_000  # 500 yuan


class Gift(models.Model):
    """An item of the gift catalogue (虚拟礼物), priced 5–500 yuan."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    name_en = models.CharField(_("英文名称"), max_length=32, blank=True, default="")
    price_fen = models.PositiveIntegerField(_("价格（分）"))
    # A static file path, e.g. "redpackets/gifts/rose.svg".
    icon = models.CharField(_("图标"), max_length=120)
    active = models.BooleanField(_("上架"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("礼物")
        verbose_name_plural = _("礼物")
        ordering = ["sort_order", "price_fen", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_fen__gte=GIFT_MIN_FEN) & Q(price_fen__lte=GIFT_MAX_FEN),
                name="gift_price_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerKind(models.TextChoices):
    CONTENT_OWNER = "content_owner", _("版权方")
    HARDWARE = "hardware", _("硬件厂商")
    CARRIER = "carrier", _("电信运营商")


class PartnerSplit(models.Model):
    """The partner split table (seed: content owner 60 / 40, hardware 30 / 70, carrier 25 / 75):
    the partner's percentage of the creator's part of a gift on a licensed work."""

    kind = models.CharField(_("合作类型"), max_length=16, choices=PartnerKind.choices, unique=True)
    partner_percent = models.PositiveSmallIntegerField(_("合作方比例（%）"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("合作分成比例")
        verbose_name_plural = _("合作分成比例")
        constraints = [
            models.CheckConstraint(
                condition=Q(partner_percent__lte=100), name="partner_split_percent_le_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.partner_percent}%"


class RightsHolder(models.Model):
    """A partner that licenses content to creators; paid into its own ledger account
    (``creator_royalty`` ``rights_holder:<id>``), or into ``user``'s wallet when set."""

    name = models.CharField(_("名称"), max_length=80)
    split = models.ForeignKey(
        PartnerSplit, verbose_name=_("分成比例"), on_delete=models.PROTECT, related_name="holders"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收款用户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("版权合作方")
        verbose_name_plural = _("版权合作方")

    def __str__(self) -> str:
        return self.name


class WorkLicense(models.Model):
    """Flags a work as using licensed content: gifts on it share the creator's part."""

    work = models.OneToOneField(
        "community.Work", on_delete=models.CASCADE, related_name="gift_license"
    )
    holder = models.ForeignKey(
        RightsHolder, verbose_name=_("版权合作方"), on_delete=models.PROTECT, related_name="works"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("授权内容作品")
        verbose_name_plural = _("授权内容作品")

    def __str__(self) -> str:
        return f"work {self.work_id} ← {self.holder}"


class GiftSend(models.Model):
    """One gift sent to a creator on a work, with how its amount was split (sums exactly)."""

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gifts_sent"
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gifts_received"
    )
    work = models.ForeignKey("community.Work", on_delete=models.PROTECT, related_name="gifts")
    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="sends")
    quantity = models.PositiveSmallIntegerField(default=1)
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    platform_fen = models.BigIntegerField()
    creator_fen = models.BigIntegerField()
    holder_fen = models.BigIntegerField(default=0)
    holder = models.ForeignKey(
        RightsHolder, null=True, blank=True, on_delete=models.PROTECT, related_name="gift_sends"
    )
    platform_percent = models.PositiveSmallIntegerField()
    partner_percent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("礼物记录")
        verbose_name_plural = _("礼物记录")
        indexes = [
            models.Index(fields=["creator", "-created_at"], name="giftsend_creator_idx"),
            models.Index(fields=["work", "-created_at"], name="giftsend_work_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    amount_fen=F("platform_fen") + F("creator_fen") + F("holder_fen"),
                    platform_fen__gte=0,
                    creator_fen__gte=0,
                    holder_fen__gte=0,
                ),
                name="giftsend_split_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"gift {self.gift_id} ×{self.quantity} to user {self.creator_id}"
