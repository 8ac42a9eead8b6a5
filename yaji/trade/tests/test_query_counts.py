"""Placing and paying an order stays cheap in SQL (issue #5: ≤ 25 queries per order placement)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yaji.trade import services
from yaji.trade.tests.factories import address_for, buyer_funded, cart_with, listed

pytestmark = pytest.mark.django_db

QUERIES_PER_PLACEMENT_MAX = 25


def test_placing_one_order_takes_a_bounded_number_of_queries() -> None:
    buyer = buyer_funded()
    product = listed(stock=10)
    address = address_for(buyer)
    cart_with(buyer, (product, 1))
    with CaptureQueriesContext(connection) as placed:
        checkout = services.checkout_place(buyer=buyer, address_id=address.pk)
    with CaptureQueriesContext(connection) as paid:
        services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    print(f"queries: place={len(placed)} pay={len(paid)}")
    assert len(placed) <= QUERIES_PER_PLACEMENT_MAX, [q["sql"][:120] for q in placed]
    assert len(paid) <= QUERIES_PER_PLACEMENT_MAX, [q["sql"][:120] for q in paid]


def test_queries_do_not_grow_with_a_second_shop_beyond_a_fixed_step() -> None:
    def place(n_products: int) -> int:
        buyer = buyer_funded()
        cart_with(buyer, *[(listed(stock=5), 1) for _ in range(n_products)])
        address = address_for(buyer)
        with CaptureQueriesContext(connection) as ctx:
            services.checkout_place(buyer=buyer, address_id=address.pk)
        return len(ctx)

    one, two, three = place(1), place(2), place(3)
    assert two - one == three - two  # a fixed cost per extra shop's order, nothing quadratic
