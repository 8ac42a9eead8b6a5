"""Risk control: operator-tunable rules, the decisions taken with their reasons, the activity
they are computed from, the blacklist and the freeze/review queue (ADR 0022)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RuleCode(models.TextChoices):
    BLACKLIST = "blacklist", _("黑名单")
    FROZEN = "frozen", _("账户冻结中")
    MINOR_NIGHT = "minor_night", _("未成年人夜间禁用")
    SINGLE_LIMIT = "single_limit", _("单笔限额")
    DAILY_LIMIT = "daily_limit", _("日累计限额")
    DAILY_COUNT = "daily_count", _("日发送次数")
    AMOUNT_DEVIATION = "amount_deviation", _("金额异常波动")
    DEVICE_CLUSTER = "device_cluster", _("同设备/IP 多账号")
    FAST_IN_FAST_OUT = "fast_in_fast_out", _("资金快进快出")
    CIRCULAR_FLOW = "circular_flow", _("关联账户资金回流")


class Outcome(models.TextChoices):
    ALLOW = "allow", _("放行")
    STEP_UP = "step_up", _("需人脸核验")
    DENY = "deny", _("拒绝")
    FREEZE = "freeze", _("冻结并复核")


class RiskRule(models.Model):
    """One rule's switch and thresholds. Which fields a rule reads is documented per code in
    ``yaji.risk.rules``; operators edit them in the admin."""

    code = models.CharField(_("规则"), max_length=32, choices=RuleCode.choices, unique=True)
    enabled = models.BooleanField(_("启用"), default=True)
    outcome = models.CharField(_("处置"), max_length=10, choices=Outcome.choices)
    # Comma-separated actions the rule applies to, e.g. "redpacket.send,gift.send".
    actions = models.CharField(_("适用操作"), max_length=200)
    limit_count = models.PositiveIntegerField(_("次数阈值"), null=True, blank=True)
    limit_fen = models.BigIntegerField(_("金额阈值（分）"), null=True, blank=True)
    minor_limit_fen = models.BigIntegerField(_("未成年人金额阈值（分）"), null=True, blank=True)
    unverified_limit_fen = models.BigIntegerField(_("未实名金额阈值（分）"), null=True, blank=True)
    percent = models.PositiveIntegerField(_("百分比阈值"), null=True, blank=True)
    window_minutes = models.PositiveIntegerField(_("时间窗口（分钟）"), null=True, blank=True)
    start_hour = models.PositiveSmallIntegerField(_("开始小时"), null=True, blank=True)
    end_hour = models.PositiveSmallIntegerField(_("结束小时"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("风控规则")
        verbose_name_plural = _("风控规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()

    @property
    def action_list(self) -> list[str]:
        return list(actions_split(self.actions))


@lru_cache(maxsize=256)
def actions_split(actions: str) -> tuple[str, ...]:
    # Asked for each rule before every grab; a handful of distinct strings ever.
    return tuple(a.strip() for a in actions.split(",") if a.strip())


class RiskDecision(models.Model):
    """Every evaluation, logged with the rules that fired and why."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_decisions"
    )
    action = models.CharField(_("操作"), max_length=40)
    amount_fen = models.BigIntegerField(_("金额（分）"), default=0)
    outcome = models.CharField(_("结论"), max_length=10, choices=Outcome.choices)
    # [{"rule": code, "outcome": ..., "detail": {...}}, ...]
    reasons = models.JSONField(_("原因"), default=list, blank=True)
    device = models.CharField(_("设备指纹"), max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("风控决策")
        verbose_name_plural = _("风控决策")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="riskdecision_user_idx"),
            models.Index(fields=["outcome", "-created_at"], name="riskdecision_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome} user {self.user_id}"


class RiskActivity(models.Model):
    """A money movement that happened (recorded in the mover's transaction): what the daily
    counts, averages and velocity signals are computed from."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_activities"
    )
    action = models.CharField(max_length=40)
    amount_fen = models.BigIntegerField(default=0)
    device = models.CharField(max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("资金活动")
        verbose_name_plural = _("资金活动")
        indexes = [
            models.Index(fields=["user", "action", "created_at"], name="riskactivity_user_idx"),
            models.Index(fields=["device", "action", "created_at"], name="riskactivity_device_idx"),
            models.Index(fields=["ip", "action", "created_at"], name="riskactivity_ip_idx"),
            # circular_flow follows money from a sender to the receivers of the same packet/gift
            models.Index(fields=["reference", "action"], name="riskactivity_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.amount_fen} user {self.user_id}"


class BlacklistKind(models.TextChoices):
    USER = "user", _("账号")
    DEVICE = "device", _("设备指纹")
    IP = "ip", _("IP")


class BlacklistEntry(models.Model):
    kind = models.CharField(_("类型"), max_length=8, choices=BlacklistKind.choices)
    # user id, device fingerprint or IP address, as text
    value = models.CharField(_("值"), max_length=64)
    reason = models.CharField(_("原因"), max_length=200, blank=True, default="")
    active = models.BooleanField(_("生效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("黑名单")
        verbose_name_plural = _("黑名单")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="risk_blacklist_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("待复核")
    RELEASED = "released", _("已放行")
    FROZEN = "frozen", _("维持冻结")
    REPORTED = "reported", _("已上报")


class RiskReview(models.Model):
    """The review queue: an account frozen by a velocity or laundering signal. While a review
    is open (or decided "frozen"/"reported") the account's money actions are refused."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_reviews"
    )
    decision = models.ForeignKey(
        RiskDecision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(_("规则"), max_length=32, choices=RuleCode.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    note = models.CharField(_("备注"), max_length=500, blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("复核队列")
        verbose_name_plural = _("复核队列")
        indexes = [models.Index(fields=["status", "-created_at"], name="riskreview_status_idx")]
        constraints = [
            # One open review per account at a time.
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="open"), name="riskreview_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.pk} user {self.user_id} ({self.status})"
