"""The Redis flash-sale gate (ADR 0045): refusals before the database, units given back on a
refusal or a failure, rebuild, Redis down, returns, cart checkouts, resync, reconciliation and
the fast-path handler. Needs REDIS_URL (the database alone is tested by every other flash test).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from yaji.catalog.tests.factories import verified_user
from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.fastpath import FastRequest, fast_routes
from yaji.ledger.reconciliation import reconciliation_run
from yaji.trade import services
from yaji.trade.errors import FlashSaleSoldOut, PerBuyerLimitExceeded
from yaji.trade.fast import ROUTE, flash_sale_orders_fast
from yaji.trade.flash import flash_gate_open, flash_gates_resync
from yaji.trade.gate import FlashGate, flash_gate
from yaji.trade.models import Checkout, FlashSale
from yaji.trade.reconciliation import check_flash_gates
from yaji.trade.tests.factories import address_for, cart_with, listed
from yaji.trade.tests.test_api import signed_in
from yaji.trade.tests.test_flash import sale_on

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
]


class _Progress:
    def start(self, total: int) -> None: ...
    def advance(self, n: int) -> None: ...


def gate_discrepancies() -> list[str]:
    return [f"{d.subject}: {d.expected} != {d.actual}" for d in check_flash_gates(_Progress())]


def opened(stock: int = 2, limit: int = 1, **kw):  # type: ignore[no-untyped-def]
    sale = sale_on(listed(stock=20), stock=stock, limit=limit, **kw)
    flash_gate_open(sale)  # what the sale's commit does
    return sale


def buy(sale: FlashSale, buyer=None, **kw):  # type: ignore[no-untyped-def]
    buyer = buyer or verified_user()
    if "address_id" not in kw:
        kw["address_id"] = address_for(buyer).pk
    return services.flash_sale_buy(buyer=buyer, sale_id=sale.pk, **kw)


def refusal(fn) -> ApplicationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as caught:
        fn()
    return caught.value


def gate() -> FlashGate:
    found = flash_gate()
    assert found is not None
    return found


def test_sold_out_and_over_the_limit_are_answered_without_a_query_with_the_placements_errors() -> (
    None
):
    sale = opened(stock=1, limit=1)
    first = verified_user()
    buy(sale, first)
    late = verified_user()
    late_address = address_for(late).pk

    with CaptureQueriesContext(connection) as queries:
        sold_out = refusal(lambda: buy(sale, late, address_id=late_address))
        again = refusal(lambda: buy(sale, first, address_id=late_address))
    assert len(queries) == 0, queries.captured_queries
    assert isinstance(sold_out, FlashSaleSoldOut)
    assert sold_out.extra == {"flash_sale_id": sale.pk}
    # over the limit is checked first, as the placement checks it before the stock
    assert isinstance(again, PerBuyerLimitExceeded)
    assert again.extra == {"flash_sale_id": sale.pk, "limit": 1, "bought": 1}

    # the database alone gives the same answers
    settings_redis, settings.REDIS_URL = settings.REDIS_URL, None
    try:
        assert refusal(lambda: buy(sale, late, address_id=late_address)).as_body() == (
            sold_out.as_body()
        )
        db_again = refusal(lambda: buy(sale, first))
        assert db_again.as_body() == again.as_body()
    finally:
        settings.REDIS_URL = settings_redis
    assert gate_discrepancies() == []


def test_a_refusal_or_a_failure_of_the_database_gives_the_unit_back() -> None:
    sale = opened(stock=1, limit=1)
    buyer = verified_user()
    # admitted by the gate, refused by the placement (no address): the unit goes back
    assert refusal(lambda: buy(sale, buyer, address_id=None)).code == "address_required"
    assert gate().state(sale.pk).left == 1 and gate().state(sale.pk).pending == {}

    # a failure inside the transaction (the stored response could not be written) too
    def boom(_placement: services.Placement, _as_part: bool) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        buy(sale, buyer, within=boom)
    assert gate().state(sale.pk).left == 1 and not Checkout.objects.exists()
    buy(sale, buyer)
    state = gate().state(sale.pk)
    assert state.left == 0 and state.bought == {buyer.pk: 1} and state.pending == {}
    assert gate_discrepancies() == []


def test_a_gate_too_high_is_corrected_by_the_databases_sold_out() -> None:
    sale = opened(stock=2, limit=1)
    FlashSale.objects.filter(pk=sale.pk).update(stock=0)  # units gone behind the gate's back
    assert gate_discrepancies()  # reconciliation sees it
    buyer = verified_user()
    address_id = address_for(buyer).pk
    assert refusal(lambda: buy(sale, buyer, address_id=address_id)).code == "flash_sale_sold_out"
    assert gate().state(sale.pk).left == 0  # clamped to what the database holds
    with CaptureQueriesContext(connection) as queries:
        assert refusal(lambda: buy(sale, buyer, address_id=address_id)).code == (
            "flash_sale_sold_out"
        )
    assert len(queries) == 0  # now the gate answers
    assert gate_discrepancies() == []


def test_missing_keys_are_rebuilt_from_the_database_and_redis_down_means_database_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sale = sale_on(listed(stock=20), stock=2, limit=1)  # no gate yet (as after a restart)
    first = verified_user()
    buy(sale, first)
    state = gate().state(sale.pk)
    assert state.left == 1 and state.bought == {first.pk: 1}  # rebuilt, then confirmed
    gate().forget(sale.pk)
    assert refusal(lambda: buy(sale, first)).code == "per_buyer_limit_exceeded"
    assert gate().state(sale.pk).bought == {first.pk: 1}  # rebuilt from the live orders

    def down(*_a: object, **_k: object) -> None:
        raise RedisConnectionError("down")

    monkeypatch.setattr(FlashGate, "admit", down)
    monkeypatch.setattr(FlashGate, "peek", down)
    second = verified_user()
    buy(sale, second)  # the database decides alone
    assert refusal(lambda: buy(sale)).code == "flash_sale_sold_out"
    assert FlashSale.objects.get(pk=sale.pk).stock == 0


def test_returns_and_cart_checkouts_reach_the_gate_after_commit(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    sale = opened(stock=2, limit=2)
    buyer = verified_user()
    placement = buy(sale, buyer)
    cart_buyer = verified_user()
    cart_with(cart_buyer, (sale.variant.product, 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.checkout_place(buyer=cart_buyer, address_id=address_for(cart_buyer).pk)
    state = gate().state(sale.pk)
    assert state.left == 0 and state.bought == {buyer.pk: 1, cart_buyer.pk: 1}
    assert refusal(lambda: buy(sale)).code == "flash_sale_sold_out"

    with django_capture_on_commit_callbacks(execute=True):
        services.checkout_cancel(buyer=buyer, checkout_id=placement.checkout.pk)
    state = gate().state(sale.pk)
    assert state.left == 1 and state.bought == {cart_buyer.pk: 1}
    assert gate_discrepancies() == []
    buy(sale)  # the unit given back is on sale again at once


def test_a_lost_give_back_is_seen_by_reconciliation_and_put_right_by_the_resync() -> None:
    sale = opened(stock=1, limit=1)
    buyer = verified_user()
    placement = buy(sale, buyer)
    # cancelled, but the gate never heard (Redis failed just then; on_commit not run here)
    services.checkout_cancel(buyer=buyer, checkout_id=placement.checkout.pk)
    assert FlashSale.objects.get(pk=sale.pk).stock == 1
    assert refusal(lambda: buy(sale)).code == "flash_sale_sold_out"  # the gate is too low
    found = gate_discrepancies()
    assert any("units left" in d for d in found) and any(f"buyer #{buyer.pk}" in d for d in found)
    bad = [r for r in reconciliation_run(names=["trade.flash_gate"]) if not r.ok]
    assert bad and bad[0].discrepancies

    assert flash_gates_resync() == 1
    assert gate_discrepancies() == [] and flash_gates_resync() == 0
    buy(sale, buyer)  # on sale again, and the buyer's limit counts live orders only


def test_resync_leaves_a_gate_alone_while_a_placement_is_in_flight() -> None:
    sale = opened(stock=3, limit=1)
    admitted = gate().admit(sale_id=sale.pk, user_id=10**9, units=1, now=clock.now())
    assert admitted.verdict == "admitted"
    FlashSale.objects.filter(pk=sale.pk).update(stock=1)
    assert flash_gates_resync() == 0 and gate().state(sale.pk).left == 2
    seq = gate().state(sale.pk).seq
    gate().release(sale_id=sale.pk, admission=admitted, user_id=10**9, units=1)
    # changed since it was read: a resync with the old sequence number does nothing
    assert not gate().resync(sale_id=sale.pk, seq=seq, left=1, bought={})
    assert flash_gates_resync() == 1 and gate().state(sale.pk).left == 1


def test_outside_the_window_the_gate_lets_the_database_say_why() -> None:
    now = clock.now()
    later = opened(stock=1, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    assert refusal(lambda: buy(later)).code == "product_unavailable"
    assert gate().state(later.pk).left == 1


# --- the fast path's handler ------------------------------------------------------------------


def test_the_handler_is_registered_with_the_fast_path() -> None:
    assert ("POST", ROUTE) in fast_routes()


def fast(sale_id: int, user_id: int, *, key: str | None = "k-1", body: object = None):  # type: ignore[no-untyped-def]
    headers = {"idempotency-key": key} if key is not None else {}
    raw = json.dumps(body if body is not None else {"address_id": 1}).encode()
    return flash_sale_orders_fast(
        FastRequest(
            "POST",
            f"/api/v1/flash-sales/{sale_id}/orders",
            {"sale_id": str(sale_id)},
            user_id,
            headers,
            raw,
        )
    )


def test_the_fast_handler_answers_exactly_what_the_api_answers_and_reads_only() -> None:
    import re

    assert re.fullmatch(ROUTE, "/api/v1/flash-sales/12/orders")
    sale = opened(stock=2, limit=1)
    buyer, other = verified_user(), verified_user()
    api, other_api = signed_in(buyer), signed_in(other)
    url = f"/flash-sales/{sale.pk}/orders"
    address_id, other_address = address_for(buyer).pk, address_for(other).pk
    key = str(uuid.uuid4())
    assert fast(sale.pk, buyer.pk) is None  # units left: Django places it
    placed = api.post(url, {"address_id": address_id}, headers={"Idempotency-Key": key})
    assert placed.status_code == 201

    # one unit left: the buyer is over the limit, the other buyer goes on to Django
    assert fast(sale.pk, other.pk) is None
    fast_over = fast(sale.pk, buyer.pk, key="k-2")
    api_over = api.post(url, {"address_id": address_id}, headers={"Idempotency-Key": "k-2"})
    assert fast_over is not None and api_over.json()["code"] == "per_buyer_limit_exceeded"
    assert (api_over.status_code, api_over.json()) == (fast_over.status, fast_over.as_body())

    assert (
        other_api.post(
            url, {"address_id": other_address}, headers={"Idempotency-Key": "k-3"}
        ).status_code
        == 201
    )
    late = verified_user()
    before = gate().state(sale.pk)
    with CaptureQueriesContext(connection) as queries:
        sold_out = fast(sale.pk, late.pk, key="k-4")
        over = fast(sale.pk, buyer.pk, key="k-4")
    assert len(queries) == 0 and gate().state(sale.pk) == before  # no SQL, nothing written
    assert sold_out is not None and over is not None
    api_sold_out = signed_in(late).post(
        url, {"address_id": address_for(late).pk}, headers={"Idempotency-Key": "k-4"}
    )
    assert (api_sold_out.status_code, api_sold_out.json()) == (sold_out.status, sold_out.as_body())
    assert over.as_body() == sold_out.as_body()  # sold out first, as the API (before auth)

    # falls through: the key of the placement that succeeded (its 201 is replayed), no key, a
    # malformed key, a payload the API refuses (422, here only for the limit), an unknown sale
    assert fast(sale.pk, buyer.pk, key=key) is None
    assert api.post(url, {"address_id": address_id}, headers={"Idempotency-Key": key}).json() == (
        placed.json()
    )
    assert fast(sale.pk, buyer.pk, key=None) is None
    assert fast(sale.pk, buyer.pk, key=" padded ") is None
    assert fast(10**12, buyer.pk) is None


def test_without_redis_the_fast_handler_always_falls_through() -> None:
    sale = opened(stock=1, limit=1)
    buy(sale)
    assert fast(sale.pk, 1) is not None
    settings_redis, settings.REDIS_URL = settings.REDIS_URL, None
    try:
        assert fast(sale.pk, 1) is None
    finally:
        settings.REDIS_URL = settings_redis
