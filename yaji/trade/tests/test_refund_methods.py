"""Order refunds go back to the methods that paid (ADR 0039): the provider part through the
sandbox provider's asynchronous refunds (first), the rest to the wallet; before settlement from
the order's escrow, after it from the shop's payable; a failed provider refund falls back to
the wallet; duplicated and out-of-order refund notifications apply once; reconciliation passes
after every step."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from yaji.ledger.selectors import account_balance
from yaji.payments.models import (
    IntentStatus,
    OrderSettlement,
    PaymentIntent,
    Refund,
    RefundStatus,
    SandboxRefund,
    ShopClawback,
)
from yaji.payments.providers import sandbox as sandbox_provider
from yaji.payments.providers.sandbox import sandbox_payer_decide, sandbox_sign
from yaji.payments.refunds import (
    IN_FLIGHT_OWNER_REF,
    refund_notification_receive,
    refunds_submit_pending,
)
from yaji.payments.shop_finance import shop_clawback_refund, shop_statement
from yaji.payments.tests.factories import relay_all
from yaji.trade import aftersales, payment, services
from yaji.trade.models import Checkout, Order, OrderStatus
from yaji.trade.tests.factories import (
    UserFactory,
    address_for,
    buyer_funded,
    cart_with,
    listed,
    shop_open,
)
from yaji.trade.tests.test_checkout_payment import (  # the autouse sandbox fixture too
    _sandbox,  # noqa: F401
    books_ok,
    wallet_fen,
)

pytestmark = pytest.mark.django_db


# --- helpers (also used by the PostgreSQL race tests) -------------------------------------------


def in_flight_fen() -> int:
    account = LedgerAccount.objects.filter(owner_ref=IN_FLIGHT_OWNER_REF).first()
    return account.balance if account else 0


def clearing_fen() -> int:
    account = LedgerAccount.objects.filter(kind=AccountKind.PROVIDER_CLEARING).first()
    return account.balance if account else 0


def paid_checkout(*, wallet_fen_part: int, shops: int = 1) -> tuple[Checkout, PaymentIntent]:
    """A checkout of one ¥168.00 item from each of ``shops`` shops, paid ``wallet_fen_part``
    from the wallet and the rest on the sandbox's pay page (its notification delivered)."""
    buyer = buyer_funded(wallet_fen_part)
    cart_with(buyer, *[(listed(shop_open()), 1) for _ in range(shops)])
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    intent = payment.checkout_payment_start(
        buyer=buyer, checkout_id=checkout.pk, wallet_amount_fen=wallet_fen_part
    )
    assert intent.provider_amount_fen > 0
    sandbox_payer_decide(reference=intent.provider_reference, paid=True)
    relay_all()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    checkout.refresh_from_db()
    return checkout, intent


def ship(order: Order) -> Order:
    return services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS10203040"
    )


def refund_only(order: Order, amount_fen: int | None = None) -> Any:
    request = aftersales.after_sale_request(
        buyer=order.buyer,
        order_id=order.pk,
        kind="refund_only",
        reason="与描述不符",
        amount_fen=amount_fen,
    )
    return aftersales.after_sale_approve(actor=order.shop.owner, after_sale_id=request.pk)


def refund_note(refund: Refund, status: str, event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or "revt_" + secrets.token_hex(8),
            "type": f"refund.{status}",
            "reference": "sbr_manual",
            "out_reference": str(refund.id),
            "amount_fen": refund.provider_amount_fen,
            "currency": refund.currency,
            "failure_reason": "account_abnormal" if status == "failed" else "",
        }
    ).encode()


def deliver(body: bytes) -> str:
    return refund_notification_receive(
        provider="sandbox", headers=sandbox_sign(body), body=body
    ).outcome


# --- the tests ----------------------------------------------------------------------------------


def test_a_mixed_paid_checkout_refunded_partly_then_fully_goes_back_provider_part_first(
    django_capture_on_commit_callbacks,
) -> None:
    # given a two-shop checkout paid ¥100.00 from the wallet and the rest online
    checkout, intent = paid_checkout(wallet_fen_part=10_000, shops=2)
    first, second = list(checkout.orders.order_by("id"))
    buyer = checkout.buyer
    provider_total = intent.provider_amount_fen
    assert provider_total > first.total_fen  # the first order fits in the provider part
    clearing_before = clearing_fen()
    books_ok()

    # when the first order is cancelled before shipment (a part of the checkout)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_refund_before_shipment(buyer=buyer, order_id=first.pk)

    # then it goes back through the provider first, and waits in flight for its notification
    refund = Refund.objects.get(order=first)
    assert (refund.provider_amount_fen, refund.wallet_amount_fen) == (first.total_fen, 0)
    assert refund.status == RefundStatus.PENDING and refund.provider_reference
    assert in_flight_fen() == first.total_fen
    assert wallet_fen(buyer) == 0
    books_ok()
    relay_all()  # the sandbox's signed refund notification
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert in_flight_fen() == 0
    assert clearing_fen() == clearing_before + first.total_fen
    books_ok()

    # when the second order, shipped, is refunded in full through after-sales
    ship(second)
    with django_capture_on_commit_callbacks(execute=True):
        refund_only(second)
    relay_all()

    # then the rest of the provider part goes to the card and the wallet part to the wallet
    late = Refund.objects.get(order=second)
    assert late.provider_amount_fen == provider_total - first.total_fen
    assert late.wallet_amount_fen == 10_000
    assert late.status == RefundStatus.SUCCEEDED and late.wallet_refunded_at
    intent.refresh_from_db()
    assert intent.refunded_fen == intent.amount_fen
    assert wallet_fen(buyer) == 10_000
    assert clearing_fen() == clearing_before + provider_total
    assert SandboxRefund.objects.aggregate(t=Sum("amount_fen"))["t"] == provider_total
    for order in (first, second):
        assert account_balance(services.escrow_account_for(order)).amount == 0
    # and the buyer reads the same over the API; others' orders are not found
    from yaji.trade.tests.test_api import signed_in

    rows = signed_in(buyer).get(f"/orders/{second.pk}/refunds").json()
    assert [(r["provider_fen"], r["wallet_fen"], r["status"]) for r in rows] == [
        (provider_total - first.total_fen, 10_000, "succeeded")
    ]
    assert signed_in(UserFactory()).get(f"/orders/{second.pk}/refunds").status_code == 404
    books_ok()


def test_the_wallet_part_is_refunded_at_once_while_the_provider_part_is_in_flight(
    django_capture_on_commit_callbacks,
) -> None:
    # given one order paid mostly from the wallet
    checkout, intent = paid_checkout(wallet_fen_part=15_000)
    order = checkout.orders.get()
    ship(order)

    # when it is refunded in full (the shop agrees), before the provider answers
    refund_only(order)  # on-commit submission not run: the provider has not been asked yet

    # then the wallet part is back at once, the provider part waits in flight, books agree
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING and refund.provider_reference == ""
    assert wallet_fen(checkout.buyer) == 15_000
    assert in_flight_fen() == intent.provider_amount_fen
    books_ok()

    # when the provider could not be reached, the housekeeping job submits it again
    assert refunds_submit_pending() == 1
    relay_all()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert wallet_fen(checkout.buyer) == 15_000 and in_flight_fen() == 0
    books_ok()


def test_a_failed_provider_refund_falls_back_to_the_wallet_and_loses_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    # given a shipped order paid entirely online
    checkout, intent = paid_checkout(wallet_fen_part=0)
    order = checkout.orders.get()
    ship(order)

    # when ¥10.13 is refunded and the provider fails it (the sandbox fails amounts ending in 13)
    with django_capture_on_commit_callbacks(execute=True):
        refund_only(order, amount_fen=1013)
    relay_all()

    # then the money is in the buyer's wallet, not lost nor back with the shop
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.WALLET_FALLBACK
    assert refund.failure_reason == "account_abnormal"
    assert wallet_fen(checkout.buyer) == 1013
    assert in_flight_fen() == 0
    intent.refresh_from_db()
    assert intent.refunded_fen == 1013  # refunded (to the wallet): not refundable again
    assert LedgerTransaction.objects.filter(reference=f"refund:{refund.id}:fallback").count() == 1
    books_ok()

    # and a success arriving after the failure moves nothing: it is flagged for an operator
    assert deliver(refund_note(refund, "succeeded")) == "late_success"
    refund.refresh_from_db()
    assert refund.flag == "success_after_failure"
    assert wallet_fen(checkout.buyer) == 1013
    books_ok()


def test_duplicate_and_out_of_order_refund_notifications_apply_exactly_once(
    django_capture_on_commit_callbacks,
) -> None:
    # given a cancelled, provider-paid order whose refund is pending at the provider
    checkout, _intent = paid_checkout(wallet_fen_part=0)
    order = checkout.orders.get()
    services.order_refund_before_shipment(buyer=checkout.buyer, order_id=order.pk)
    refund = Refund.objects.get(order=order)
    clearing_before = clearing_fen()

    # when a success arrives twice under one event id, again under another, then a failure
    body = refund_note(refund, "succeeded", event_id="revt_once")
    assert deliver(body) == "succeeded"
    assert deliver(body) == "duplicate"
    assert deliver(refund_note(refund, "succeeded")) == "already_succeeded"
    assert deliver(refund_note(refund, "failed")) == "ignored_succeeded"

    # then the money moved once, to the provider, and the contradiction is flagged
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.flag == "failure_after_success"
    assert clearing_fen() == clearing_before + order.total_fen
    assert wallet_fen(checkout.buyer) == 0 and in_flight_fen() == 0
    assert not LedgerTransaction.objects.filter(reference__startswith=f"refund:{refund.id}:f")
    books_ok()

    # and the provider's own (late) notification changes nothing either
    with django_capture_on_commit_callbacks(execute=True):
        from yaji.payments.refunds import refund_submit

        refund_submit(refund=refund)
    relay_all()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert clearing_fen() == clearing_before + order.total_fen
    books_ok()


def test_a_refund_after_settlement_is_clawed_back_from_the_payable_to_the_methods(
    django_capture_on_commit_callbacks,
) -> None:
    # given a completed order paid ¥50.00 from the wallet and the rest online
    checkout, intent = paid_checkout(wallet_fen_part=5000)
    order = checkout.orders.get()
    ship(order)
    services.order_confirm_receipt(buyer=checkout.buyer, order_id=order.pk)
    settlement = OrderSettlement.objects.get(order=order)
    assert settlement.intent_id == intent.id
    payable = services.shop_payable_account_for(order.shop)
    net = account_balance(payable).amount
    assert net == settlement.net_fen
    finance = UserFactory()
    provider_total = intent.provider_amount_fen
    first_fen = provider_total - 1000  # leaves ¥10.00 of the provider part
    assert first_fen + 3000 <= net

    # when finance claws back most of the provider part, then a bit more
    with django_capture_on_commit_callbacks(execute=True):
        first = shop_clawback_refund(
            actor=finance, order_id=order.pk, amount_fen=first_fen, reason="瑕疵补偿"
        )
    relay_all()
    with django_capture_on_commit_callbacks(execute=True):
        second = shop_clawback_refund(
            actor=finance, order_id=order.pk, amount_fen=3000, reason="再补偿"
        )
    relay_all()

    # then both came from the payable, split provider first, then the wallet
    assert first.refund and second.refund
    first.refund.refresh_from_db()
    second.refund.refresh_from_db()
    assert (first.refund.provider_amount_fen, first.refund.wallet_amount_fen) == (first_fen, 0)
    assert (second.refund.provider_amount_fen, second.refund.wallet_amount_fen) == (1000, 2000)
    assert {first.refund.status, second.refund.status} == {RefundStatus.SUCCEEDED}
    assert account_balance(payable).amount == net - first_fen - 3000
    assert wallet_fen(checkout.buyer) == 2000
    assert SandboxRefund.objects.aggregate(t=Sum("amount_fen"))["t"] == provider_total
    statement = shop_statement(
        shop_id=order.shop_id,
        start=settlement.settled_at,
        end=clock.now() + timedelta(seconds=1),
    )
    assert statement.clawback_fen == first_fen + 3000 and statement.balanced
    books_ok()


def test_bad_refund_amounts_are_refused_with_nothing_moved() -> None:
    # given a shipped order paid online and a completed one
    checkout, _intent = paid_checkout(wallet_fen_part=2000)
    order = checkout.orders.get()
    ship(order)
    done, _ = paid_checkout(wallet_fen_part=0)
    settled = done.orders.get()
    ship(settled)
    services.order_confirm_receipt(buyer=done.buyer, order_id=settled.pk)
    transactions = LedgerTransaction.objects.count()
    balances = dict(LedgerAccount.objects.values_list("pk", "balance"))

    # when a refund asks for more than was paid, nothing, or less than nothing
    for amount in (order.total_fen + 1, 0, -100):
        with pytest.raises(ApplicationError) as exc:
            aftersales.after_sale_request(
                buyer=order.buyer,
                order_id=order.pk,
                kind="refund_only",
                reason="x",
                amount_fen=amount,
            )
        assert exc.value.status < 500 and exc.value.code == "invalid_after_sale"
    net = OrderSettlement.objects.get(order=settled).net_fen
    for amount, code in (
        (net + 1, "clawback_exceeds_settled"),
        (0, "invalid_amount"),
        (-1, "invalid_amount"),
    ):
        with pytest.raises(ApplicationError) as exc:
            shop_clawback_refund(
                actor=UserFactory(), order_id=settled.pk, amount_fen=amount, reason="x"
            )
        assert exc.value.code == code and 400 <= exc.value.status < 500

    # then nothing was written
    assert Refund.objects.count() == 0 and ShopClawback.objects.count() == 0
    assert LedgerTransaction.objects.count() == transactions
    assert dict(LedgerAccount.objects.values_list("pk", "balance")) == balances
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    books_ok()


def test_bad_after_sale_amounts_over_the_api_are_4xx() -> None:
    from yaji.trade.tests.test_api import signed_in, with_key

    checkout, _intent = paid_checkout(wallet_fen_part=0)
    order = ship(checkout.orders.get())
    api = signed_in(checkout.buyer)
    for amount in (order.total_fen + 1, 0, -5):
        response = with_key(
            api,
            f"/orders/{order.pk}/after-sales",
            {"kind": "refund_only", "reason": "x", "amount_fen": amount},
        )
        assert 400 <= response.status_code < 500, response.content
        assert response.json()["code"] in {"invalid_after_sale", "validation_error"}
    assert Refund.objects.count() == 0
    books_ok()


def test_an_order_paid_straight_from_the_wallet_is_refunded_to_the_wallet() -> None:
    buyer = buyer_funded(100_000)
    cart_with(buyer, (listed(), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    services.order_refund_before_shipment(buyer=buyer, order_id=order.pk)
    assert wallet_fen(buyer) == 100_000
    assert Refund.objects.count() == 0  # no intent: the wallet was the only method
    assert LedgerTransaction.objects.filter(reference=f"order:{order.pk}:refund").count() == 1
    books_ok()


def test_a_refund_the_provider_refuses_on_submission_falls_back_to_the_wallet(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from yaji.payments.errors import ProviderRefundRefused

    checkout, _intent = paid_checkout(wallet_fen_part=0)
    order = checkout.orders.get()

    def refuse(self, request):  # type: ignore[no-untyped-def]
        raise ProviderRefundRefused(extra={"reason": "refund_window_closed"})

    monkeypatch.setattr(sandbox_provider.SandboxProvider, "create_refund", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_refund_before_shipment(buyer=checkout.buyer, order_id=order.pk)
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.WALLET_FALLBACK
    assert refund.failure_reason == "refused_by_provider"
    assert wallet_fen(checkout.buyer) == order.total_fen
    books_ok()


def test_pages_show_the_refund_destination_and_refunds_in_flight(
    django_capture_on_commit_callbacks,
) -> None:
    from django.test import Client

    from yaji.accounts.models import Role
    from yaji.accounts.services import role_grant

    def client_for(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    # given a shipped order paid ¥20.00 from the wallet and the rest online, refunded in full
    # while the provider part is still in flight (the provider not asked yet)
    checkout, _intent = paid_checkout(wallet_fen_part=2000)
    order = ship(checkout.orders.get())
    refund_only(order)
    buyer = client_for(checkout.buyer)

    # then the order page says it goes back to the original methods, with the provider's status
    html = buyer.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-refunds"' in html
    assert "退回原支付方式" in html
    assert 'data-testid="refund-wallet-part"' in html and "¥20.00" in html
    assert 'data-testid="refund-provider-part"' in html and "退款中" in html
    # and the wallet page too (the refunds table and the history line)
    wallet_html = buyer.get("/wallet/").content.decode()
    assert 'data-testid="refund-destination"' in wallet_html
    assert "订单退款 · 退回原支付方式" in wallet_html

    # and the shop's and the operators' finance pages list it in flight
    shop_html = client_for(order.shop.owner).get(f"/shops/{order.shop.slug}/finance/")
    assert 'data-testid="shop-refunds-in-flight"' in shop_html.content.decode()
    root = UserFactory(is_superuser=True, is_staff=True)
    operator = UserFactory()
    role_grant(actor=root, user=operator, role=Role.OPERATOR)
    finance_html = client_for(operator).get("/finance/").content.decode()
    assert 'data-testid="refunds-in-flight"' in finance_html
    assert "待重试" in finance_html  # never accepted by the provider yet

    # when the provider confirms it, the pages say so and nothing is in flight any more
    refunds_submit_pending()
    relay_all()
    html = buyer.get(f"/orders/{order.number}/").content.decode()
    assert "退款成功" in html
    finance_html = client_for(operator).get("/finance/").content.decode()
    assert 'data-testid="refunds-in-flight-empty"' in finance_html
    english = client_for(checkout.buyer)
    english.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert (
        "refunded to original payment method"
        in english.get(f"/orders/{order.number}/").content.decode()
    )
    books_ok()


def test_reconciliation_catches_a_refund_whose_methods_disagree_with_the_books(
    django_capture_on_commit_callbacks,
) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from yaji.ledger.reconciliation import NullProgress
    from yaji.payments.refunds import check_refunds_in_flight, check_refunds_posted

    # given a mixed refund whose wallet part is paid and provider part in flight
    checkout, _intent = paid_checkout(wallet_fen_part=3000)
    order = ship(checkout.orders.get())
    refund_only(order)
    refund = Refund.objects.get(order=order)
    assert check_refunds_posted(NullProgress()) == []
    assert check_refunds_in_flight(NullProgress()) == []

    # when the record claims more went to the provider and less to the wallet than was posted
    Refund.objects.filter(pk=refund.pk).update(
        wallet_amount_fen=refund.wallet_amount_fen - 100,
        provider_amount_fen=refund.provider_amount_fen + 100,
    )

    # then both checks name it and `yaji reconcile` fails
    posted = " ".join(d.subject for d in check_refunds_posted(NullProgress()))
    assert f"refund {refund.id} (pending) to user_wallet" in posted
    assert [d.subject for d in check_refunds_in_flight(NullProgress())] == ["refunds in flight CNY"]
    with pytest.raises(CommandError):
        call_command("reconcile", stdout=StringIO(), stderr=StringIO())
