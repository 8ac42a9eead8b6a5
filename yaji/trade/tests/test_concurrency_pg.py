"""Real concurrency on PostgreSQL: buyers racing for the last units, a buyer racing their own
per-buyer limit, one checkout paid from several tabs at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from yaji.catalog.models import Variant
from yaji.ledger.reconciliation import reconciliation_run
from yaji.testing.races import race
from yaji.trade import services
from yaji.trade.models import Checkout, CheckoutStatus, OrderLine
from yaji.trade.tests.factories import address_for, buyer_funded, listed, variant_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# The server allows 100 connections shared with other runs: all threads are released together,
# at most this many hold a connection at once (each closes its own when done).
CONNECTIONS = threading.BoundedSemaphore(30)


def limited(fn):  # type: ignore[no-untyped-def]
    def run(i: int) -> object:
        with CONNECTIONS:
            try:
                return fn(i)
            finally:
                connection.close()

    return run


def books_ok() -> None:
    bad = [(r.name, r.discrepancies, r.error) for r in reconciliation_run() if not r.ok]
    assert not bad, bad


def test_60_buyers_racing_for_the_last_10_units_never_oversell() -> None:
    # given 10 units left and 60 buyers, each with the item in the cart and an address
    product = listed(stock=10)
    variant_id = variant_of(product).pk
    buyers = [buyer_funded() for _ in range(60)]
    addresses = {}
    for buyer in buyers:
        services.cart_line_add(cart=services.cart_get(user=buyer), variant_id=variant_id)
        addresses[buyer.pk] = address_for(buyer).pk

    # when all of them check out and pay at once
    def buy(i: int) -> None:
        buyer = buyers[i]
        checkout = services.checkout_place(buyer=buyer, address_id=addresses[buyer.pk])
        services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)

    outcomes = race(60, limited(buy))

    # then exactly 10 succeed, the rest are told it is sold out, and the numbers add up
    assert outcomes == {"ok": 10, "insufficient_stock": 50}, outcomes
    assert Variant.objects.get(pk=variant_id).stock == 0
    sold = OrderLine.objects.filter(variant_id=variant_id).aggregate(n=Sum("quantity"))["n"]
    assert sold == 10
    assert Checkout.objects.filter(status=CheckoutStatus.PAID).count() == 10
    books_ok()


def test_one_buyer_racing_their_own_limit_gets_only_the_limit() -> None:
    edition = listed(stock=50, kind="limited_edition", edition_size=50, per_buyer_limit=2)
    buyer = buyer_funded()
    address = address_for(buyer).pk
    variant_id = variant_of(edition).pk
    lock = threading.Lock()

    def buy(i: int) -> None:
        with lock:  # each tab puts one unit in the shared cart, then all check out together
            services.cart_line_add(cart=services.cart_get(user=buyer), variant_id=variant_id)
        services.checkout_place(buyer=buyer, address_id=address)

    outcomes = race(12, limited(buy))
    bought = OrderLine.objects.filter(order__buyer=buyer).aggregate(n=Sum("quantity"))["n"]
    assert bought <= 2, outcomes
    assert Variant.objects.get(pk=variant_id).stock == 50 - bought


def test_one_checkout_paid_from_ten_tabs_is_paid_once() -> None:
    buyer = buyer_funded(1_000_000)
    product = listed(stock=5)
    services.cart_line_add(cart=services.cart_get(user=buyer), variant_id=variant_of(product).pk)
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)

    outcomes = race(
        10,
        limited(lambda i: services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)),
    )
    assert outcomes == {"ok": 1, "checkout_not_payable": 9}, outcomes
    books_ok()


def test_a_flash_sale_storm_sells_exactly_the_sale_stock() -> None:
    from datetime import timedelta

    from yaji.core import clock
    from yaji.trade import flash
    from yaji.trade.models import FlashSale

    product = listed(stock=100)
    variant_id = variant_of(product).pk
    sale = flash.flash_sale_create(
        actor=product.shop.owner,
        variant_id=variant_id,
        title="整点秒杀",
        starts_at=clock.now() - timedelta(minutes=1),
        ends_at=clock.now() + timedelta(hours=1),
        price_fen=100,
        stock=5,
        per_user_limit=1,
    )
    buyers = [buyer_funded() for _ in range(60)]
    addresses = {}
    for buyer in buyers:
        services.cart_line_add(cart=services.cart_get(user=buyer), variant_id=variant_id)
        addresses[buyer.pk] = address_for(buyer).pk

    def grab(i: int) -> None:
        services.checkout_place(buyer=buyers[i], address_id=addresses[buyers[i].pk])

    outcomes = race(60, limited(grab))
    assert outcomes == {"ok": 5, "flash_sale_sold_out": 55}, outcomes
    assert FlashSale.objects.get(pk=sale.pk).stock == 0
    assert Variant.objects.get(pk=variant_id).stock == 95
    assert OrderLine.objects.filter(flash_sale=sale).aggregate(n=Sum("quantity"))["n"] == 5


def test_a_buy_now_storm_sells_exactly_the_sale_stock_and_cancelling_returns_it() -> None:
    from datetime import timedelta

    from yaji.core import clock
    from yaji.trade import flash
    from yaji.trade.models import FlashSale

    product = listed(stock=100)
    variant_id = variant_of(product).pk
    sale = flash.flash_sale_create(
        actor=product.shop.owner,
        variant_id=variant_id,
        title="整点秒杀",
        starts_at=clock.now() - timedelta(minutes=1),
        ends_at=clock.now() + timedelta(hours=1),
        price_fen=100,
        stock=8,
        per_user_limit=2,
    )
    buyers = [buyer_funded() for _ in range(55)]
    addresses = {buyer.pk: address_for(buyer).pk for buyer in buyers}
    # buyer 0 races itself five times: its limit of 2 must hold under its own row lock
    racers = [buyers[0]] * 5 + buyers[1:]
    placed: list[str] = []
    lock = threading.Lock()

    def grab(i: int) -> None:
        buyer = racers[i]
        placement = services.flash_sale_buy(
            buyer=buyer, sale_id=sale.pk, quantity=1, address_id=addresses[buyer.pk]
        )
        with lock:
            placed.append(str(placement.checkout.pk))

    outcomes = race(len(racers), limited(grab))
    assert outcomes["ok"] == 8, outcomes
    assert set(outcomes) <= {"ok", "flash_sale_sold_out", "per_buyer_limit_exceeded"}, outcomes
    assert FlashSale.objects.get(pk=sale.pk).stock == 0
    assert Variant.objects.get(pk=variant_id).stock == 92
    lines = OrderLine.objects.filter(flash_sale=sale)
    assert lines.aggregate(n=Sum("quantity"))["n"] == 8
    assert lines.filter(order__buyer=buyers[0]).count() <= 2

    # a cancelled reservation returns exactly its unit, to the sale and to the variant
    victim = Checkout.objects.get(pk=placed[0])
    services.checkout_cancel(buyer=victim.buyer, checkout_id=victim.pk)
    assert FlashSale.objects.get(pk=sale.pk).stock == 1
    assert Variant.objects.get(pk=variant_id).stock == 93
    books_ok()
