"""Paying a checkout through the payments app's checkout intents (ADR 0026).

A buyer pays a pending checkout by the wallet, by a provider (the sandbox's hosted pay page,
WeChat Pay ...) or by both: :func:`checkout_payment_start` asks payments for a checkout intent
whose subject is ``trade.checkout:<id>`` and whose expiry is the checkout's ``pay_by`` (told to
the provider, so nobody can pay later). When the intent succeeds — at once for the wallet, on
the provider's signed notification otherwise — payments calls :func:`checkout_intent_succeeded`
inside the very transaction that records the success, with the money in the intent's escrow:

- the checkout is still pending → the money moves intent escrow → each order's escrow under the
  reference ``checkout:<id>:pay`` (the same reference as a wallet payment, so a checkout can
  never be paid twice whatever the path), edition numbers are issued, the orders are paid;
- it was cancelled (by the buyer or the unpaid timer) or already paid by another intent →
  refused, and payments refunds the intent in full in the same transaction.

The checkout's row lock orders this against the unpaid timer and the buyer's cancel: whichever
comes second sees the other's result. Duplicate and out-of-order notifications stop in payments
(unique event id, conditional status update) before they reach here.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict

from django.db import transaction
from django.urls import reverse

from yaji.accounts.models import User
from yaji.core import clock
from yaji.ledger.services import Posting, ledger_post
from yaji.payments import services as payments_services
from yaji.payments.errors import SubjectNotPayable
from yaji.payments.models import PaymentIntent
from yaji.trade import selectors
from yaji.trade.errors import CheckoutNotPayable
from yaji.trade.models import Checkout, CheckoutStatus, OrderLine
from yaji.trade.services import (
    CURRENCY,
    LEDGER_KIND_PAY,
    _editions_issue,
    _order_paid,
    cny,
    escrow_account_for,
)

logger = logging.getLogger(__name__)

SUBJECT_KIND = "trade.checkout"


def checkout_payment_start(
    *,
    buyer: User,
    checkout_id: object,
    wallet_amount_fen: int = 0,
    provider: str | None = None,
) -> PaymentIntent:
    """Start paying my pending checkout: ``wallet_amount_fen`` from the wallet (held at once),
    the rest through ``provider``. Wallet-only intents pay the checkout before returning.

    Others' checkouts are 404; a paid, cancelled or overdue one is ``checkout_not_payable``;
    ``wallet_part_out_of_range`` / ``insufficient_funds`` / ``unknown_provider`` leave nothing
    written.
    """
    checkout = selectors.checkout_get(buyer=buyer, checkout_id=str(checkout_id))
    if checkout.status != CheckoutStatus.PENDING or checkout.pay_by <= clock.now():
        raise CheckoutNotPayable(extra={"status": checkout.status})
    try:
        return payments_services.checkout_intent_create(
            payer=buyer,
            amount_fen=checkout.total_fen,
            wallet_amount_fen=wallet_amount_fen,
            currency=checkout.currency,
            provider=provider,
            subject=payments_services.intent_subject(kind=SUBJECT_KIND, subject_id=checkout.pk),
            expires_at=checkout.pay_by,
            return_url=reverse("trade:checkout_pay", args=[checkout.pk]) + "?returned=1",
        )
    except SubjectNotPayable as exc:
        # Wallet-only and the checkout closed between our check and the payment.
        raise CheckoutNotPayable(extra={"status": "closed"}) from exc


def checkout_intents(*, checkout: Checkout) -> list[PaymentIntent]:
    return list(
        PaymentIntent.objects.filter(
            subject=payments_services.intent_subject(kind=SUBJECT_KIND, subject_id=checkout.pk)
        ).order_by("-created_at")
    )


def checkout_intent_succeeded(intent: PaymentIntent) -> bool:
    """Payments' subject handler: take a succeeded intent's money for its checkout (see the
    module docstring). Runs inside payments' transaction; True = taken, False = refund it."""
    try:
        checkout_id = uuid.UUID(intent.subject.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return False
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update()
            .filter(pk=checkout_id, buyer_id=intent.payer_id)
            .first()
        )
        if checkout is None or checkout.status != CheckoutStatus.PENDING:
            return False
        if (checkout.total_fen, checkout.currency) != (intent.amount_fen, intent.currency):
            logger.error(
                "checkout intent amount differs from the checkout",
                extra={"intent_id": str(intent.id), "checkout_id": str(checkout.pk)},
            )
            return False
        _checkout_paid_from_intent(checkout, intent)
    return True


def _checkout_paid_from_intent(checkout: Checkout, intent: PaymentIntent) -> None:
    now = clock.now()
    orders = list(checkout.orders.select_related("shop").order_by("id"))
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__checkout=checkout).order_by("id"):
        lines[line.order_id].append(line)
    postings = [Posting(payments_services.intent_escrow_account(intent), -cny(checkout.total_fen))]
    postings += [Posting(escrow_account_for(order), cny(order.total_fen)) for order in orders]
    _editions_issue([line for order in orders for line in lines[order.pk]])
    method = "wallet" if intent.provider_amount_fen == 0 else intent.provider
    ledger_post(
        kind=LEDGER_KIND_PAY,
        postings=postings,
        reference=f"checkout:{checkout.pk}:pay",
        description="订单付款",
        metadata={
            "checkout_id": str(checkout.pk),
            "intent_id": str(intent.id),
            "method": method,
            "wallet_fen": intent.wallet_amount_fen,
            "currency": CURRENCY,
        },
    )
    Checkout.objects.filter(pk=checkout.pk).update(
        status=CheckoutStatus.PAID, paid_at=now, updated_at=now
    )
    for order in orders:
        _order_paid(
            order, kinds={line.kind for line in lines[order.pk]}, now=now, actor=checkout.buyer
        )
