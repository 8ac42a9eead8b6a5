"""Flash sales: sale price in the window, sale stock carved out of the variant's, per-buyer limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yaji.catalog.tests.factories import verified_user
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.trade import flash, services
from yaji.trade.errors import FlashSaleSoldOut, InvalidFlashSale, PerBuyerLimitExceeded
from yaji.trade.models import FlashSale
from yaji.trade.tests.factories import address_for, buyer_funded, cart_with, listed, variant_of

pytestmark = pytest.mark.django_db


def sale_on(product, *, stock: int = 3, limit: int = 1, price: int = 9900, **kw) -> FlashSale:  # type: ignore[no-untyped-def]
    now = clock.now()
    return flash.flash_sale_create(
        actor=product.shop.owner,
        variant_id=variant_of(product).pk,
        title="双十二秒杀",
        starts_at=kw.get("starts_at", now - timedelta(minutes=1)),
        ends_at=kw.get("ends_at", now + timedelta(hours=1)),
        price_fen=price,
        stock=stock,
        per_user_limit=limit,
    )


def test_in_the_window_the_sale_price_applies_and_both_stocks_are_taken() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=3, limit=2)
    buyer = buyer_funded()
    cart_with(buyer, (product, 2))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    line = checkout.orders.get().lines.get()
    assert line.unit_price_fen == 9900 and line.flash_sale_id == sale.pk
    sale.refresh_from_db()
    assert sale.stock == 1 and variant_of(product).stock == 8
    # cancelling gives both back
    services.checkout_cancel(buyer=buyer, checkout_id=checkout.pk)
    sale.refresh_from_db()
    assert sale.stock == 3 and variant_of(product).stock == 10


def test_the_per_buyer_limit_and_sold_out() -> None:
    product = listed(stock=10)
    sale_on(product, stock=2, limit=1)
    first = buyer_funded()
    cart_with(first, (product, 1))
    services.checkout_place(buyer=first, address_id=address_for(first).pk)
    cart_with(first, (product, 1))
    with pytest.raises(PerBuyerLimitExceeded):
        services.checkout_place(buyer=first, address_id=address_for(first).pk)
    second, third = buyer_funded(), buyer_funded()
    cart_with(second, (product, 1))
    services.checkout_place(buyer=second, address_id=address_for(second).pk)
    cart_with(third, (product, 1))
    with pytest.raises(FlashSaleSoldOut):
        services.checkout_place(buyer=third, address_id=address_for(third).pk)
    assert variant_of(product).stock == 8  # the refused checkout took nothing


def test_outside_the_window_the_normal_price_applies() -> None:
    product = listed(stock=10)
    now = clock.now()
    sale_on(product, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    buyer = buyer_funded()
    cart_with(buyer, (product, 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    assert checkout.orders.get().lines.get().unit_price_fen == 16800


def test_only_the_shop_sets_up_a_sale_and_bad_settings_are_refused() -> None:
    product = listed(stock=5)
    with pytest.raises(NotFound):
        flash.flash_sale_create(
            actor=verified_user(),
            variant_id=variant_of(product).pk,
            title="x",
            starts_at=clock.now(),
            ends_at=clock.now() + timedelta(hours=1),
            price_fen=100,
            stock=1,
        )
    for bad in ({"price": 16800}, {"stock": 6}, {"price": 0}, {"limit": 0}):
        with pytest.raises(InvalidFlashSale):
            sale_on(product, **bad)
    with pytest.raises(InvalidFlashSale):
        sale_on(product, ends_at=clock.now() - timedelta(minutes=1))


def test_flash_sales_over_the_api() -> None:
    from django.test import Client

    from yaji.accounts.tests.conftest import Api
    from yaji.accounts.tests.factories import PASSWORD

    product = listed(stock=5)
    api = Api()
    api.login(product.shop.owner.email, PASSWORD)
    now = clock.now()
    body = {
        "variant_id": variant_of(product).pk,
        "title": "整点秒杀",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "price_fen": 9900,
        "stock": 2,
    }
    created = api.post("/flash-sales", body)
    assert created.status_code == 201, created.content
    assert Client().get("/api/v1/flash-sales").json()[0]["id"] == created.json()["id"]
    too_many = api.post("/flash-sales", {**body, "stock": 50})
    assert too_many.status_code == 400 and too_many.json()["code"] == "invalid_flash_sale"
