"""Real concurrency on PostgreSQL for refunds back to the original methods (ADR 0039): one
refund notification delivered by many threads at once, contradicting notifications racing,
two orders of one mixed-paid checkout refunded by many concurrent requests, and clawbacks
racing for one settled order — money moves exactly once and the books reconcile."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Sum

from yaji.ledger.models import LedgerTransaction
from yaji.payments.models import Refund, RefundStatus, SandboxRefund, ShopClawback
from yaji.payments.shop_finance import shop_clawback_refund
from yaji.payments.tests.factories import relay_all
from yaji.testing.races import race
from yaji.trade import services
from yaji.trade.models import Order, OrderStatus
from yaji.trade.tests.factories import UserFactory
from yaji.trade.tests.test_refund_methods import (  # the autouse sandbox fixture too
    _sandbox,  # noqa: F401
    books_ok,
    clearing_fen,
    deliver,
    in_flight_fen,
    paid_checkout,
    refund_note,
    ship,
    wallet_fen,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 10


def _pending_refund(monkeypatch) -> Refund:  # type: ignore[no-untyped-def]
    """A cancelled provider-paid order whose refund the provider has accepted but not yet
    reported on (its notification is held back so the test delivers its own)."""
    checkout, _intent = paid_checkout(wallet_fen_part=0)
    order = checkout.orders.get()
    from yaji.payments.providers import sandbox

    monkeypatch.setattr(sandbox, "sandbox_notifications_queue", lambda **_kw: None)
    services.order_refund_before_shipment(buyer=checkout.buyer, order_id=order.pk)
    monkeypatch.undo()
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING and refund.provider_reference
    return refund


def test_one_refund_notification_delivered_by_ten_threads_moves_the_money_once(
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    # given a pending refund of a provider-paid order
    refund = _pending_refund(monkeypatch)
    clearing_before = clearing_fen()
    body = refund_note(refund, "succeeded", event_id="revt_race")

    # when ten threads deliver the same signed notification at once
    seen: list[str] = []  # list.append is atomic under the GIL
    race(THREADS, lambda _i: seen.append(deliver(body)))

    # then exactly one applied it
    assert Counter(seen) == Counter({"succeeded": 1, "duplicate": THREADS - 1})
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert clearing_fen() == clearing_before + refund.provider_amount_fen
    assert in_flight_fen() == 0
    books_ok()


def test_racing_success_and_failure_notifications_settle_one_way_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # given a pending refund of a provider-paid order
    refund = _pending_refund(monkeypatch)
    buyer = refund.intent.payer
    clearing_before = clearing_fen()

    # when successes and failures under distinct event ids race
    seen: list[str] = []
    race(
        THREADS,
        lambda i: seen.append(deliver(refund_note(refund, "succeeded" if i % 2 else "failed"))),
    )

    # then the first final one won and the money went one way, once
    refund.refresh_from_db()
    won = "succeeded" if refund.status == RefundStatus.SUCCEEDED else "wallet_fallback"
    assert Counter(seen)[won] == 1 and len(seen) == THREADS
    if won == "succeeded":
        assert clearing_fen() == clearing_before + refund.provider_amount_fen
        assert wallet_fen(buyer) == 0
    else:
        assert clearing_fen() == clearing_before
        assert wallet_fen(buyer) == refund.provider_amount_fen
    assert refund.flag  # the contradicting notifications flagged it for an operator
    assert in_flight_fen() == 0
    books_ok()


def test_two_orders_of_a_mixed_checkout_cancelled_by_many_requests_refund_each_once() -> None:
    # given a two-shop checkout paid ¥100.00 from the wallet and the rest online
    checkout, intent = paid_checkout(wallet_fen_part=10_000, shops=2)
    orders = list(checkout.orders.order_by("id"))
    buyer = checkout.buyer

    # when ten requests (five per order) cancel them at once
    outcomes = race(
        THREADS,
        lambda i: services.order_refund_before_shipment(buyer=buyer, order_id=orders[i % 2].pk),
    )

    # then each order was refunded once, within what each method paid
    assert outcomes == Counter({"ok": 2, "order_state_invalid": THREADS - 2})
    refunds = list(Refund.objects.filter(intent=intent))
    assert sorted(r.order_id for r in refunds) == sorted(o.pk for o in orders)
    assert sum(r.amount_fen for r in refunds) == intent.amount_fen
    assert sum(r.provider_amount_fen for r in refunds) == intent.provider_amount_fen
    assert sum(r.wallet_amount_fen for r in refunds) == 10_000
    assert wallet_fen(buyer) == 10_000  # the wallet part is back at once
    books_ok()  # with the provider parts in flight
    relay_all()
    assert set(Refund.objects.values_list("status", flat=True)) == {RefundStatus.SUCCEEDED}
    assert SandboxRefund.objects.aggregate(t=Sum("amount_fen"))["t"] == intent.provider_amount_fen
    assert {o.status for o in Order.objects.filter(checkout=checkout)} == {OrderStatus.CANCELLED}
    books_ok()


def test_clawbacks_racing_for_one_settled_order_stay_within_its_net() -> None:
    # given a completed order paid ¥30.00 from the wallet and the rest online
    checkout, intent = paid_checkout(wallet_fen_part=3000)
    order = ship(checkout.orders.get())
    services.order_confirm_receipt(buyer=checkout.buyer, order_id=order.pk)
    net = services.shop_payable_account_for(order.shop).balance
    finance = UserFactory()
    each = net // 4 + 1  # only three fit in the net

    # when ten clawbacks race
    outcomes = race(
        THREADS,
        lambda _i: shop_clawback_refund(
            actor=finance, order_id=order.pk, amount_fen=each, reason="补偿"
        ),
    )

    # then three pass, each split back to the methods (provider first), nothing beyond the net
    assert outcomes == Counter({"ok": 3, "clawback_exceeds_settled": THREADS - 3})
    assert ShopClawback.objects.aggregate(t=Sum("amount_fen"))["t"] == 3 * each
    parts = Refund.objects.filter(intent=intent).aggregate(
        p=Sum("provider_amount_fen"), w=Sum("wallet_amount_fen")
    )
    assert parts["p"] == min(3 * each, intent.provider_amount_fen)
    assert parts["p"] + parts["w"] == 3 * each
    assert services.shop_payable_account_for(order.shop).balance == net - 3 * each
    relay_all()
    assert wallet_fen(checkout.buyer) == parts["w"]
    assert LedgerTransaction.objects.filter(kind="shop_clawback").count() == 3
    books_ok()
