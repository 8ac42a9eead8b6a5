"""Order refunds back to the methods that paid them (ADR 0039).

Every refund of an order — cancelled before shipment, an after-sale refund (refund only, return
and refund, a dispute decided for the buyer) — comes out of the order's escrow and goes back the
way the checkout was paid: a checkout paid through a payment intent (wallet, provider or both,
ADR 0026) is refunded through payments' :func:`yaji.payments.refunds.refund_to_methods` (provider
part first through the provider, the rest to the wallet; a failed provider part falls back to
the wallet); a checkout paid straight from the wallet is refunded to the wallet. After
settlement the shop's payable pays instead (:func:`yaji.payments.shop_finance.shop_clawback_refund`,
which finds the intent on the order's settlement record).

Which intent paid is read from the checkout's payment transaction ``checkout:<id>:pay`` (its
metadata names the intent; the reference is unique, so exactly one way paid it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from yaji.core.money import Money
from yaji.ledger.models import LedgerAccount
from yaji.ledger.selectors import transaction_get
from yaji.ledger.services import Posting, ledger_post, wallet_account_for_user
from yaji.payments.models import Refund
from yaji.payments.refunds import refund_to_methods
from yaji.payments.selectors import (
    RefundDestination,
    refund_destination,
    refunds_for_order,
    wallet_refund_destination,
)
from yaji.trade.models import AfterSaleStatus, Order, OrderStatus


def order_paying_intent_id(order: Order) -> str | None:
    """The payment intent that paid the order's checkout; None when the wallet paid it directly
    (or it is not paid)."""
    paid = transaction_get(reference=f"checkout:{order.checkout_id}:pay")
    if paid is None:
        return None
    intent_id = (paid.metadata or {}).get("intent_id")
    return str(intent_id) if intent_id else None


def order_refund_to_methods(
    order: Order,
    *,
    amount_fen: int,
    source: LedgerAccount,
    request_key: str,
    reference: str,
    kind: str,
    description: str,
    reason: str = "",
    also: Sequence[Posting] = (),
    metadata: Mapping[str, object] | None = None,
) -> Refund | None:
    """Refund ``amount_fen`` of the (locked) order from ``source`` to the methods that paid it,
    in the caller's transaction; ``also`` are further credits ``source`` pays in the same
    ledger transaction (the settlement of what an after-sale keeps). Returns the payments
    refund, or None for a checkout paid straight from the wallet (posted under ``reference``)."""
    intent_id = order_paying_intent_id(order)
    if intent_id is not None:
        return refund_to_methods(
            intent_id=intent_id,
            amount_fen=amount_fen,
            source=source,
            request_key=request_key,
            reason=reason,
            order_id=order.pk,
            also=also,
            kind=kind,
            description=description,
            metadata=metadata,
        )
    extra_fen = sum(p.amount.amount for p in also)
    ledger_post(
        kind=kind,
        postings=[
            Posting(source, -Money(amount_fen + extra_fen, order.currency)),
            Posting(
                wallet_account_for_user(user=order.buyer, currency=order.currency),
                Money(amount_fen, order.currency),
            ),
            *also,
        ],
        reference=reference,
        description=description,
        metadata=dict(metadata or {}),
    )
    return None


def order_refund_destinations(order: Order) -> list[RefundDestination]:
    """Where the order's refunds went, for its page: each refund back to the original payment
    methods (the wallet part, the provider part with its status)."""
    refunds = refunds_for_order(order_id=order.pk)
    if refunds:
        return [refund_destination(refund) for refund in refunds]
    if order.paid_at is None or order_paying_intent_id(order) is not None:
        return []
    # Paid straight from the wallet: whatever was refunded went back there.
    shown: list[RefundDestination] = []
    if order.status == OrderStatus.CANCELLED:
        shown.append(wallet_refund_destination(amount_fen=order.total_fen, at=order.cancelled_at))
    for after_sale in order.after_sales.filter(status=AfterSaleStatus.REFUNDED):
        shown.append(
            wallet_refund_destination(amount_fen=after_sale.amount_fen, at=after_sale.refunded_at)
        )
    return shown
