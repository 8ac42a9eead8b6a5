"""Listed products for search tests, made through the catalog's services like real ones."""

from __future__ import annotations

from typing import Any

from yaji.accounts.models import User
from yaji.catalog import services as catalog
from yaji.catalog.models import Attribute, Product, Shop
from yaji.catalog.tests.factories import image_upload, reviewer_user, shop_open
from yaji.core.outbox import outbox_relay_once

__all__ = ["listed", "relay", "reviewer_user", "shop_open"]


def attribute_ids(*pairs: tuple[str, str]) -> list[int]:
    return [Attribute.objects.get(kind=kind, value_zh=value).pk for kind, value in pairs]


def listed(
    shop: Shop,
    *,
    reviewer: User | None = None,
    price_fen: int = 16800,
    attributes: tuple[tuple[str, str], ...] = (),
    **fields: Any,
) -> Product:
    """A product created, priced, illustrated, submitted and approved (event published)."""
    product = catalog.product_create(
        actor=shop.owner, shop=shop, attribute_ids=attribute_ids(*attributes), **fields
    )
    catalog.variant_upsert(
        actor=shop.owner, product_id=product.pk, sku="SKU-1", price_fen=price_fen, stock=5
    )
    catalog.product_image_add(actor=shop.owner, product_id=product.pk, upload=image_upload())
    catalog.product_submit(actor=shop.owner, product_id=product.pk)
    return catalog.product_review_approve(
        reviewer=reviewer or reviewer_user(), product_id=product.pk
    )


def relay() -> int:
    """Deliver every due outbox event (what the worker does), returning how many."""
    total = 0
    while n := outbox_relay_once():
        total += n
    return total
