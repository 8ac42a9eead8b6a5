"""Reads of risk control (operators' dashboards, review queue)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet

from yaji.risk.models import ReviewStatus, RiskDecision, RiskReview


def risk_decisions_by_outcome(*, since: datetime) -> list[tuple[str, int]]:
    rows = (
        RiskDecision.objects.filter(created_at__gte=since)
        .values("outcome")
        .annotate(n=Count("id"))
        .order_by("-n", "outcome")
    )
    return [(row["outcome"], row["n"]) for row in rows]


def risk_reviews_open() -> QuerySet[RiskReview]:
    return (
        RiskReview.objects.filter(status=ReviewStatus.OPEN)
        .select_related("user", "decision")
        .order_by("created_at", "pk")
    )
