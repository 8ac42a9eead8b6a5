"""Shop finance: per-order settlement records, clawbacks after settlement, settlement
statements per shop per period, and payout batches to shops (ADR 0032)."""

from __future__ import annotations

from datetime import datetime

from yaji.payments.commission import Split
from yaji.payments.models import OrderSettlement


def order_settlement_record(
    *,
    order_id: int,
    shop_id: int,
    gross_fen: int,
    refunded_fen: int,
    split: Split,
    currency: str,
    settled_at: datetime,
) -> OrderSettlement:
    """Record how an order's escrow was split (inside the settling transaction)."""
    return OrderSettlement.objects.create(
        order_id=order_id,
        shop_id=shop_id,
        gross_fen=gross_fen,
        refunded_fen=refunded_fen,
        commission_fen=split.commission_fen,
        royalty_fen=split.royalty_fen,
        net_fen=split.shop_fen,
        currency=currency,
        detail=split.detail,
        settled_at=settled_at,
    )
