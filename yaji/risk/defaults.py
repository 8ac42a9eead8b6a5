"""The rules risk control ships with (the seed's thresholds); operators tune them in the admin.

Applied by a data migration and idempotently by :func:`risk_rules_ensure_defaults` (tests whose
database flush wiped the migration's rows call it too). Existing rows are never overwritten.
"""

from __future__ import annotations

from typing import Any

SEND = "redpacket.send,gift.send"
ALL_MONEY = "redpacket.send,redpacket.claim,gift.send,wallet.withdraw"

DEFAULT_RULES: list[dict[str, Any]] = [
    {"code": "blacklist", "outcome": "deny", "actions": ALL_MONEY},
    {"code": "frozen", "outcome": "deny", "actions": ALL_MONEY},
    {
        "code": "minor_night",
        "outcome": "deny",
        "actions": "redpacket.send,redpacket.claim,gift.send",
        "start_hour": 22,
        "end_hour": 6,
    },
    {
        "code": "single_limit",
        "outcome": "deny",
        "actions": SEND,
        "limit_fen": 500_000,  # 5,000 yuan per packet / gift
        "minor_limit_fen": 5_000,  # 50 yuan
        "unverified_limit_fen": 20_000,  # 200 yuan without real-name verification
    },
    {
        "code": "daily_limit",
        "outcome": "deny",
        "actions": SEND,
        "limit_fen": 1_000_000,  # 10,000 yuan per day
        "minor_limit_fen": 10_000,  # 100 yuan
        "unverified_limit_fen": 50_000,  # 500 yuan
    },
    {"code": "daily_count", "outcome": "step_up", "actions": "redpacket.send", "limit_count": 5},
    {
        "code": "amount_deviation",
        "outcome": "step_up",
        "actions": "redpacket.send",
        "percent": 200,
        "limit_count": 3,  # needs at least 3 earlier packets to know an average
        "window_minutes": 30 * 24 * 60,
    },
    {
        "code": "device_cluster",
        "outcome": "freeze",
        "actions": "redpacket.claim",
        "limit_count": 5,
        "window_minutes": 60,
    },
    {
        "code": "fast_in_fast_out",
        "outcome": "freeze",
        "actions": "redpacket.send,gift.send,wallet.withdraw",
        "limit_fen": 10_000,  # only when ≥ 100 yuan came in
        "percent": 80,
        "window_minutes": 10,
    },
    {
        "code": "circular_flow",
        "outcome": "freeze",
        "actions": "redpacket.send,gift.send,wallet.withdraw",
        "limit_count": 3,  # hops: A→B→C→A
        "limit_fen": 100,  # hops of at least 1 yuan
        "window_minutes": 24 * 60,
    },
]


def risk_rules_ensure_defaults(model: Any = None) -> int:
    """Create the missing default rules; returns how many were created."""
    if model is None:
        from yaji.risk.models import RiskRule as model
    created = 0
    for spec in DEFAULT_RULES:
        fields = dict(spec)
        _obj, made = model.objects.get_or_create(code=fields.pop("code"), defaults=fields)
        created += made
    return created
