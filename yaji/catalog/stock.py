"""Stock of variants: taken and returned by trade with conditional updates, never read-modify-write.

``UPDATE ... SET stock = stock - n WHERE id = ? AND stock >= n`` is one atomic statement on every
database: of many buyers racing for the last units exactly as many succeed as there are units,
without locking the row for the whole checkout (ARCHITECTURE.md §3). The CHECK constraint
``variant_stock_non_negative`` is the last line of defence.
"""

from __future__ import annotations

from django.db.models import F

from yaji.catalog.models import Variant


def variant_stock_take(*, variant_id: int, quantity: int) -> bool:
    """Take ``quantity`` units if that many are left; False (nothing taken) otherwise."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return (
        Variant.objects.filter(pk=variant_id, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        == 1
    )


def variant_stock_take_cte(*, variant_id: int, quantity: int, after: str) -> tuple[str, tuple]:
    """:func:`variant_stock_take` as a CTE body for another app's chain (PostgreSQL,
    ``yaji.core.sqlparts.SqlChain``): it takes the units only if CTE ``after`` returned a row
    (the earlier hot row of the caller's lock order), and returns the variant's id when taken."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    table = Variant._meta.db_table
    return (
        f'MATERIALIZED (UPDATE "{table}" SET "stock" = "stock" - %s '  # noqa: S608  # table name only
        f'WHERE "id" = %s AND "stock" >= %s AND EXISTS (SELECT 1 FROM {after}) RETURNING "id")',
        (quantity, variant_id, quantity),
    )


def variant_stock_return(*, variant_id: int, quantity: int) -> None:
    """Give back units taken earlier (a cancelled or expired order)."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    Variant.objects.filter(pk=variant_id).update(stock=F("stock") + quantity)
