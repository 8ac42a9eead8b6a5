"""Flash sales: a variant's sale window, sale price, sale stock and per-buyer limit.

Checkout asks :func:`flash_sale_active` for each line; a line bought on sale takes its units from
the sale's stock with the same conditional decrement as the variant's stock (both, in one
transaction), so a storm of buyers gets exactly the sale's units and no more. The per-buyer
limit counts the buyer's live orders on this sale; checkouts of one buyer are serialised by the
lock on the buyer's row, so the limit holds when an account races itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery, Sum
from redis.exceptions import RedisError

from yaji.accounts.models import User
from yaji.catalog.models import Variant
from yaji.catalog.permissions import shop_can_manage
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.core.models import IdempotencyRecord
from yaji.trade.errors import FlashSaleSoldOut, InvalidFlashSale, PerBuyerLimitExceeded
from yaji.trade.gate import Admission, Verdict, flash_gate
from yaji.trade.models import CartLine, Checkout, FlashSale, OrderLine, OrderStatus

logger = logging.getLogger(__name__)

MAX_WINDOW_DAYS = 14


@transaction.atomic(durable=True)
def flash_sale_create(
    *,
    actor: User,
    variant_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    price_fen: int,
    stock: int,
    per_user_limit: int = 1,
) -> FlashSale:
    """A shop manager puts a variant on sale (the sale's stock must exist in the variant)."""
    variant = Variant.objects.select_related("product__shop").filter(pk=variant_id).first()
    if variant is None or not shop_can_manage(actor, variant.product.shop):
        raise NotFound()
    title = (title or "").strip()
    if not 0 < len(title) <= 40 or "\x00" in title:
        raise InvalidFlashSale(extra={"field": "title"})
    if (
        ends_at <= starts_at
        or (ends_at - starts_at).days > MAX_WINDOW_DAYS
        or ends_at <= clock.now()
    ):
        raise InvalidFlashSale(extra={"field": "window", "max_days": MAX_WINDOW_DAYS})
    for field, value in (
        ("price_fen", price_fen),
        ("stock", stock),
        ("per_user_limit", per_user_limit),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidFlashSale(extra={"field": field})
    if price_fen >= variant.price_fen:
        raise InvalidFlashSale(extra={"field": "price_fen", "reason": "not_below_price"})
    if stock > variant.stock:
        raise InvalidFlashSale(extra={"field": "stock", "available": variant.stock})
    sale = FlashSale.objects.create(
        variant=variant,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        price_fen=price_fen,
        initial_stock=stock,
        stock=stock,
        per_user_limit=per_user_limit,
        created_by=actor,
    )
    transaction.on_commit(lambda: flash_gate_open(sale))  # the gate holds what committed
    return sale


def flash_sale_active(*, variant_id: int, now: datetime | None = None) -> FlashSale | None:
    """The sale running now for this variant (the earliest-started one), if any."""
    now = now or clock.now()
    return (
        FlashSale.objects.filter(variant_id=variant_id, starts_at__lte=now, ends_at__gt=now)
        .order_by("starts_at", "id")
        .first()
    )


def flash_sales_active(
    *, variant_ids: list[int], now: datetime | None = None
) -> dict[int, FlashSale]:
    """:func:`flash_sale_active` for many variants in one query: variant id → its sale now."""
    now = now or clock.now()
    found: dict[int, FlashSale] = {}
    for sale in FlashSale.objects.filter(
        variant_id__in=sorted(set(variant_ids)), starts_at__lte=now, ends_at__gt=now
    ).order_by("starts_at", "id"):
        found.setdefault(sale.variant_id, sale)  # the earliest-started one, as above
    return found


def flash_stock_take(*, sale: FlashSale, quantity: int) -> bool:
    return (
        FlashSale.objects.filter(pk=sale.pk, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        == 1
    )


def flash_stock_return(*, sale_id: int, quantity: int) -> None:
    FlashSale.objects.filter(pk=sale_id).update(stock=F("stock") + quantity)


LIVE_ORDER_STATUSES = (
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)


def flash_bought(*, buyer: User, sale: FlashSale) -> int:
    return flash_bought_many(buyer=buyer, sale_ids=[sale.pk]).get(sale.pk, 0)


def flash_bought_many(*, buyer: User, sale_ids: list[int]) -> dict[int, int]:
    """Units the buyer holds on live orders of each sale (sale id → units), in one query."""
    rows = (
        OrderLine.objects.filter(
            flash_sale_id__in=sale_ids, order__buyer=buyer, order__status__in=LIVE_ORDER_STATUSES
        )
        .values("flash_sale_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["flash_sale_id"]: row["n"] for row in rows}


def flash_sale_sold_out_in_cart(
    *, buyer: User, retry_of: tuple[str, str] | None = None, now: datetime | None = None
) -> int | None:
    """The id of a sale running now that cannot cover what the buyer's cart wants of it.

    The sold-out gate in front of checkout (ADR 0030): one read, no lock, no write, so the
    thousands of buyers who arrive after the last unit are answered without the work of a
    placement. It reads the sale's live stock, so units given back by a cancelled or expired
    reservation open the gate again at once. ``retry_of`` (idempotency scope, key): when that
    key already has a record, the gate stays open and the idempotency layer replays the
    first answer instead — a retry of a placement that succeeded must get its 201 back.
    """
    now = now or clock.now()
    cart_lines = CartLine.objects.filter(cart__user=buyer)
    wanted = (
        cart_lines.filter(variant_id=OuterRef("variant_id"))
        .values("variant_id")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    sales = FlashSale.objects.filter(
        variant_id__in=cart_lines.values("variant_id"), starts_at__lte=now, ends_at__gt=now
    )
    if retry_of is not None:
        scope, key = retry_of
        sales = sales.filter(~Exists(IdempotencyRecord.objects.filter(scope=scope, key=key)))
    rows = sales.annotate(wanted=Subquery(wanted)).order_by("starts_at", "id")
    seen: set[int] = set()
    for sale_id, variant_id, stock, units in rows.values_list(
        "id", "variant_id", "stock", "wanted"
    ):
        if variant_id in seen:
            continue  # only the earliest-started sale of a variant applies (flash_sale_active)
        seen.add(variant_id)
        if stock < (units or 0):
            return sale_id
    return None


def flash_sales_upcoming(*, now: datetime | None = None, limit: int = 50) -> list[FlashSale]:
    """Sales running now or starting within a day, of listed products, soonest first."""
    now = now or clock.now()
    return list(
        FlashSale.objects.filter(
            ends_at__gt=now,
            starts_at__lte=now + timedelta(days=1),
            variant__product__status="listed",
        )
        .select_related("variant")
        .order_by("starts_at", "id")[:limit]
    )


def flash_sale_gate_sold_out(
    *, sale_id: int, placement_key: str, now: datetime | None = None
) -> bool:
    """True when sale ``sale_id`` has no unit left for anyone and this is no retry.

    The buy-now gate (ADR 0040), asked before authentication: whether a running sale is sold out
    is public (the sale page shows it), so answering it to an anonymous caller leaks nothing.
    One primary-key read of the live stock — no cache, so a unit given back by a cancelled or
    expired reservation is on offer again at once — that also asks whether a checkout carries
    this request's key digest (``placement_key``): a retry of a placement that succeeded passes
    and the idempotency layer replays its 201. Raw SQL because it is the whole cost of the
    thousands of late requests: the ORM would spend more compiling the query than PostgreSQL
    spends answering it. Unknown, not started or ended sales pass: the placement says why.
    """
    now = now or clock.now()
    sql = (
        f"SELECT s.stock, EXISTS (SELECT 1 FROM {Checkout._meta.db_table} c "  # noqa: S608  # table names only
        "WHERE c.placement_key = %s AND c.placement_key <> '') "
        f"FROM {FlashSale._meta.db_table} s WHERE s.id = %s AND s.starts_at <= %s AND s.ends_at > %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [placement_key, sale_id, now, now])
        row = cursor.fetchone()
    return row is not None and row[0] <= 0 and not row[1]


# --- the Redis gate (gate.py, ADR 0045) ---------------------------------------------------------


def flash_bought_by_buyer(*, sale_id: int) -> dict[int, int]:
    """Units each buyer holds on live orders of the sale (buyer id → units), in one query."""
    rows = (
        OrderLine.objects.filter(flash_sale_id=sale_id, order__status__in=LIVE_ORDER_STATUSES)
        .values("order__buyer_id")
        .annotate(n=Sum("quantity"))
        .values_list("order__buyer_id", "n")
    )
    return {buyer_id: n for buyer_id, n in rows}


def flash_gate_open(sale: FlashSale) -> None:
    """Initialise the sale's gate (after the sale's commit); a failure only means the first
    placement rebuilds it from the database."""
    gate = flash_gate()
    if gate is None:
        return
    try:
        gate.init(
            sale_id=sale.pk,
            left=sale.stock,
            starts_at=sale.starts_at,
            ends_at=sale.ends_at,
            limit=sale.per_user_limit,
            bought={},
            now=clock.now(),
        )
    except RedisError:
        logger.warning("flash gate: init failed", extra={"flash_sale_id": sale.pk})


def flash_gate_rebuild(*, sale_id: int) -> bool:
    """(Re)create a sale's gate from the database unless it exists; True if created.

    A placement committing between these reads and the init is counted by the database read or
    tells the gate afterwards under the old epoch (ignored): ``left`` can only come out too
    high, which costs a database refusal, never a buyer turned away.
    """
    gate = flash_gate()
    row = (
        FlashSale.objects.filter(pk=sale_id)
        .values("stock", "starts_at", "ends_at", "per_user_limit")
        .first()
    )
    if gate is None or row is None:
        return False
    bought = flash_bought_by_buyer(sale_id=sale_id)
    return gate.init(
        sale_id=sale_id,
        left=row["stock"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        limit=row["per_user_limit"],
        bought=bought,
        now=clock.now(),
    )


def flash_gate_admit(
    *, sale_id: int, user_id: int, units: int, key_digest: str, now: datetime
) -> Admission | None:
    """Ask the gate; None when there is no gate (no Redis, Redis failing, unknown sale).

    Raises the service's own refusals — ``flash_sale_sold_out``, ``per_buyer_limit_exceeded``
    with the same ``extra`` — when the gate's answer is definitive.
    """
    gate = flash_gate()
    if gate is None:
        return None
    try:
        admission = gate.admit(
            sale_id=sale_id, user_id=user_id, units=units, now=now, key_digest=key_digest
        )
        if admission.verdict == Verdict.MISSING and flash_gate_rebuild(sale_id=sale_id):
            admission = gate.admit(
                sale_id=sale_id, user_id=user_id, units=units, now=now, key_digest=key_digest
            )
    except RedisError:
        logger.warning("flash gate unavailable; the database decides alone")
        return None
    if admission.verdict == Verdict.MISSING:
        return None
    if admission.verdict == Verdict.SOLD_OUT:
        raise FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
    if admission.verdict == Verdict.OVER_LIMIT:
        raise PerBuyerLimitExceeded(
            extra={"flash_sale_id": sale_id, "limit": admission.limit, "bought": admission.bought}
        )
    return admission


def flash_gate_after(
    admission: Admission | None,
    *,
    sale_id: int,
    user_id: int,
    units: int,
    outcome: str,
    key_digest: str = "",
) -> None:
    """Tell the gate how the placement ended: ``placed``, ``sold_out`` or ``failed``."""
    gate = flash_gate()
    if admission is None or gate is None:
        return
    try:
        if admission.verdict == Verdict.ADMITTED:
            if outcome == "placed":
                gate.confirm(
                    sale_id=sale_id,
                    admission=admission,
                    user_id=user_id,
                    units=units,
                    key_digest=key_digest,
                )
            else:
                available = None
                if outcome == "sold_out":
                    available = (
                        FlashSale.objects.filter(pk=sale_id).values_list("stock", flat=True).first()
                    )
                gate.release(
                    sale_id=sale_id,
                    admission=admission,
                    user_id=user_id,
                    units=units,
                    available=available,
                )
        elif outcome == "placed":  # bypassed, but placed: the gate counts it now
            gate.sold(
                sale_id=sale_id,
                epoch=admission.epoch,
                user_id=user_id,
                units=units,
                key_digest=key_digest,
            )
    except RedisError:
        # A lost release is reclaimed after gate.STALE_MS; a lost confirm or sold leaves the
        # gate high (the database refuses the surplus) until the timers' resync.
        logger.warning("flash gate: %s not recorded", outcome, extra={"flash_sale_id": sale_id})


def flash_gate_epochs(sale_ids: list[int]) -> dict[int, str]:
    """The gates' epochs of these sales (read before a placement that holds no ticket)."""
    gate = flash_gate()
    if gate is None or not sale_ids:
        return {}
    try:
        return {sale_id: epoch for sale_id in sale_ids if (epoch := gate.epoch(sale_id))}
    except RedisError:
        return {}


def flash_gate_sold_on_commit(*, epochs: dict[int, str], user_id: int, units: dict[int, int]):  # type: ignore[no-untyped-def]
    """After the caller's transaction commits: the gates count units sold without a ticket
    (a cart checkout)."""
    if not epochs:
        return

    def tell() -> None:
        gate = flash_gate()
        if gate is None:
            return
        for sale_id, epoch in epochs.items():
            try:
                gate.sold(sale_id=sale_id, epoch=epoch, user_id=user_id, units=units[sale_id])
            except RedisError:
                logger.warning("flash gate: sold not recorded", extra={"flash_sale_id": sale_id})

    transaction.on_commit(tell)


def flash_gate_give_back_on_commit(returned: dict[tuple[int, int], int]) -> None:
    """After the caller's transaction commits: units of (sale, buyer) are on sale again."""
    if not returned or flash_gate() is None:
        return

    def tell() -> None:
        gate = flash_gate()
        if gate is None:
            return
        for (sale_id, user_id), units in sorted(returned.items()):
            try:
                gate.give_back(sale_id=sale_id, user_id=user_id, units=units)
            except RedisError:
                logger.warning(
                    "flash gate: give-back not recorded (resync corrects it)",
                    extra={"flash_sale_id": sale_id},
                )

    transaction.on_commit(tell)


def flash_gate_peek_sold_out(*, sale_id: int, key_digest: str, now: datetime) -> bool | None:
    """The gate's read-only "sold out" for a request not yet authenticated; None: no gate
    state (ask the database)."""
    gate = flash_gate()
    if gate is None:
        return None
    try:
        peek = gate.peek(sale_id=sale_id, now=now, key_digest=key_digest)
    except RedisError:
        return None
    if peek.verdict == "missing":
        return None
    return peek.verdict == "sold_out"


def flash_gates_resync(*, now: datetime | None = None) -> int:
    """Put every quiet gate of a running sale back on the database's numbers (the trade timers,
    every minute): what a lost give-back would otherwise leave too low. Returns how many gates
    changed."""
    gate = flash_gate()
    if gate is None:
        return 0
    now = now or clock.now()
    changed = 0
    sales = FlashSale.objects.filter(starts_at__lte=now, ends_at__gt=now).values_list(
        "pk", flat=True
    )
    try:
        for sale_id in sales:
            state = gate.state(sale_id)
            if state.left is None or state.pending:
                continue
            stock = FlashSale.objects.filter(pk=sale_id).values_list("stock", flat=True).first()
            bought = flash_bought_by_buyer(sale_id=sale_id)
            if stock is None or (state.left == stock and state.bought == bought):
                continue
            if gate.resync(sale_id=sale_id, seq=state.seq, left=stock, bought=bought):
                logger.warning(
                    "flash gate: resynced from the database",
                    extra={"flash_sale_id": sale_id, "left": state.left, "stock": stock},
                )
                changed += 1
    except RedisError:
        logger.warning("flash gate unavailable: resync skipped")
    return changed
