"""Moderation data: operator-edited rules, screened items, reports, appeals and the log.

Every piece of content that goes through :func:`yaji.moderation.services.moderation_screen`
has one :class:`ModerationItem` (unique per ``kind`` + ``object_id``), whatever the outcome, so
users can report any of it and reviewers see its whole history.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    HOLD = "hold", _("待审")
    BLOCK = "block", _("屏蔽")


class Category(models.TextChoices):
    GAMBLING = "gambling", _("赌博")
    FRAUD = "fraud", _("诈骗")
    COUNTERFEIT = "counterfeit", _("假冒伪劣")
    ABUSE = "abuse", _("辱骂骚扰")
    ADULT = "adult", _("色情低俗")
    SPAM = "spam", _("垃圾广告")
    OTHER = "other", _("其他")


class WordRule(models.Model):
    """A word or phrase the text matcher looks for, in its normalised form."""

    word = models.CharField(_("词语"), max_length=100, unique=True)
    category = models.CharField(
        _("类别"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    action = models.CharField(_("处理方式"), max_length=10, choices=Action.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")
        ordering = ["category", "word"]

    def __str__(self) -> str:
        return self.word


class ImageHashRule(models.Model):
    """A blocklisted image, by exact SHA-256 or by 64-bit perceptual difference hash."""

    class Algorithm(models.TextChoices):
        SHA256 = "sha256", _("SHA-256（完全相同）")
        DHASH = "dhash", _("感知哈希 dHash（相似）")

    algorithm = models.CharField(_("算法"), max_length=10, choices=Algorithm.choices)
    # sha256: 64 hex characters; dhash: 16 hex characters (64 bits).
    value = models.CharField(_("哈希值"), max_length=64)
    action = models.CharField(_("处理方式"), max_length=10, choices=Action.choices)
    label = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("图片黑名单")
        verbose_name_plural = _("图片黑名单")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm", "value"], name="moderation_image_hash_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value[:16]}"


class Status(models.TextChoices):
    VISIBLE = "visible", _("可见")
    HELD = "held", _("待审核")
    BLOCKED = "blocked", _("已屏蔽")


class ModerationItem(models.Model):
    class QueueReason(models.TextChoices):
        NONE = "", _("无")
        SCREEN = "screen", _("自动筛查")
        REPORTS = "reports", _("用户举报")
        APPEAL = "appeal", _("申诉")

    kind = models.CharField(_("内容类型"), max_length=50)
    object_id = models.BigIntegerField(_("内容编号"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_items",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.VISIBLE
    )
    reasons = models.JSONField(_("原因"), default=list, blank=True)
    matches = models.JSONField(_("命中词"), default=list, blank=True)
    excerpt = models.CharField(_("内容摘录"), max_length=500, blank=True)
    # In the reviewers' queue: a held item, or a blocked one whose author appealed.
    pending_review = models.BooleanField(_("待人工审核"), default=False)
    queue_reason = models.CharField(
        _("入队原因"), max_length=10, choices=QueueReason.choices, default="", blank=True
    )
    sla_due_at = models.DateTimeField(_("审核时限"), null=True, blank=True)
    report_count = models.PositiveIntegerField(_("举报数"), default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("审核内容")
        verbose_name_plural = _("审核内容")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="moderation_item_uniq"),
            models.CheckConstraint(
                condition=Q(pending_review=False) | Q(sla_due_at__isnull=False),
                name="moderation_item_queued_has_sla",
            ),
        ]
        indexes = [
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(pending_review=True),
                name="moderation_item_queue_idx",
            ),
            models.Index(fields=["author", "-created_at"], name="moderation_item_author_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.object_id} ({self.status})"


class Report(models.Model):
    item = models.ForeignKey(ModerationItem, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_reports"
    )
    reason = models.CharField(_("举报原因"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("用户举报")
        verbose_name_plural = _("用户举报")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "reporter"], name="moderation_report_once"),
        ]

    def __str__(self) -> str:
        return f"report #{self.pk} on {self.item_id}"


class Appeal(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待处理")
        GRANTED = "granted", _("申诉成功")
        REJECTED = "rejected", _("申诉驳回")

    # One appeal per item, ever: the database says so, not just the service.
    item = models.OneToOneField(ModerationItem, on_delete=models.CASCADE, related_name="appeal")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_appeals"
    )
    reason = models.CharField(_("申诉理由"), max_length=1000)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"appeal #{self.pk} ({self.state})"


class AppendOnly(Exception):
    """The moderation log is never changed or deleted row by row."""


class LogEntry(models.Model):
    """One decision, automatic or human: who, when, what, why. Append-only."""

    class Action(models.TextChoices):
        SCREEN = "screen", _("自动筛查")
        REPORT_HOLD = "report_hold", _("举报转待审")
        APPEAL = "appeal", _("提交申诉")
        APPROVE = "approve", _("审核通过")
        BLOCK = "block", _("审核屏蔽")

    item = models.ForeignKey(ModerationItem, on_delete=models.PROTECT, related_name="log")
    # Null for automatic decisions (and if an account is ever erased).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=10, choices=Status.choices)
    to_status = models.CharField(_("新状态"), max_length=10, choices=Status.choices)
    reason = models.CharField(_("原因"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("审核日志")
        verbose_name_plural = _("审核日志")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An integrity guard, not a business rule: rows are written once.
        if self.pk is not None and not self._state.adding:
            raise AppendOnly("moderation log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("moderation log entries cannot be deleted")
