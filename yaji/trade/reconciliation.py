"""Reconciliation of orders against the ledger (``yaji reconcile``): escrow holds exactly the
money of paid, unsettled orders; and, with Redis, the flash-sale gates agree with the database.

Per order, in one SQL statement per batch: an order whose money is in escrow (paid, in
production/processing, shipped, delivered) has ``total_fen`` in its escrow account; every other
order (unpaid, completed and settled, cancelled and refunded) has nothing there.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import BigIntegerField, CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat

from yaji.core import clock
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.reconciliation import Discrepancy, Progress, reconciliation_check_register
from yaji.trade.flash import flash_bought_by_buyer
from yaji.trade.gate import KEY_TTL_AFTER_END_S, flash_gate
from yaji.trade.models import FlashSale, Order
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


def check_flash_gates(progress: Progress) -> list[Discrepancy]:
    """With Redis configured: the gate of every sale it may know agrees with the database.

    For each sale not ended more than a day ago (the gate keys' lifetime) that has gate keys,
    with L the gate's units left, B(u) its committed units of buyer u, P(u) its units in flight,
    P their sum, S the sale's stock and D(u) the buyer's units on live orders in the database:

    - L ≤ S ≤ L + P — otherwise the gate would refuse units the database has (too low) or admit
      to units it has not (too high); on a quiet system P = 0 and L = S;
    - B(u) ≤ D(u) ≤ B(u) + P(u) for every buyer — otherwise the gate would answer "over the
      limit" to a buyer who is not, or admit a buyer the database refuses.

    Placements in flight while the check runs show up in P, never as a discrepancy.
    """
    gate = flash_gate()
    if gate is None:
        progress.start(0)
        return []
    since = clock.now() - timedelta(seconds=KEY_TTL_AFTER_END_S)
    sales = list(FlashSale.objects.filter(ends_at__gte=since).order_by("pk").values("pk", "stock"))
    progress.start(len(sales))
    found: list[Discrepancy] = []
    for row in sales:
        state = gate.state(row["pk"])
        if state.left is not None:
            found += _gate_discrepancies(row["pk"], row["stock"], state)
        progress.advance(1)
    return found


def _gate_discrepancies(sale_id: int, stock: int, state) -> list[Discrepancy]:  # type: ignore[no-untyped-def]
    subject = f"flash sale #{sale_id} gate"
    found: list[Discrepancy] = []
    in_flight = sum(state.pending.values())
    if not state.left <= stock <= state.left + in_flight:
        found.append(
            Discrepancy(
                f"{subject} units left",
                str(stock),
                f"{state.left} (+{in_flight} in flight)" if in_flight else str(state.left),
            )
        )
    db = flash_bought_by_buyer(sale_id=sale_id)
    for user_id in sorted(set(db) | set(state.bought)):
        gate_units, db_units = state.bought.get(user_id, 0), db.get(user_id, 0)
        if not gate_units <= db_units <= gate_units + state.pending.get(user_id, 0):
            found.append(
                Discrepancy(f"{subject} units of buyer #{user_id}", str(db_units), str(gate_units))
            )
    return found


def trade_checks_register() -> None:
    reconciliation_check_register(
        name="trade.order_escrow",
        description="escrow holds exactly the money of paid, unsettled orders",
        run=check_order_escrow,
    )
    reconciliation_check_register(
        name="trade.flash_gate",
        description="the Redis flash-sale gate agrees with the database: units left, units per buyer",
        run=check_flash_gates,
    )
