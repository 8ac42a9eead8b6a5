"""Operators' console for risk control: rules (switches and thresholds), decisions with their
reasons, the blacklist and the review queue (release / keep frozen / report)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError
from yaji.risk.models import (
    BlacklistEntry,
    ReviewStatus,
    RiskActivity,
    RiskDecision,
    RiskReview,
    RiskRule,
)
from yaji.risk.services import risk_review_decide, risk_rules_reload


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "enabled",
        "outcome",
        "actions",
        "limit_count",
        "limit_fen",
        "minor_limit_fen",
        "unverified_limit_fen",
        "percent",
        "window_minutes",
    )
    list_editable = ("enabled",)
    readonly_fields = ("code", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rules come with the code (data migration); operators tune them

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        risk_rules_reload()


@admin.register(RiskDecision)
class RiskDecisionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "amount_fen", "outcome", "rules_fired")
    list_filter = ("outcome", "action")
    search_fields = ("user__email", "=user__id", "device", "ip")
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"

    @admin.display(description=_("触发规则"))
    def rules_fired(self, obj: RiskDecision) -> str:
        return ", ".join(r.get("rule", "") for r in obj.reasons or [])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RiskActivity)
class RiskActivityAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "amount_fen", "device", "ip", "reference")
    list_filter = ("action",)
    search_fields = ("=user__id", "device", "ip", "reference")
    raw_id_fields = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "active", "reason", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("value", "reason")


def _decide(status: str):  # type: ignore[no-untyped-def]
    def action(modeladmin, request, queryset: QuerySet[RiskReview]) -> None:  # type: ignore[no-untyped-def]
        done = 0
        for review in queryset.filter(status=ReviewStatus.OPEN):
            try:
                risk_review_decide(
                    review_id=review.pk,
                    actor=request.user,
                    status=status,
                    ip=request.META.get("REMOTE_ADDR"),
                )
                done += 1
            except ApplicationError as exc:
                modeladmin.message_user(request, str(exc.message), messages.WARNING)
        modeladmin.message_user(request, _("已处理 %(n)d 条复核。") % {"n": done})

    action.__name__ = f"decide_{status}"
    return action


@admin.register(RiskReview)
class RiskReviewAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "rule", "status", "reviewed_by", "reviewed_at")
    list_filter = ("status", "rule")
    search_fields = ("=user__id", "user__email")
    raw_id_fields = ("user", "decision")
    readonly_fields = ("user", "decision", "rule", "status", "reviewed_by", "reviewed_at")
    actions = [
        admin.action(description=_("放行（解除冻结）"))(_decide(ReviewStatus.RELEASED)),
        admin.action(description=_("维持冻结"))(_decide(ReviewStatus.FROZEN)),
        admin.action(description=_("上报司法机关"))(_decide(ReviewStatus.REPORTED)),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
