"""Real concurrency on PostgreSQL for checkouts paid through payment intents: the provider's
notification racing the unpaid timer, one notification delivered many times at once, two
intents of one checkout succeeding together. Exactly one outcome each, books reconciled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yaji.payments.models import IntentStatus, PaymentIntent, Refund, RefundStatus
from yaji.payments.providers.sandbox import sandbox_payer_decide
from yaji.payments.tests.factories import relay_all
from yaji.testing.races import race
from yaji.trade import payment, services
from yaji.trade.models import Checkout, CheckoutStatus, Order, OrderStatus
from yaji.trade.tests.factories import buyer_funded
from yaji.trade.tests.test_checkout_payment import (
    books_ok,
    deliver,
    escrow_of,
    placed,
    signed_body,
    wallet_fen,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    settings.YAJI_PAYMENT_PROVIDER = "sandbox"


def test_notifications_racing_the_unpaid_timer_end_paid_or_refunded_never_both() -> None:
    # given 8 checkouts being paid (wallet part + provider part), the payer has paid each
    pairs = []
    for _ in range(8):
        buyer = buyer_funded(1000)
        checkout = placed(buyer)
        intent = payment.checkout_payment_start(
            buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=1000
        )
        sandbox_payer_decide(reference=intent.provider_reference, paid=True)
        pairs.append((buyer, checkout, intent, signed_body(intent)))
    late = max(c.pay_by for _b, c, _i, _s in pairs) + timedelta(seconds=1)

    # when every notification races the unpaid timer (which sees every checkout as overdue)
    def work(i: int) -> None:
        body = pairs[i // 2][3]
        if i % 2:
            services.checkouts_expire_due(now=late)
        else:
            deliver(body)

    outcomes = race(16, work)
    assert outcomes["ok"] == 16, outcomes
    relay_all()  # the queued copies (already succeeded) and the refunds' notifications

    # then each checkout is either paid with its money in escrow, or cancelled and refunded
    paid = refunded = 0
    for buyer, checkout, intent, _body in pairs:
        checkout.refresh_from_db()
        intent.refresh_from_db()
        assert intent.status == IntentStatus.SUCCEEDED
        order = Order.objects.get(checkout=checkout)
        if checkout.status == CheckoutStatus.PAID:
            paid += 1
            assert order.status == OrderStatus.PROCESSING
            assert escrow_of(order) == order.total_fen
            assert intent.refunded_fen == 0 and not Refund.objects.filter(intent=intent).exists()
            assert wallet_fen(buyer) == 0
        else:
            refunded += 1
            assert checkout.status == CheckoutStatus.CANCELLED
            assert order.status == OrderStatus.CANCELLED and escrow_of(order) == 0
            assert intent.refunded_fen == intent.amount_fen
            assert Refund.objects.get(intent=intent).status == RefundStatus.SUCCEEDED
            assert wallet_fen(buyer) == 1000
    assert paid + refunded == 8
    books_ok()


def test_one_notification_delivered_by_ten_threads_pays_once() -> None:
    buyer = buyer_funded(0)
    checkout = placed(buyer, shops=2)
    intent = payment.checkout_payment_start(buyer=buyer, checkout_id=checkout.pk)
    body = signed_body(intent, event_id="evt_same")
    results: list[str] = []

    outcomes = race(10, lambda i: results.append(deliver(body).outcome))

    assert outcomes["ok"] == 10, outcomes
    assert sorted(results).count("succeeded") == 1
    assert results.count("duplicate") == 9
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PAID
    assert all(escrow_of(o) == o.total_fen for o in Order.objects.filter(checkout=checkout))
    books_ok()


def test_two_intents_of_one_checkout_succeeding_together_pay_once_and_refund_the_other() -> None:
    buyer = buyer_funded(0)
    checkout = placed(buyer)
    intents = [payment.checkout_payment_start(buyer=buyer, checkout_id=checkout.pk) for _ in "ab"]
    for intent in intents:
        sandbox_payer_decide(reference=intent.provider_reference, paid=True)
    bodies = [signed_body(intent) for intent in intents]

    outcomes = race(2, lambda i: deliver(bodies[i]))
    assert outcomes["ok"] == 2, outcomes
    relay_all()

    checkout = Checkout.objects.get(pk=checkout.pk)
    assert checkout.status == CheckoutStatus.PAID
    refunded = [i for i in PaymentIntent.objects.filter(pk__in=[x.pk for x in intents])]
    assert sorted(i.refunded_fen for i in refunded) == [0, checkout.total_fen]
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    order = Order.objects.get(checkout=checkout)
    assert escrow_of(order) == order.total_fen
    books_ok()
