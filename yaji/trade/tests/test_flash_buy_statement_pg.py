"""The buy-now's one write statement on PostgreSQL (ADR 0050), raced through the HTTP API: the
stock chain (sale, then variant) and the rows and the idempotent answer commit together or not
at all — never oversold, limits hold, a key used by many requests at once places one order."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from yaji.catalog.models import Variant
from yaji.catalog.tests.factories import verified_user
from yaji.core.models import IdempotencyRecord, OutboxEvent
from yaji.testing.races import race
from yaji.trade import services
from yaji.trade.errors import InsufficientStock
from yaji.trade.models import Checkout, FlashSale, Order, OrderEvent, OrderLine
from yaji.trade.tests.factories import address_for, flash_sale_open
from yaji.trade.tests.test_api import signed_in

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_fifty_buyers_over_http_on_the_last_5_units_and_one_buyer_racing_its_limit() -> None:
    sale = flash_sale_open(units=5, limit=2)
    buyers = [verified_user() for _ in range(50)]
    ready = {b.pk: (signed_in(b), address_for(b).pk) for b in buyers}
    racers = [buyers[0]] * 6 + buyers[1:]  # 55 requests; buyer 0 races its own limit of 2
    statuses: Counter[tuple[int, str]] = Counter()
    lock = threading.Lock()

    def grab(i: int) -> None:
        api, address_id = ready[racers[i].pk]
        response = api.post(
            f"/flash-sales/{sale.pk}/orders",
            {"address_id": address_id},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        code = response.json().get("code", "") if response.status_code != 201 else ""
        with lock:
            statuses[(response.status_code, code)] += 1

    outcomes = race(len(racers), grab)
    assert outcomes == {"ok": 55}, (outcomes, getattr(race, "last_unexpected", None))
    assert statuses[(201, "")] == 5, statuses
    assert set(statuses) <= {
        (201, ""),
        (409, "flash_sale_sold_out"),
        (409, "per_buyer_limit_exceeded"),
    }, statuses
    assert FlashSale.objects.get(pk=sale.pk).stock == 0
    assert Variant.objects.get(pk=sale.variant_id).stock == 95
    lines = OrderLine.objects.filter(flash_sale=sale)
    assert lines.aggregate(n=Sum("quantity"))["n"] == 5
    per_buyer = Counter(lines.values_list("order__buyer_id", flat=True))
    assert max(per_buyer.values()) <= 2
    # every placement wrote its whole set of rows, a refusal none
    orders = Order.objects.filter(lines__flash_sale=sale)
    assert Checkout.objects.filter(orders__in=orders).count() == 5
    assert OrderEvent.objects.filter(order__in=orders).count() == 5
    assert IdempotencyRecord.objects.filter(response_status=201).count() == 5
    assert OutboxEvent.objects.filter(topic=services.TOPIC_CHECKOUT_PLACED).count() == 5


def test_one_key_sent_by_twenty_requests_at_once_places_one_order() -> None:
    sale = flash_sale_open(units=10, limit=5)
    buyer = verified_user()
    address_id = address_for(buyer).pk
    key = str(uuid.uuid4())
    apis = [signed_in(buyer) for _ in range(20)]
    bodies: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        response = apis[i].post(
            f"/flash-sales/{sale.pk}/orders",
            {"address_id": address_id},
            headers={"Idempotency-Key": key},
        )
        with lock:
            bodies.append((response.status_code, response.content))

    outcomes = race(len(apis), send)
    assert outcomes == {"ok": 20}, (outcomes, getattr(race, "last_unexpected", None))
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert FlashSale.objects.get(pk=sale.pk).stock == 9
    placed = {content for status, content in bodies if status == 201}
    assert len(placed) == 1  # every 201 is the one placement's answer (replayed)
    assert {status for status, _ in bodies} <= {201, 409}
    for status, content in bodies:
        if status == 409:
            assert b"idempotency" in content, content


def test_the_variant_running_out_before_the_sale_refuses_and_writes_nothing() -> None:
    sale = flash_sale_open(units=5, limit=5, stock=5)
    Variant.objects.filter(pk=sale.variant_id).update(stock=0)  # sold elsewhere meanwhile
    buyer = verified_user()
    with pytest.raises(InsufficientStock):
        services.flash_sale_buy(buyer=buyer, sale_id=sale.pk, address_id=address_for(buyer).pk)
    assert FlashSale.objects.get(pk=sale.pk).stock == 5
    assert not Checkout.objects.exists() and not OrderLine.objects.exists()
    assert not OutboxEvent.objects.filter(topic=services.TOPIC_CHECKOUT_PLACED).exists()


def test_a_buy_now_is_four_statements_and_one_of_them_writes() -> None:
    sale = flash_sale_open(units=5, limit=1)
    buyer = verified_user()
    address_id = address_for(buyer).pk
    with CaptureQueriesContext(connection) as queries:
        services.flash_sale_buy(buyer=buyer, sale_id=sale.pk, address_id=address_id)
    sql = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(sql) == 4, [q[:80] for q in sql]
    writes = [q for q in sql if q.startswith("WITH")]
    assert len(writes) == 1 and 'UPDATE "trade_flashsale"' in writes[0]
    line = OrderLine.objects.select_related("order__checkout").get(flash_sale=sale)
    assert line.order.checkout.placement_key == "" and line.order.total_fen == 100 + 1000
    assert line.order.address["city"]  # the address snapshot as the ORM path writes it
