"""Buy now on a flash sale (``POST /flash-sales/{id}/orders``, ADR 0040): one order without the
cart, the sold-out answer before authentication, replays kept, limits and stock exact — on the
database alone and through the Redis gate (ADR 0045), which must not change any answer."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.catalog.tests.factories import verified_user
from yaji.core.models import IdempotencyRecord
from yaji.trade import services
from yaji.trade.flash import flash_gate_open
from yaji.trade.models import Checkout, FlashSale, Order, OrderLine
from yaji.trade.tests.factories import address_for, listed, variant_of
from yaji.trade.tests.test_api import signed_in
from yaji.trade.tests.test_flash import sale_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["database-alone", "redis-gate"])
def gate_mode(request: pytest.FixtureRequest, settings) -> str:  # type: ignore[no-untyped-def]
    if request.param == "redis-gate":
        if not settings.REDIS_URL:
            pytest.skip("needs REDIS_URL")
    else:
        settings.REDIS_URL = None
    return str(request.param)


def buy(api, sale_id: int, address_id: int | None, key: str | None = None, **body):  # type: ignore[no-untyped-def]
    return api.post(
        f"/flash-sales/{sale_id}/orders",
        {"address_id": address_id, **body},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def buyer_ready():  # type: ignore[no-untyped-def]
    buyer = verified_user()
    return buyer, signed_in(buyer), address_for(buyer).pk


def test_buy_now_places_one_order_at_the_sale_price_and_takes_both_stocks() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=3, limit=2, price=9900)
    buyer, api, address_id = buyer_ready()
    services.cart_line_add(cart=services.cart_get(user=buyer), variant_id=variant_of(product).pk)

    response = buy(api, sale.pk, address_id, quantity=2)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total_fen"] == 2 * 9900 + 1000  # sale price + the default template's first kg
    order = Order.objects.get(buyer=buyer)
    line = order.lines.get()
    assert (line.flash_sale_id, line.quantity, line.unit_price_fen) == (sale.pk, 2, 9900)
    assert order.address["city"] == "苏州市" and order.events.count() == 1
    assert FlashSale.objects.get(pk=sale.pk).stock == 1 and variant_of(product).stock == 8
    assert buyer.cart.lines.count() == 1  # the cart is not touched by buy-now
    assert api.get(f"/checkouts/{body['id']}").json() == body  # the 201 is what was written


def test_the_per_buyer_limit_and_the_address_are_checked_and_nothing_is_written() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=5, limit=1)
    _buyer, api, address_id = buyer_ready()
    assert buy(api, sale.pk, address_id).status_code == 201
    again = buy(api, sale.pk, address_id)
    assert again.status_code == 409 and again.json()["code"] == "per_buyer_limit_exceeded"
    other = address_for(verified_user()).pk
    _b2, api2, _a2 = buyer_ready()
    someone_elses = buy(api2, sale.pk, other)
    assert someone_elses.status_code == 400 and someone_elses.json()["code"] == "address_required"
    too_many = buy(api2, sale.pk, _a2, quantity=2)
    assert too_many.status_code == 409 and too_many.json()["code"] == "per_buyer_limit_exceeded"
    assert buy(api2, 10**12, _a2).json()["code"] == "product_unavailable"
    assert Checkout.objects.count() == 1 and FlashSale.objects.get(pk=sale.pk).stock == 4


def test_sold_out_is_answered_before_authentication_with_one_read_and_no_write(
    gate_mode: str,
) -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=1, limit=1)
    _first, api, address_id = buyer_ready()
    assert buy(api, sale.pk, address_id).status_code == 201
    anonymous = Client()
    key = str(uuid.uuid4())

    with CaptureQueriesContext(connection) as queries:
        response = anonymous.post(
            f"/api/v1/flash-sales/{sale.pk}/orders",
            {"address_id": 1},
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "flash_sale_sold_out"
    assert response.json()["extra"] == {"flash_sale_id": sale.pk}
    if gate_mode == "redis-gate":  # the gate's read-only script answers: no query at all
        assert len(queries) == 0, queries.captured_queries
    else:
        assert len(queries) == 1 and queries[0]["sql"].startswith("SELECT"), (
            queries.captured_queries
        )
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    # while units are left an anonymous caller is asked to sign in, as everywhere
    open_sale = sale_on(listed(stock=5), stock=2)
    asked = anonymous.post(
        f"/api/v1/flash-sales/{open_sale.pk}/orders",
        {"address_id": 1},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert asked.status_code == 401 and Checkout.objects.count() == 1


def test_a_retry_of_a_placement_that_succeeded_is_replayed_after_the_sale_sold_out() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=1, limit=1)
    _buyer, api, address_id = buyer_ready()
    key = str(uuid.uuid4())
    first = buy(api, sale.pk, address_id, key)
    assert first.status_code == 201 and FlashSale.objects.get(pk=sale.pk).stock == 0
    retry = buy(api, sale.pk, address_id, key)
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Checkout.objects.count() == 1
    reused = buy(api, sale.pk, address_id, key, quantity=1, note="another body")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


def test_a_cancelled_reservation_gives_its_unit_back_and_the_gate_opens_at_once(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=1, limit=1)
    first, api, address_id = buyer_ready()
    placed = buy(api, sale.pk, address_id)
    _late, late_api, late_address = buyer_ready()
    assert buy(late_api, sale.pk, late_address).json()["code"] == "flash_sale_sold_out"

    with django_capture_on_commit_callbacks(execute=True):  # the gate hears it after commit
        services.checkout_cancel(buyer=first, checkout_id=placed.json()["id"])

    assert FlashSale.objects.get(pk=sale.pk).stock == 1 and variant_of(product).stock == 10
    assert buy(late_api, sale.pk, late_address).status_code == 201
    assert OrderLine.objects.filter(flash_sale=sale, order__status="pending_payment").count() == 1


def test_a_malformed_or_missing_key_is_the_idempotency_layers_400_even_when_sold_out() -> None:
    product = listed(stock=10)
    sale = sale_on(product, stock=1, limit=1)
    _b, api, address_id = buyer_ready()
    assert buy(api, sale.pk, address_id).status_code == 201
    missing = api.post(f"/flash-sales/{sale.pk}/orders", {"address_id": address_id})
    assert missing.status_code == 400


def test_a_placement_is_at_most_ten_statements_and_four_on_postgresql() -> None:
    """The sale with its shop's shipping template in one read, the address with the buyer's
    lock in one, both counts in the next (after the lock: ADR 0045); then on PostgreSQL one
    statement writes it all (ADR 0050), on SQLite five inserts and two decrements."""
    product = listed(stock=10)
    sale = sale_on(product, stock=5, limit=1)
    buyer = verified_user()
    address_id = address_for(buyer).pk
    flash_gate_open(sale)  # what the sale's commit does (a test's transaction never commits)
    with CaptureQueriesContext(connection) as queries:
        services.flash_sale_buy(buyer=buyer, sale_id=sale.pk, address_id=address_id)
    sql = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(sql) <= 10, [q[:80] for q in sql]
    if connection.vendor == "postgresql":
        assert len([q for q in sql if q not in ("BEGIN", "COMMIT")]) == 4, sql
    if connection.vendor == "postgresql":  # the buyer's row lock is taken through the address
        assert any("trade_address" in q and "FOR UPDATE OF" in q for q in sql), sql
    assert FlashSale.objects.get(pk=sale.pk).stock == 4
