"""The flash-sale sold-out gate in front of ``POST /checkouts`` (ADR 0030): it answers 409 before
the idempotency layer and the placement, reads live stock, and never hides a replay."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yaji.catalog.tests.factories import verified_user
from yaji.core.models import IdempotencyRecord
from yaji.trade import flash, services
from yaji.trade.models import Checkout, FlashSale, Order
from yaji.trade.tests.factories import address_for, cart_with, listed, variant_of
from yaji.trade.tests.test_api import signed_in
from yaji.trade.tests.test_flash import sale_on

pytestmark = pytest.mark.django_db


def ready(product, quantity: int = 1):  # type: ignore[no-untyped-def]
    """A signed-in buyer with ``quantity`` of the product in the cart and an address."""
    buyer = verified_user()
    cart_with(buyer, (product, quantity))
    return buyer, signed_in(buyer), address_for(buyer).pk


def place(api, address_id: int, key: str | None = None):  # type: ignore[no-untyped-def]
    return api.post(
        "/checkouts",
        {"address_id": address_id},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def test_after_the_last_unit_the_gate_refuses_with_one_read_and_claims_no_key() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=1, limit=1)
    _first, first_api, first_address = ready(product)
    assert place(first_api, first_address).status_code == 201
    late, late_api, late_address = ready(product)
    key = str(uuid.uuid4())

    with CaptureQueriesContext(connection) as queries:
        response = place(late_api, late_address, key)

    assert response.status_code == 409
    assert response.json()["code"] == "flash_sale_sold_out"
    assert response.json()["extra"] == {"flash_sale_id": sale.pk}
    # nothing was written: no key claimed, no checkout, the cart is intact, no stock moved
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    assert not Checkout.objects.filter(buyer=late).exists()
    assert late.cart.lines.count() == 1
    assert FlashSale.objects.get(pk=sale.pk).stock == 0 and variant_of(product).stock == 9
    # authentication plus the gate's read: no lock, no insert, no update of stock
    trade_sql = [q["sql"] for q in queries.captured_queries if "trade_" in q["sql"]]
    assert len(trade_sql) == 1 and trade_sql[0].startswith("SELECT"), trade_sql
    assert not any("core_idempotencyrecord" in q["sql"] and "INSERT" in q["sql"] for q in queries)


def test_stock_given_back_by_a_cancelled_reservation_opens_the_gate_again() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=1, limit=1)
    first, first_api, first_address = ready(product)
    checkout_id = place(first_api, first_address).json()["id"]
    _late, late_api, late_address = ready(product)
    key = str(uuid.uuid4())
    assert place(late_api, late_address, key).status_code == 409

    services.checkout_cancel(buyer=first, checkout_id=checkout_id)
    assert FlashSale.objects.get(pk=sale.pk).stock == 1

    # the same key again: the refusal was not stored, so it is judged afresh and succeeds
    again = place(late_api, late_address, key)
    assert again.status_code == 201, again.content
    assert again.json()["orders"][0]["lines"][0]["unit_price_fen"] == sale.price_fen
    assert FlashSale.objects.get(pk=sale.pk).stock == 0 and variant_of(product).stock == 9


def test_a_retry_of_a_placement_that_succeeded_replays_it_even_when_sold_out() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=2, limit=2)
    buyer, api, address = ready(product)
    key = str(uuid.uuid4())
    first = place(api, address, key)
    assert first.status_code == 201
    # the buyer puts it in the cart again and the last unit goes to someone else
    cart_with(buyer, (product, 1))
    _other, other_api, other_address = ready(product)
    assert place(other_api, other_address).status_code == 201
    assert flash.flash_sale_sold_out_in_cart(buyer=buyer) == sale.pk

    retry = place(api, address, key)
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert Order.objects.filter(buyer=buyer).count() == 1


def test_the_gate_leaves_a_missing_or_malformed_key_to_the_idempotency_layer() -> None:
    product = listed(stock=10)
    sale_on(product, stock=1, limit=1)
    _first, first_api, first_address = ready(product)
    assert place(first_api, first_address).status_code == 201
    _late, api, address = ready(product)

    missing = api.post("/checkouts", {"address_id": address})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    malformed = api.post("/checkouts", {"address_id": address}, headers={"Idempotency-Key": " x"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid_idempotency_key"


def test_the_gate_counts_what_the_cart_wants_and_only_the_sale_that_applies() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=2, limit=5)
    buyer, api, address = ready(product, quantity=3)  # wants 3 of the 2 left
    assert flash.flash_sale_sold_out_in_cart(buyer=buyer) == sale.pk
    response = place(api, address)
    assert response.status_code == 409 and response.json()["code"] == "flash_sale_sold_out"
    # a cart without sale items, and a buyer with no cart, pass the gate
    plain = listed(stock=10)
    other, _api, _address = ready(plain)
    assert flash.flash_sale_sold_out_in_cart(buyer=other) is None
    assert flash.flash_sale_sold_out_in_cart(buyer=verified_user()) is None


def test_the_answer_to_a_placement_is_the_checkout_as_read_back() -> None:
    # two shops, so two orders: the placement's answer lists them in the selectors' order
    product, other_shop_product = listed(stock=10), listed(stock=10)
    buyer = verified_user()
    cart_with(buyer, (product, 2), (other_shop_product, 1))
    api = signed_in(buyer)
    placed = place(api, address_for(buyer).pk)
    assert placed.status_code == 201, placed.content
    read_back = api.get(f"/checkouts/{placed.json()['id']}")
    assert read_back.status_code == 200
    assert placed.json() == read_back.json()
    assert len(placed.json()["orders"]) == 2
