"""Flash sales: a variant's sale window, sale price, sale stock and per-buyer limit.

Checkout asks :func:`flash_sale_active` for each line; a line bought on sale takes its units from
the sale's stock with the same conditional decrement as the variant's stock (both, in one
transaction), so a storm of buyers gets exactly the sale's units and no more. The per-buyer
limit counts the buyer's live orders on this sale; checkouts of one buyer are serialised by the
lock on the buyer's row, so the limit holds when an account races itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Sum

from yaji.accounts.models import User
from yaji.catalog.models import Variant
from yaji.catalog.permissions import shop_can_manage
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.trade.errors import InvalidFlashSale
from yaji.trade.models import FlashSale, OrderLine, OrderStatus

MAX_WINDOW_DAYS = 14


@transaction.atomic(durable=True)
def flash_sale_create(
    *,
    actor: User,
    variant_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    price_fen: int,
    stock: int,
    per_user_limit: int = 1,
) -> FlashSale:
    """A shop manager puts a variant on sale (the sale's stock must exist in the variant)."""
    variant = Variant.objects.select_related("product__shop").filter(pk=variant_id).first()
    if variant is None or not shop_can_manage(actor, variant.product.shop):
        raise NotFound()
    title = (title or "").strip()
    if not 0 < len(title) <= 40 or "\x00" in title:
        raise InvalidFlashSale(extra={"field": "title"})
    if (
        ends_at <= starts_at
        or (ends_at - starts_at).days > MAX_WINDOW_DAYS
        or ends_at <= clock.now()
    ):
        raise InvalidFlashSale(extra={"field": "window", "max_days": MAX_WINDOW_DAYS})
    for field, value in (
        ("price_fen", price_fen),
        ("stock", stock),
        ("per_user_limit", per_user_limit),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidFlashSale(extra={"field": field})
    if price_fen >= variant.price_fen:
        raise InvalidFlashSale(extra={"field": "price_fen", "reason": "not_below_price"})
    if stock > variant.stock:
        raise InvalidFlashSale(extra={"field": "stock", "available": variant.stock})
    return FlashSale.objects.create(
        variant=variant,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        price_fen=price_fen,
        initial_stock=stock,
        stock=stock,
        per_user_limit=per_user_limit,
        created_by=actor,
    )


def flash_sale_active(*, variant_id: int, now: datetime | None = None) -> FlashSale | None:
    """The sale running now for this variant (the earliest-started one), if any."""
    now = now or clock.now()
    return (
        FlashSale.objects.filter(variant_id=variant_id, starts_at__lte=now, ends_at__gt=now)
        .order_by("starts_at", "id")
        .first()
    )


def flash_stock_take(*, sale: FlashSale, quantity: int) -> bool:
    return (
        FlashSale.objects.filter(pk=sale.pk, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        == 1
    )


def flash_stock_return(*, sale_id: int, quantity: int) -> None:
    FlashSale.objects.filter(pk=sale_id).update(stock=F("stock") + quantity)


def flash_bought(*, buyer: User, sale: FlashSale) -> int:
    live = (
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.PROCESSING,
        OrderStatus.IN_PRODUCTION,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    )
    total = OrderLine.objects.filter(
        flash_sale=sale, order__buyer=buyer, order__status__in=live
    ).aggregate(n=Sum("quantity"))["n"]
    return total or 0


def flash_sales_upcoming(*, now: datetime | None = None, limit: int = 50) -> list[FlashSale]:
    """Sales running now or starting within a day, of listed products, soonest first."""
    now = now or clock.now()
    return list(
        FlashSale.objects.filter(
            ends_at__gt=now,
            starts_at__lte=now + timedelta(days=1),
            variant__product__status="listed",
        )
        .select_related("variant")
        .order_by("starts_at", "id")[:limit]
    )
