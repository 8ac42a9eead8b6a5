"""Reads of trade: the cart with prices, checkouts, a buyer's orders, a shop's orders."""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from yaji.accounts.models import User
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog.models import Shop
from yaji.catalog.permissions import shop_can_manage
from yaji.core.errors import ApplicationError, NotFound, ValidationFailed
from yaji.trade.flash import flash_sale_active
from yaji.trade.models import (
    Address,
    AfterSale,
    Cart,
    CartLine,
    Checkout,
    EditionUnit,
    FlashSale,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    ShippingTemplate,
    TrackingEvent,
)

PAGE_MAX = 50


@dataclass
class CartItem:
    line: CartLine
    title: str
    sku: str
    options: dict[str, Any]
    unit_price_fen: int | None  # None: no longer available
    problem: str = ""  # an error code when the line cannot be bought as it is
    product_id: int = 0
    kind: str = ""
    flash_sale: FlashSale | None = None

    @property
    def total_fen(self) -> int:
        return (self.unit_price_fen or 0) * self.line.quantity


@dataclass
class CartGroup:
    shop: Shop
    items: list[CartItem] = field(default_factory=list)

    @property
    def items_fen(self) -> int:
        return sum(item.total_fen for item in self.items if not item.problem)


@dataclass
class CartView:
    cart: Cart | None
    groups: list[CartGroup]

    @property
    def items_fen(self) -> int:
        return sum(group.items_fen for group in self.groups)

    @property
    def count(self) -> int:
        return sum(item.line.quantity for group in self.groups for item in group.items)

    @property
    def buyable(self) -> bool:
        return bool(self.groups) and not any(
            item.problem for group in self.groups for item in group.items
        )


def cart_view(*, cart: Cart | None) -> CartView:
    """The cart grouped by shop, each line priced now (customisation included) or flagged."""
    if cart is None:
        return CartView(cart=None, groups=[])
    groups: dict[int, CartGroup] = {}
    products: dict[int, Any] = {}
    for line in cart.lines.select_related("variant").order_by("id"):
        product_id = line.variant.product_id
        if product_id not in products:
            try:
                products[product_id] = catalog_selectors.product_get_public(product_id=product_id)
            except NotFound:
                products[product_id] = None
        product = products[product_id]
        item = CartItem(
            line=line,
            title=product.title_zh if product else "",
            sku=line.variant.sku,
            options=line.variant.options,
            unit_price_fen=None,
            product_id=product_id,
            kind=product.kind if product else "",
        )
        if product is None:
            item.problem = "product_unavailable"
            shop = Shop.objects.get(pk=line.variant.product.shop_id)
        else:
            shop = product.shop
            try:
                item.unit_price_fen = catalog_selectors.customisation_quote(
                    product=product, variant_id=line.variant_id, selections=line.customisation
                )
                sale = flash_sale_active(variant_id=line.variant_id)
                if sale is not None:
                    item.unit_price_fen += sale.price_fen - line.variant.price_fen
                    item.flash_sale = sale
            except ApplicationError as exc:
                item.problem = exc.code
            else:
                if line.quantity > line.variant.stock:
                    item.problem = "insufficient_stock"
        groups.setdefault(shop.pk, CartGroup(shop=shop)).items.append(item)
    return CartView(cart=cart, groups=list(groups.values()))


def cart_find(*, user: User | None = None, session_key: str | None = None) -> Cart | None:
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    if session_key:
        return Cart.objects.filter(session_key=session_key).first()
    return None


def addresses_of(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)


def _order_qs() -> QuerySet[Order]:
    return Order.objects.select_related("shop").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("id")),
        Prefetch("lines__edition_units", queryset=EditionUnit.objects.order_by("number")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        Prefetch("after_sales", queryset=AfterSale.objects.order_by("-created_at")),
        "after_sales__photos",
        Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("occurred_at", "id")),
    )


def checkout_get(*, buyer: User, checkout_id: str) -> Checkout:
    try:
        uuid.UUID(str(checkout_id))
    except ValueError as exc:  # not even a possible id: never sent to the database
        raise NotFound() from exc
    checkout = (
        Checkout.objects.prefetch_related(Prefetch("orders", queryset=_order_qs()))
        .filter(pk=checkout_id, buyer=buyer)
        .first()
    )
    if checkout is None:
        raise NotFound()
    return checkout


@dataclass(frozen=True)
class OrderPage:
    items: list[Order]
    next_cursor: str | None


def _cursor_decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotFound() from exc
    if value <= 0:
        raise NotFound()
    return value


def _page(qs: QuerySet[Order], *, status: str | None, cursor: str | None, limit: int) -> OrderPage:
    if status:
        if status not in OrderStatus.values:
            raise ValidationFailed(extra={"status": status[:20]})
        qs = qs.filter(status=status)
    limit = max(1, min(limit, PAGE_MAX))
    before = _cursor_decode(cursor)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    items = list(qs.order_by("-id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    token = (
        base64.urlsafe_b64encode(str(items[-1].pk).encode()).decode().rstrip("=") if more else None
    )
    return OrderPage(items=items, next_cursor=token)


def orders_of_buyer(
    *, buyer: User, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> OrderPage:
    return _page(_order_qs().filter(buyer=buyer), status=status, cursor=cursor, limit=limit)


def order_get_for_buyer(*, buyer: User, number: str) -> Order:
    order = _order_qs().filter(buyer=buyer, number=number).first()
    if order is None:
        raise NotFound()
    return order


def order_get_by_id_for_buyer(*, buyer: User, order_id: int) -> Order:
    order = _order_qs().filter(buyer=buyer, pk=order_id).first() if 0 < order_id < 2**63 else None
    if order is None:
        raise NotFound()
    return order


def orders_of_shop(
    *,
    user: User,
    shop: Shop,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> OrderPage:
    """Orders of a shop the user manages; anyone else's shop is "not found"."""
    if not shop_can_manage(user, shop):
        raise NotFound()
    qs = _order_qs().filter(shop=shop).exclude(status=OrderStatus.PENDING_PAYMENT)
    return _page(qs, status=status, cursor=cursor, limit=limit)


def order_get_for_shop(*, user: User, order_id: int) -> Order:
    order = _order_qs().filter(pk=order_id).first() if 0 < order_id < 2**63 else None
    if order is None or not shop_can_manage(user, order.shop):
        raise NotFound()
    return order


def order_counts_by_status(*, buyer: User) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for status in Order.objects.filter(buyer=buyer).values_list("status", flat=True):
        counts[status] += 1
    return dict(counts)


def edition_units_of(
    *, order_id: int | None = None, product_id: int | None = None
) -> list[EditionUnit]:
    """The numbered units of a paid order or of a limited edition (with product and order),
    for other apps — the copyright app issues a digital passport for each."""
    qs = EditionUnit.objects.select_related("product", "line__order")
    if order_id is not None:
        qs = qs.filter(line__order_id=order_id)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    return list(qs.order_by("product_id", "number"))


def shipping_template_of(*, shop: Shop) -> ShippingTemplate:
    """The shop's template, or an unsaved one with the defaults checkout charges without one."""
    from yaji.trade.services import DEFAULT_TEMPLATE

    found = ShippingTemplate.objects.filter(shop=shop).first()
    if found is not None:
        return found
    return ShippingTemplate(
        shop=shop,
        first_kg_fen=DEFAULT_TEMPLATE.first_kg_fen,
        extra_kg_fen=DEFAULT_TEMPLATE.extra_kg_fen,
    )
