"""Reconciliation of orders against the ledger (``yaji reconcile``): escrow holds exactly the
money of paid, unsettled orders.

Per order, in one SQL statement per batch: an order whose money is in escrow (paid, in
production/processing, shipped, delivered) has ``total_fen`` in its escrow account; every other
order (unpaid, completed and settled, cancelled and refunded) has nothing there.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat

from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.reconciliation import Discrepancy, Progress, reconciliation_check_register
from yaji.trade.models import Order
from yaji.trade.services import ESCROWED_STATUSES

BATCH = 1000


def check_order_escrow(progress: Progress) -> list[Discrepancy]:
    escrow = LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW,
        owner__isnull=True,
        owner_ref=Concat(Value("order:"), Cast(OuterRef("pk"), CharField())),
    )
    orders = Order.objects.annotate(
        escrow_fen=Coalesce(
            Subquery(escrow.values("balance")[:1], output_field=BigIntegerField()),
            Value(0),
            output_field=BigIntegerField(),
        )
    ).order_by("pk")
    progress.start(Order.objects.count())
    found: list[Discrepancy] = []
    last = 0
    while True:
        rows = list(
            orders.filter(pk__gt=last).values_list(
                "pk", "number", "status", "total_fen", "escrow_fen"
            )[:BATCH]
        )
        if not rows:
            return found
        for pk, number, status, total_fen, escrow_fen in rows:
            expected = total_fen if status in ESCROWED_STATUSES else 0
            if escrow_fen != expected:
                found.append(
                    Discrepancy(
                        subject=f"order #{pk} {number} ({status}) escrow",
                        expected=str(expected),
                        actual=str(escrow_fen),
                    )
                )
        last = rows[-1][0]
        progress.advance(len(rows))


def trade_checks_register() -> None:
    reconciliation_check_register(
        name="trade.order_escrow",
        description="escrow holds exactly the money of paid, unsettled orders",
        run=check_order_escrow,
    )
