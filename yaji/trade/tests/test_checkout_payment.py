"""Checkouts paid through payments' intents: by the sandbox provider's pay page, by wallet +
provider, exactly once under duplicate and out-of-order notifications, and refunded in full
when the money arrives after the checkout closed (ADR 0026)."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta

import pytest
from django.test import Client

from yaji.core import clock
from yaji.ledger.models import LedgerTransaction
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.selectors import account_balance
from yaji.payments.models import IntentStatus, PaymentIntent, Refund, RefundStatus
from yaji.payments.providers.sandbox import sandbox_payer_decide, sandbox_sign
from yaji.payments.services import intent_escrow_account, payment_notification_receive
from yaji.payments.tests.factories import relay_all
from yaji.trade import payment, services
from yaji.trade.models import Checkout, CheckoutStatus, Order, OrderStatus
from yaji.trade.tests.factories import (
    UserFactory,
    address_for,
    buyer_funded,
    cart_with,
    listed,
    shop_open,
)
from yaji.trade.tests.test_api import signed_in, with_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    settings.YAJI_PAYMENT_PROVIDER = "sandbox"


def books_ok() -> None:
    bad = [(r.name, r.discrepancies, r.error) for r in reconciliation_run() if not r.ok]
    assert not bad, bad


def placed(buyer=None, *, shops: int = 1):  # type: ignore[no-untyped-def]
    """A pending checkout of one ¥168.00 item from each of ``shops`` shops (+ shipping)."""
    buyer = buyer or buyer_funded(0)
    cart_with(buyer, *[(listed(shop_open()), 1) for _ in range(shops)])
    return services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)


def wallet_fen(user) -> int:  # type: ignore[no-untyped-def]
    from yaji.ledger.services import wallet_account_for_user

    return account_balance(wallet_account_for_user(user=user, currency="CNY")).amount


def signed_body(intent: PaymentIntent, status: str = "succeeded", event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(8),
            "type": f"payment.{status}",
            "reference": intent.provider_reference,
            "amount_fen": intent.provider_amount_fen,
            "currency": intent.currency,
        }
    ).encode()


def deliver(body: bytes):  # type: ignore[no-untyped-def]
    return payment_notification_receive(provider="sandbox", headers=sandbox_sign(body), body=body)


def escrow_of(order: Order) -> int:
    return account_balance(services.escrow_account_for(order)).amount


def test_pay_a_two_shop_checkout_through_the_sandbox_pay_page_over_the_api() -> None:
    # given a buyer with an empty wallet and a pending checkout over two shops
    buyer = buyer_funded(0)
    checkout = placed(buyer, shops=2)
    api = signed_in(buyer)

    # when they ask to pay it online
    response = with_key(api, f"/checkouts/{checkout.pk}/payments", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["intent"]["amount_fen"] == checkout.total_fen
    assert body["intent"]["wallet_amount_fen"] == 0
    assert body["checkout"]["status"] == "pending"
    pay_path = body["pay_url"].removeprefix("http://testserver")
    assert pay_path.startswith("/pay/sandbox/")

    # and pay on the sandbox's hosted page, which sends them back to the checkout
    payer = Client()
    assert payer.get(pay_path).status_code == 200
    back = payer.post(pay_path, {"action": "pay"})
    assert back.status_code == 302
    assert back["Location"] == f"/checkout/{checkout.pk}/?returned=1"

    # then nothing is paid until the signed notification arrives
    assert api.get(f"/checkouts/{checkout.pk}").json()["status"] == "pending"
    relay_all()

    # and then the checkout and both orders are paid, each order's total in its escrow
    after = api.get(f"/checkouts/{checkout.pk}").json()
    assert after["status"] == "paid"
    orders = list(Order.objects.filter(checkout=checkout))
    assert len(orders) == 2
    assert {o.status for o in orders} == {OrderStatus.PROCESSING}
    assert [escrow_of(o) for o in orders] == [o.total_fen for o in orders]
    intent = PaymentIntent.objects.get(pk=body["intent"]["id"])
    assert intent.status == IntentStatus.SUCCEEDED
    assert account_balance(intent_escrow_account(intent)).amount == 0
    assert LedgerTransaction.objects.filter(reference=f"checkout:{checkout.pk}:pay").count() == 1
    assert wallet_fen(buyer) == 0
    books_ok()


def test_wallet_plus_provider_holds_the_wallet_part_then_pays_on_notification() -> None:
    # given ¥50.00 in the wallet and a checkout of more than that
    buyer = buyer_funded(5000)
    checkout = placed(buyer)
    total = checkout.total_fen

    # when they pay ¥50.00 from the wallet and the rest online
    intent = payment.checkout_payment_start(
        buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=5000
    )

    # then the wallet part is held at once, the checkout still waits for the provider
    assert intent.provider_amount_fen == total - 5000
    assert wallet_fen(buyer) == 0
    assert Checkout.objects.get(pk=checkout.pk).status == CheckoutStatus.PENDING

    # when the provider reports the payment
    sandbox_payer_decide(reference=intent.provider_reference, paid=True)
    relay_all()

    # then the checkout is paid with both parts, once
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PAID
    order = Order.objects.get(checkout=checkout)
    assert escrow_of(order) == total
    books_ok()


def test_duplicate_and_out_of_order_notifications_pay_exactly_once() -> None:
    buyer = buyer_funded(0)
    checkout = placed(buyer)
    intent = payment.checkout_payment_start(buyer=buyer, checkout_id=checkout.pk)
    success = signed_body(intent, event_id="evt_ok")

    # the success twice (same event), then a failure (another event) after it
    assert deliver(success).outcome == "succeeded"
    assert deliver(success).outcome == "duplicate"
    assert deliver(signed_body(intent, "failed")).outcome == "ignored_succeeded"
    # and a second success under another event id
    assert deliver(signed_body(intent)).outcome == "already_succeeded"

    order = Order.objects.get(checkout=checkout)
    assert order.status == OrderStatus.PROCESSING
    assert escrow_of(order) == order.total_fen
    assert LedgerTransaction.objects.filter(reference=f"checkout:{checkout.pk}:pay").count() == 1
    assert not Refund.objects.exists()
    books_ok()


def test_a_failed_provider_payment_returns_the_wallet_part_and_leaves_the_checkout_payable() -> (
    None
):
    buyer = buyer_funded(3000)
    checkout = placed(buyer)
    intent = payment.checkout_payment_start(
        buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=3000
    )
    assert wallet_fen(buyer) == 0

    sandbox_payer_decide(reference=intent.provider_reference, paid=False)
    relay_all()

    intent.refresh_from_db()
    assert intent.status == IntentStatus.FAILED
    assert wallet_fen(buyer) == 3000
    assert Checkout.objects.get(pk=checkout.pk).status == CheckoutStatus.PENDING
    # and the buyer can try again
    again = payment.checkout_payment_start(buyer=buyer, checkout_id=checkout.pk)
    assert again.pk != intent.pk
    books_ok()


def test_a_payment_arriving_after_the_checkout_expired_is_refunded_not_a_paid_cancelled_order(
    django_capture_on_commit_callbacks,
) -> None:
    # given a checkout being paid online with part of the wallet
    buyer = buyer_funded(2000)
    checkout = placed(buyer)
    intent = payment.checkout_payment_start(
        buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=2000
    )
    assert intent.expires_at == checkout.pay_by  # the provider is told the same deadline
    sandbox_payer_decide(reference=intent.provider_reference, paid=True)

    # when the unpaid timer cancels the checkout before the notification is delivered
    assert services.checkouts_expire_due(now=checkout.pay_by + timedelta(seconds=1)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        relay_all()  # the payment notification; the refund is submitted after its commit
    relay_all()  # the refund's notification

    # then the orders stay cancelled, with nothing in escrow
    order = Order.objects.get(checkout=checkout)
    assert order.status == OrderStatus.CANCELLED
    assert escrow_of(order) == 0
    assert Checkout.objects.get(pk=checkout.pk).status == CheckoutStatus.CANCELLED
    # and the whole intent was refunded: the provider part to the card, the wallet part back
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    assert intent.refunded_fen == intent.amount_fen
    refund = Refund.objects.get(intent=intent)
    assert refund.status == RefundStatus.SUCCEEDED
    assert (refund.provider_amount_fen, refund.wallet_amount_fen) == (
        intent.provider_amount_fen,
        2000,
    )
    assert wallet_fen(buyer) == 2000
    assert account_balance(intent_escrow_account(intent)).amount == 0
    books_ok()


def test_a_second_intent_paid_after_the_first_is_refunded() -> None:
    from yaji.payments.housekeeping import payments_housekeeping

    buyer = buyer_funded(0)
    checkout = placed(buyer)
    first = payment.checkout_payment_start(buyer=buyer, checkout_id=checkout.pk)
    second = payment.checkout_payment_start(buyer=buyer, checkout_id=checkout.pk)
    sandbox_payer_decide(reference=first.provider_reference, paid=True)
    sandbox_payer_decide(reference=second.provider_reference, paid=True)
    relay_all()
    # a refund whose after-commit submission was lost is submitted by the housekeeping job
    assert payments_housekeeping()["refunds_submitted"] == 1
    relay_all()

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PAID
    first.refresh_from_db()
    second.refresh_from_db()
    refunded = [i for i in (first, second) if i.refunded_fen]
    assert len(refunded) == 1 and refunded[0].refunded_fen == checkout.total_fen
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    order = Order.objects.get(checkout=checkout)
    assert escrow_of(order) == order.total_fen
    books_ok()


def test_wallet_only_intent_pays_at_once_and_a_paid_checkout_is_not_payable_again() -> None:
    buyer = buyer_funded(1_000_000)
    checkout = placed(buyer)
    intent = payment.checkout_payment_start(
        buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=checkout.total_fen
    )
    assert intent.status == IntentStatus.SUCCEEDED
    assert Checkout.objects.get(pk=checkout.pk).status == CheckoutStatus.PAID
    assert wallet_fen(buyer) == 1_000_000 - checkout.total_fen

    api = signed_in(buyer)
    again = with_key(api, f"/checkouts/{checkout.pk}/payments", {})
    assert again.status_code == 409
    assert again.json()["code"] == "checkout_not_payable"
    wallet_pay = with_key(api, f"/checkouts/{checkout.pk}/pay")
    assert wallet_pay.status_code == 409
    assert PaymentIntent.objects.count() == 1
    books_ok()


def test_bad_input_and_others_checkouts() -> None:
    buyer = buyer_funded(100)
    checkout = placed(buyer)
    api = signed_in(buyer)
    path = f"/checkouts/{checkout.pk}/payments"

    no_key = api.post(path, {})
    assert no_key.status_code == 400
    short = with_key(api, path, {"wallet_amount_fen": 5000})
    assert short.status_code == 409 and short.json()["code"] == "insufficient_funds"
    over = with_key(api, path, {"wallet_amount_fen": checkout.total_fen + 1})
    assert over.status_code == 400 and over.json()["code"] == "wallet_part_out_of_range"
    negative = with_key(api, path, {"wallet_amount_fen": -1})
    assert negative.status_code in (400, 422)
    unknown = with_key(api, path, {"provider": "nosuch"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_provider"
    assert not PaymentIntent.objects.exists()
    assert wallet_fen(buyer) == 100

    stranger = signed_in(UserFactory())
    assert with_key(stranger, path, {}).status_code == 404
    assert with_key(stranger, f"/checkouts/{uuid.uuid4()}/payments", {}).status_code == 404
    assert with_key(stranger, "/checkouts/not-a-uuid/payments", {}).status_code == 404

    # an overdue checkout (the timer has not run yet) is not payable either
    Checkout.objects.filter(pk=checkout.pk).update(pay_by=clock.now() - timedelta(seconds=1))
    late = with_key(api, path, {})
    assert late.status_code == 409 and late.json()["code"] == "checkout_not_payable"


def test_the_site_pays_a_checkout_online_with_the_wallet_first() -> None:
    buyer = buyer_funded(1000)
    checkout = placed(buyer)
    site = Client()
    site.force_login(buyer)
    page = site.get(f"/checkout/{checkout.pk}/")
    assert page.status_code == 200
    assert 'data-testid="pay-online"' in page.content.decode()

    sent = site.post(f"/checkout/{checkout.pk}/", {"action": "online", "use_wallet": "1"})
    assert sent.status_code == 302
    intent = PaymentIntent.objects.get()
    assert sent["Location"] == intent.pay_url
    assert intent.wallet_amount_fen == 1000

    payer = Client()
    back = payer.post(intent.pay_url, {"action": "pay"})
    assert back.status_code == 302
    relay_all()
    returned = site.get(back["Location"])
    assert returned.status_code == 200
    assert Checkout.objects.get(pk=checkout.pk).status == CheckoutStatus.PAID
    assert "pay-intents" in returned.content.decode()


def test_a_wallet_payment_stays_within_its_query_budget() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    buyer = buyer_funded(1_000_000)
    checkout = placed(buyer, shops=2)
    with CaptureQueriesContext(connection) as captured:
        payment.checkout_payment_start(
            buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=checkout.total_fen
        )
    # 55 for one order (measured 2026-12-01, savepoints included); each further order adds
    # its escrow account, balance update, events and outbox row — never per-line queries.
    assert len(captured) <= 75, len(captured)
