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


class PacketStatus(models.TextChoices):
    ACTIVE = "active", _("进行中")
    FINISHED = "finished", _("已抢完")
    EXPIRED_REFUNDED = "expired_refunded", _("已过期退回")


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
    audience = models.CharField(max_length=8, choices=Audience.choices, default="public")
    # Random, only for group packets: whoever holds the invite link may grab.
    invite_token = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=PacketStatus.choices, default="active")
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
