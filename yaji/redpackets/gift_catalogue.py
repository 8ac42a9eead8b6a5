"""The gift catalogue and partner split table the platform ships with (seed 001), applied by a
data migration and idempotently by :func:`gift_catalogue_ensure_defaults`; operators edit both
in the admin afterwards (existing rows are never overwritten)."""

from __future__ import annotations

from typing import Any

DEFAULT_GIFTS: list[dict[str, Any]] = [
    {
        "code": "rose",
        "name_en": "Rose",
        "name": "玫瑰",
        "price_fen": 500,
        "icon": "redpackets/gifts/rose.svg",
    },
    {
        "code": "mic",
        "name_en": "Golden mic",
        "name": "金话筒",
        "price_fen": 1_000,
        "icon": "redpackets/gifts/mic.svg",
    },
    {
        "code": "cake",
        "name_en": "Cake",
        "name": "蛋糕",
        "price_fen": 2_000,
        "icon": "redpackets/gifts/cake.svg",
    },
    {
        "code": "cheer",
        "name_en": "Glow stick",
        "name": "应援棒",
        "price_fen": 5_200,
        "icon": "redpackets/gifts/cheer.svg",
    },
    {
        "code": "crown",
        "name_en": "Crown",
        "name": "皇冠",
        "price_fen": 18_800,
        "icon": "redpackets/gifts/crown.svg",
    },
    {
        "code": "rocket",
        "name_en": "Rocket",
        "name": "火箭",
        "price_fen": 50_000,
        "icon": "redpackets/gifts/rocket.svg",
    },
]

# Partner's percentage of the creator's part (seed: 内容方60%+平台40%, 厂商30%+平台70%,
# 运营商25%+平台75%).
DEFAULT_SPLITS: dict[str, int] = {"content_owner": 60, "hardware": 30, "carrier": 25}


def gift_catalogue_ensure_defaults(gift_model: Any = None, split_model: Any = None) -> int:
    if gift_model is None or split_model is None:
        from yaji.redpackets.models import Gift, PartnerSplit

        gift_model, split_model = Gift, PartnerSplit
    created = 0
    for order, spec in enumerate(DEFAULT_GIFTS):
        fields = dict(spec)
        _gift, made = gift_model.objects.get_or_create(
            code=fields.pop("code"), defaults={**fields, "sort_order": order}
        )
        created += made
    for kind, percent in DEFAULT_SPLITS.items():
        _split, made = split_model.objects.get_or_create(
            kind=kind, defaults={"partner_percent": percent}
        )
        created += made
    return created
