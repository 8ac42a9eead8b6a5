"""Reads of risk control (operators' dashboards, review queue)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from yaji.risk.models import Outcome, ReviewStatus, RiskReview, RuleCode


def risk_decisions_by_rule(*, since: datetime) -> list[tuple[str, str, int]]:
    """(rule code, outcome the rule gave, decisions) over the decisions since ``since``: one
    statement unnesting each decision's ``reasons`` list in the database (``json_each`` on
    SQLite, ``jsonb_array_elements`` on PostgreSQL). Decisions no rule fired on are left out."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT r->>'rule', r->>'outcome', COUNT(*) FROM risk_riskdecision d, "
            "jsonb_array_elements(d.reasons) r WHERE d.created_at >= %s "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
        )
    else:
        sql = (
            "SELECT json_extract(r.value, '$.rule'), json_extract(r.value, '$.outcome'), "
            "COUNT(*) FROM risk_riskdecision d, json_each(d.reasons) r WHERE d.created_at >= %s "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(since)])
        return [(rule, outcome, n) for rule, outcome, n in cursor.fetchall()]


def risk_reviews_open() -> QuerySet[RiskReview]:
    return (
        RiskReview.objects.filter(status=ReviewStatus.OPEN)
        .select_related("user", "decision")
        .order_by("created_at", "pk")
    )


def risk_rule_label(code: str) -> str:
    """The operator-facing name of a rule code (the code itself for one no longer defined)."""
    labels = dict(RuleCode.choices) | {"step_up": Outcome.STEP_UP.label}
    return str(labels.get(code, code))


def risk_outcome_label(outcome: str) -> str:
    return str(dict(Outcome.choices).get(outcome, outcome))
