"""Settlement of an order's escrow: platform commission (rates per category and shop tier),
royalties of licensed designs to their creators, the rest to the shop's payable (ADR 0032).

Used by completion (``services._order_complete``) and by an after-sale refund that keeps part
of the money (``aftersales._refund``); the split itself is payments' policy
(:func:`yaji.payments.commission.settlement_split`), recorded per order for the statements.
"""

from __future__ import annotations

from datetime import datetime

from yaji.accounts.models import User
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.services import Posting, account_for, system_account
from yaji.payments.commission import GoodsLine, Split, settlement_split
from yaji.payments.shop_finance import order_settlement_record
from yaji.trade.models import Order, OrderLine
from yaji.trade.refunds import order_paying_intent_id


def order_split(order: Order, *, refunded_fen: int = 0) -> Split:
    lines = [
        GoodsLine(
            line_id=line.pk,
            product_id=line.product_id,
            category_id=line.product.category_id,
            goods_fen=line.total_fen,
        )
        for line in OrderLine.objects.filter(order=order).select_related("product").order_by("id")
    ]
    return settlement_split(
        shop_id=order.shop_id,
        lines=lines,
        shipping_fen=order.shipping_fen,
        kept_fen=order.total_fen - refunded_fen,
    )


def settlement_postings(
    order: Order, split: Split, *, shop_payable: LedgerAccount
) -> list[Posting]:
    """The credit lines of a split (the caller adds the escrow debit and any buyer refund)."""

    def money(fen: int) -> Money:
        return Money(fen, order.currency)

    postings: list[Posting] = []
    if split.commission_fen:
        postings.append(
            Posting(
                system_account(kind=AccountKind.PLATFORM_REVENUE, currency=order.currency),
                money(split.commission_fen),
            )
        )
    for creator_id, fen in sorted(split.royalties.items()):
        postings.append(
            Posting(
                account_for(
                    kind=AccountKind.CREATOR_ROYALTY,
                    owner=User.objects.get(pk=creator_id),
                    currency=order.currency,
                ),
                money(fen),
            )
        )
    if split.shop_fen:
        postings.append(Posting(shop_payable, money(split.shop_fen)))
    return postings


def settlement_record(order: Order, split: Split, *, refunded_fen: int, at: datetime) -> None:
    # The paying intent is kept so a clawback after settlement refunds through its methods.
    order_settlement_record(
        intent_id=order_paying_intent_id(order),
        order_id=order.pk,
        shop_id=order.shop_id,
        gross_fen=order.total_fen,
        refunded_fen=refunded_fen,
        split=split,
        currency=order.currency,
        settled_at=at,
    )
