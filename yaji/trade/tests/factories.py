"""Test data for trade: listed products with stock, funded buyers, a filled cart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from yaji.accounts.models import User
from yaji.catalog.models import Product, Shop, Variant
from yaji.catalog.tests.factories import UserFactory, product_listed, shop_open
from yaji.core import clock
from yaji.ledger.tests.factories import wallet
from yaji.trade import flash, services
from yaji.trade.models import Address, FlashSale

__all__ = ["UserFactory", "address_for", "buyer_funded", "listed", "shop_open", "variant_of"]


def listed(shop: Shop | None = None, *, stock: int = 5, **overrides: Any) -> Product:
    """A listed product whose single variant (¥168.00) has ``stock`` units."""
    product = product_listed(shop or shop_open(), **overrides)
    # Stock is the shop's to set while the product is a draft; tests set it directly.
    Variant.objects.filter(product=product).update(stock=stock)
    return product


def listed_download(shop: Shop | None = None, *, stock: int = 100) -> Product:
    """A listed digital download (with its private file)."""
    from yaji.catalog import services as catalog
    from yaji.catalog.tests.factories import digital_product_make, reviewer_user

    product = digital_product_make(shop or shop_open())
    catalog.product_submit(actor=product.shop.owner, product_id=product.pk)
    catalog.product_review_approve(reviewer=reviewer_user(), product_id=product.pk)
    Variant.objects.filter(product=product).update(stock=stock)
    return product


def variant_of(product: Product) -> Variant:
    return Variant.objects.get(product=product)


def buyer_funded(balance: int = 1_000_000) -> User:
    user = UserFactory()
    wallet(user=user, balance=balance)
    return user


def address_for(user: User, **overrides: Any) -> Address:
    fields: dict[str, Any] = {
        "recipient": "林黛玉",
        "phone": "13812345678",
        "province": "江苏省",
        "city": "苏州市",
        "district": "姑苏区",
        "line": "平江路 88 号",
    }
    fields.update(overrides)
    return services.address_create(user=user, **fields)


def cart_with(user: User, *items: tuple[Product, int]) -> None:
    cart = services.cart_get(user=user)
    for product, quantity in items:
        services.cart_line_add(cart=cart, variant_id=variant_of(product).pk, quantity=quantity)


def flash_sale_open(*, units: int, limit: int, stock: int = 100) -> FlashSale:
    """A flash sale running now (started a minute ago, for an hour) of ``units`` at 1 yuan with
    a per-buyer ``limit``, on a fresh listed product with ``stock`` in its variant."""
    product = listed(stock=stock)
    return flash.flash_sale_create(
        actor=product.shop.owner,
        variant_id=variant_of(product).pk,
        title="整点秒杀",
        starts_at=clock.now() - timedelta(minutes=1),
        ends_at=clock.now() + timedelta(hours=1),
        price_fen=100,
        stock=units,
        per_user_limit=limit,
    )
