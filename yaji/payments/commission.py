"""Commission rates per category and shop tier, royalties of licensed designs, and the split
of an order's escrow at settlement (ADR 0032).

Rates are basis points of the goods (shipping passes to the shop untaxed). The rate of a line
is the most specific row of :class:`CommissionRate`, looking at the product's category and then
each ancestor, nearest first; at each category the row for the shop's tier beats the row for
every tier. Then the tier's own row (any category), then the platform row (neither), then
``YAJI_COMMISSION_BPS``.

Rounding, written once: each line's commission and royalty are floored to the fen (the shop
keeps the fractions); a royalty never takes more than the line leaves after commission. When an
after-sale refund keeps only part of the goods, each line's amounts are scaled by
``kept / goods`` with the same floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from yaji.catalog.models import Category
from yaji.payments.models import BPS_MAX, CommissionRate, DesignLicense, ShopTierAssignment


def default_commission_bps() -> int:
    return int(getattr(settings, "YAJI_COMMISSION_BPS", 500))


@dataclass(frozen=True, slots=True)
class GoodsLine:
    line_id: int
    product_id: int
    category_id: int | None
    goods_fen: int


@dataclass(frozen=True, slots=True)
class Split:
    commission_fen: int
    royalties: dict[int, int]  # creator user id → fen
    shop_fen: int
    detail: list[dict] = field(default_factory=list)

    @property
    def royalty_fen(self) -> int:
        return sum(self.royalties.values())


def _ancestors(category_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each category's chain, itself first, up to the root (the tree is small and shallow)."""
    parents = dict(Category.objects.values_list("id", "parent_id"))
    chains: dict[int, list[int]] = {}
    for start in set(category_ids):
        chain, seen, node = [], set(), start
        while node is not None and node not in seen:
            chain.append(node)
            seen.add(node)
            node = parents.get(node)
        chains[start] = chain
    return chains


def shop_tier_id(*, shop_id: int) -> int | None:
    return (
        ShopTierAssignment.objects.filter(shop_id=shop_id).values_list("tier_id", flat=True).first()
    )


def commission_bps_for(
    *, shop_id: int, category_ids: Sequence[int | None]
) -> dict[int | None, int]:
    """The rate for each category (None = uncategorised) of one shop's products."""
    tier = shop_tier_id(shop_id=shop_id)
    chains = _ancestors(c for c in category_ids if c is not None)
    rows = {(r.category_id, r.tier_id): r.bps for r in CommissionRate.objects.all()}
    fallback = rows.get((None, tier)) if tier is not None else None
    if fallback is None:
        fallback = rows.get((None, None), default_commission_bps())
    rates: dict[int | None, int] = {}
    for category_id in category_ids:
        rate = fallback
        for node in chains.get(category_id, []) if category_id is not None else []:
            specific = rows.get((node, tier)) if tier is not None else None
            general = rows.get((node, None))
            if specific is not None or general is not None:
                rate = specific if specific is not None else general  # type: ignore[assignment]
                break
        rates[category_id] = rate
    return rates


def settlement_split(
    *, shop_id: int, lines: Sequence[GoodsLine], shipping_fen: int, kept_fen: int | None = None
) -> Split:
    """Split what an order leaves in escrow for the shop side: ``kept_fen`` (default: all of
    goods + shipping) → commission + royalties + the shop's share. Exact to the fen."""
    goods = sum(line.goods_fen for line in lines)
    total = goods + shipping_fen
    kept = total if kept_fen is None else kept_fen
    if not 0 <= kept <= total:
        raise ValueError("kept_fen must be between 0 and the order's total")
    kept_goods = max(0, min(goods, kept))
    rates = commission_bps_for(shop_id=shop_id, category_ids=[line.category_id for line in lines])
    licenses = {
        lic.product_id: lic
        for lic in DesignLicense.objects.filter(
            product_id__in=[line.product_id for line in lines], active=True
        )
    }
    commission = 0
    royalties: dict[int, int] = {}
    detail: list[dict] = []
    for line in lines:
        # Scale the line to what the shop side keeps of the goods (floor), then apply rates.
        base = line.goods_fen * kept_goods // goods if goods else 0
        bps = min(rates[line.category_id], BPS_MAX)
        line_commission = base * bps // BPS_MAX
        royalty = 0
        license_ = licenses.get(line.product_id)
        if license_ is not None:
            royalty = min(base * license_.royalty_bps // BPS_MAX, base - line_commission)
            if royalty:
                royalties[license_.creator_id] = royalties.get(license_.creator_id, 0) + royalty
        commission += line_commission
        detail.append(
            {
                "line_id": line.line_id,
                "goods_fen": line.goods_fen,
                "base_fen": base,
                "commission_bps": bps,
                "commission_fen": line_commission,
                "royalty_bps": license_.royalty_bps if license_ else 0,
                "royalty_fen": royalty,
                "creator_id": license_.creator_id if license_ else None,
            }
        )
    shop = kept - commission - sum(royalties.values())
    return Split(commission_fen=commission, royalties=royalties, shop_fen=shop, detail=detail)
