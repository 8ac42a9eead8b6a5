"""Shop finance: per-order settlement records, clawbacks after settlement, settlement
statements per shop per period, and payout batches to shops (ADR 0032).

Money paths (all through :func:`yaji.ledger.services.ledger_post`, integer fen):

- settlement (trade): escrow → platform revenue + creator royalties + the shop's payable,
  recorded as an :class:`OrderSettlement` in the same transaction;
- clawback (:func:`shop_clawback_refund`): the shop's payable → the buyer's original payment
  methods (provider part through the refunds in flight, wallet part at once; ADR 0039), for a
  refund granted after the order settled; refused with ``insufficient_funds`` when the payable has
  already been paid out (the payable never goes negative — a database CHECK);
- payout (:func:`payout_batch_create`): the shop's payable → payout clearing at once
  (``shop_payout:<id>:hold``), submitted to the payout provider after commit; its signed
  callback moves payout clearing → provider clearing (paid) or back to the payable (failed),
  exactly once (the callback goes through the same receiver as withdrawals).

A statement is computed from those records for any period; the reconciliation check
``payments.shop_payables`` proves, per shop, that the payable's settlement, clawback and payout
entries equal the records.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.errors import InvalidAmount, NotFound
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerEntry
from yaji.ledger.reconciliation import MAX_REPORTED, Discrepancy, Progress
from yaji.ledger.services import (
    Posting,
    account_for,
    ledger_post,
    system_account,
    wallet_account_for_user,
)
from yaji.payments.commission import Split
from yaji.payments.errors import ClawbackExceedsSettled
from yaji.payments.models import (
    BankCard,
    OrderSettlement,
    PayoutBatch,
    ShopClawback,
    ShopPayout,
    ShopPayoutStatus,
)
from yaji.payments.providers import payout_provider_get
from yaji.payments.providers.base import PayoutNotification, PayoutRequest

logger = logging.getLogger(__name__)

SHOP_PAYOUT_PREFIX = "shop_payout:"
LEDGER_KIND_CLAWBACK = "shop_clawback"
LEDGER_KIND_SHOP_PAYOUT_HOLD = "shop_payout_hold"
LEDGER_KIND_SHOP_PAYOUT_PAID = "shop_payout_paid"
LEDGER_KIND_SHOP_PAYOUT_RETURN = "shop_payout_return"
# The ledger kinds of the movements of a shop's payable that this module accounts for.
SETTLEMENT_KINDS = ("trade.settle", "trade.after_sale_refund")
PAYABLE_KINDS = (
    *SETTLEMENT_KINDS,
    LEDGER_KIND_CLAWBACK,
    LEDGER_KIND_SHOP_PAYOUT_HOLD,
    LEDGER_KIND_SHOP_PAYOUT_RETURN,
)
PAYOUT_MINIMUM_FEN = 100
PAYOUT_PROVIDER = "sandbox_payout"
REASON_MAX = 200


def shop_payable_account(*, shop_id: int, currency: str = "CNY") -> LedgerAccount:
    return account_for(
        kind=AccountKind.SHOP_PAYABLE, owner_ref=f"shop:{shop_id}", currency=currency
    )


# --- settlement records -------------------------------------------------------------------------


def order_settlement_record(
    *,
    order_id: int,
    shop_id: int,
    gross_fen: int,
    refunded_fen: int,
    split: Split,
    currency: str,
    settled_at: datetime,
    intent_id: object = None,
) -> OrderSettlement:
    """Record how an order's escrow was split (inside the settling transaction), and which
    payment intent paid it (a later clawback goes back through its methods)."""
    return OrderSettlement.objects.create(
        order_id=order_id,
        intent_id=intent_id,
        shop_id=shop_id,
        gross_fen=gross_fen,
        refunded_fen=refunded_fen,
        commission_fen=split.commission_fen,
        royalty_fen=split.royalty_fen,
        net_fen=split.shop_fen,
        currency=currency,
        detail=split.detail,
        settled_at=settled_at,
    )


# --- clawbacks ----------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def shop_clawback_refund(
    *, actor: User, order_id: int, amount_fen: int, reason: str
) -> ShopClawback:
    """Refund the buyer of a settled order from the shop's payable (an operator's decision),
    back to the methods that paid it (ADR 0039): through the provider and to the wallet with
    the same split as every refund of the intent (provider part first), or to the wallet when
    the order was paid straight from it.

    At most the shop's net of that order in total; ``insufficient_funds`` (409) when the
    payable holds less (already paid out) — nothing is written then.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidAmount(extra={"reason": "amount_fen must be a positive integer"})
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason or "\x00" in reason:
        raise InvalidAmount(extra={"field": "reason"})
    record = (
        OrderSettlement.objects.select_for_update()
        .select_related("order")
        .filter(order_id=order_id)
        .first()
    )
    if record is None:
        raise NotFound()
    taken = ShopClawback.objects.filter(order_id=order_id).aggregate(
        total=Coalesce(Sum("amount_fen"), 0)
    )["total"]
    if taken + amount_fen > record.net_fen:
        raise ClawbackExceedsSettled(
            extra={"net_fen": record.net_fen, "clawed_back_fen": taken, "requested_fen": amount_fen}
        )
    clawback = ShopClawback.objects.create(
        order_id=order_id,
        shop_id=record.shop_id,
        amount_fen=amount_fen,
        currency=record.currency,
        reason=reason,
        actor=actor,
    )
    amount = Money(amount_fen, record.currency)
    payable = shop_payable_account(shop_id=record.shop_id, currency=amount.currency)
    metadata = {"order_id": order_id, "clawback_id": clawback.pk, "reason": reason}
    if record.intent_id is not None:
        from yaji.payments.refunds import refund_to_methods

        refund = refund_to_methods(
            intent_id=record.intent_id,
            amount_fen=amount_fen,
            source=payable,
            request_key=f"clawback:{clawback.pk}",
            reason=reason,
            order_id=order_id,
            kind=LEDGER_KIND_CLAWBACK,  # the payable's statement counts this kind
            description="结算后退款（从店铺应付追回，退回原支付方式）",
            metadata=metadata,
        )
        ShopClawback.objects.filter(pk=clawback.pk).update(refund=refund)
        clawback.refund = refund
        return clawback
    ledger_post(
        kind=LEDGER_KIND_CLAWBACK,
        postings=[
            Posting(payable, -amount),
            Posting(
                wallet_account_for_user(user=record.order.buyer, currency=amount.currency), amount
            ),
        ],
        reference=f"clawback:{clawback.pk}",
        description="结算后退款（从店铺应付追回）",
        metadata=metadata,
    )
    return clawback


# --- statements -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShopStatement:
    shop_id: int
    start: datetime
    end: datetime
    currency: str
    orders: int
    gross_fen: int
    refunded_fen: int
    commission_fen: int
    royalty_fen: int
    settled_net_fen: int
    clawback_fen: int
    payouts_fen: int
    returned_fen: int
    opening_fen: int
    closing_fen: int

    @property
    def net_fen(self) -> int:
        """What the period added to the shop's payable before payouts."""
        return self.settled_net_fen - self.clawback_fen

    @property
    def balanced(self) -> bool:
        return (
            self.opening_fen + self.net_fen - self.payouts_fen + self.returned_fen
            == self.closing_fen
        )


def _payable_balance_at(account: LedgerAccount, at: datetime) -> int:
    """The payable's balance after its last movement of the accounted kinds before ``at``."""
    return LedgerEntry.objects.filter(
        account=account, created_at__lt=at, transaction__kind__in=PAYABLE_KINDS
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]


def shop_statement(
    *, shop_id: int, start: datetime, end: datetime, currency: str = "CNY"
) -> ShopStatement:
    """The shop's settlement statement for ``[start, end)``: what settled (gross, refunded to
    buyers at settlement, commission, royalties, net), clawbacks, payouts and the payable's
    opening and closing balances; ``balanced`` proves they agree."""
    settled = OrderSettlement.objects.filter(
        shop_id=shop_id, currency=currency, settled_at__gte=start, settled_at__lt=end
    ).aggregate(
        orders=Count("id"),
        gross=Coalesce(Sum("gross_fen"), 0),
        refunded=Coalesce(Sum("refunded_fen"), 0),
        commission=Coalesce(Sum("commission_fen"), 0),
        royalty=Coalesce(Sum("royalty_fen"), 0),
        net=Coalesce(Sum("net_fen"), 0),
    )
    clawback = ShopClawback.objects.filter(
        shop_id=shop_id, currency=currency, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]
    payouts = ShopPayout.objects.filter(shop_id=shop_id, currency=currency)
    paid_out = payouts.filter(created_at__gte=start, created_at__lt=end).aggregate(
        total=Coalesce(Sum("amount_fen"), 0)
    )["total"]
    returned = payouts.filter(
        status=ShopPayoutStatus.RETURNED, returned_at__gte=start, returned_at__lt=end
    ).aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]
    account = shop_payable_account(shop_id=shop_id, currency=currency)
    return ShopStatement(
        shop_id=shop_id,
        start=start,
        end=end,
        currency=currency,
        orders=settled["orders"],
        gross_fen=settled["gross"],
        refunded_fen=settled["refunded"],
        commission_fen=settled["commission"],
        royalty_fen=settled["royalty"],
        settled_net_fen=settled["net"],
        clawback_fen=clawback,
        payouts_fen=paid_out,
        returned_fen=returned,
        opening_fen=_payable_balance_at(account, start),
        closing_fen=_payable_balance_at(account, end),
    )


def shop_settlements(*, shop_id: int, start: datetime, end: datetime) -> list[OrderSettlement]:
    return list(
        OrderSettlement.objects.filter(shop_id=shop_id, settled_at__gte=start, settled_at__lt=end)
        .select_related("order")
        .order_by("settled_at", "id")
    )


def shop_payouts(*, shop_id: int, limit: int = 50) -> list[ShopPayout]:
    return list(ShopPayout.objects.filter(shop_id=shop_id).select_related("card")[:limit])


# --- payouts --------------------------------------------------------------------------------


def _payout_card(shop_owner_id: int) -> BankCard | None:
    return (
        BankCard.objects.filter(user_id=shop_owner_id, removed_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True, slots=True)
class BatchResult:
    batch: PayoutBatch
    payouts: list[ShopPayout]
    skipped: dict[int, str]  # shop id → why (no_bank_card)


def payout_batch_create(
    *, actor: User, minimum_fen: int = PAYOUT_MINIMUM_FEN, currency: str = "CNY"
) -> BatchResult:
    """Pay out every shop whose payable holds at least ``minimum_fen``, to the owner's bank
    card: one durable transaction moves each payable into payout clearing, then each payout is
    submitted to the provider (outside the transaction; retried by the housekeeping job)."""
    if isinstance(minimum_fen, bool) or not isinstance(minimum_fen, int) or minimum_fen <= 0:
        raise InvalidAmount(extra={"reason": "minimum_fen must be a positive integer"})
    result = _payout_batch_hold(actor=actor, minimum_fen=minimum_fen, currency=currency)
    for payout in result.payouts:
        shop_payout_submit(payout=payout)
    return result


@transaction.atomic(durable=True)
def _payout_batch_hold(*, actor: User, minimum_fen: int, currency: str) -> BatchResult:
    from yaji.catalog.models import Shop

    accounts = list(
        LedgerAccount.objects.select_for_update()
        .filter(kind=AccountKind.SHOP_PAYABLE, currency=currency, balance__gte=minimum_fen)
        .order_by("pk")
    )
    shop_ids = {
        int(a.owner_ref.split(":", 1)[1]): a
        for a in accounts
        if a.owner_ref.startswith("shop:") and a.owner_ref.split(":", 1)[1].isdigit()
    }
    owners = dict(Shop.objects.filter(pk__in=shop_ids).values_list("pk", "owner_id"))
    batch = PayoutBatch.objects.create(created_by=actor, currency=currency)
    payouts: list[ShopPayout] = []
    skipped: dict[int, str] = {}
    for shop_id, account in sorted(shop_ids.items()):
        card = _payout_card(owners[shop_id]) if shop_id in owners else None
        if card is None:
            skipped[shop_id] = "no_bank_card"
            continue
        payout = ShopPayout.objects.create(
            batch=batch,
            shop_id=shop_id,
            card=card,
            amount_fen=account.balance,
            currency=currency,
            provider=PAYOUT_PROVIDER,
        )
        amount = Money(account.balance, currency)
        ledger_post(
            kind=LEDGER_KIND_SHOP_PAYOUT_HOLD,
            postings=[
                Posting(account, -amount),
                Posting(
                    system_account(kind=AccountKind.PAYOUT_CLEARING, currency=currency), amount
                ),
            ],
            reference=f"{SHOP_PAYOUT_PREFIX}{payout.pk}:hold",
            description="店铺结算打款",
            metadata={"shop_payout_id": payout.pk, "batch_id": batch.pk, "shop_id": shop_id},
        )
        payouts.append(payout)
    PayoutBatch.objects.filter(pk=batch.pk).update(
        total_fen=sum(p.amount_fen for p in payouts), updated_at=clock.now()
    )
    batch.refresh_from_db()
    return BatchResult(batch=batch, payouts=payouts, skipped=skipped)


def shop_payout_submit(*, payout: ShopPayout) -> bool:
    """Hand a payout to its provider (idempotent on ``shop_payout:<id>``); False = retry later."""
    card = payout.card
    try:
        accepted = payout_provider_get(payout.provider).create_payout(
            PayoutRequest(
                out_reference=f"{SHOP_PAYOUT_PREFIX}{payout.pk}",
                amount=Money(payout.amount_fen, payout.currency),
                card_number=str(card.card_number),
                holder_name=str(card.holder_name),
                bank_name=card.bank_name,
            )
        )
    except Exception:  # network or provider trouble: the money stays in clearing, retried
        logger.exception("shop payout submission failed", extra={"shop_payout_id": payout.pk})
        return False
    ShopPayout.objects.filter(pk=payout.pk, provider_reference="").update(
        provider_reference=accepted.reference[:100], updated_at=clock.now()
    )
    return True


def shop_payouts_submit_pending() -> int:
    done = 0
    for payout in ShopPayout.objects.filter(
        status=ShopPayoutStatus.PROCESSING, provider_reference=""
    ).select_related("card"):
        done += shop_payout_submit(payout=payout)
    return done


def shop_payout_callback_apply(notification: PayoutNotification) -> tuple[str, ShopPayout | None]:
    """Apply a payout callback for ``shop_payout:<id>`` inside the receiver's transaction (the
    notification row is already inserted under its unique event id). Exactly once: the payout
    leaves ``processing`` only by a conditional update; a contradicting later callback is
    ignored and logged."""
    raw = notification.out_reference.removeprefix(SHOP_PAYOUT_PREFIX)
    payout = (
        ShopPayout.objects.select_for_update().filter(pk=int(raw)).first()
        if raw.isdigit()
        else None
    )
    if payout is None:
        return "unknown_reference", None
    if (notification.amount.amount, notification.amount.currency) != (
        payout.amount_fen,
        payout.currency,
    ):
        logger.error("shop payout callback amount mismatch", extra={"shop_payout_id": payout.pk})
        return "amount_mismatch", payout
    now = clock.now()
    amount = Money(payout.amount_fen, payout.currency)
    clearing = system_account(kind=AccountKind.PAYOUT_CLEARING, currency=payout.currency)
    if notification.status == "succeeded":
        moved = ShopPayout.objects.filter(pk=payout.pk, status=ShopPayoutStatus.PROCESSING).update(
            status=ShopPayoutStatus.PAID, paid_at=now, updated_at=now
        )
        if moved != 1:
            return f"ignored_{payout.status}", payout
        ledger_post(
            kind=LEDGER_KIND_SHOP_PAYOUT_PAID,
            postings=[
                Posting(clearing, -amount),
                Posting(
                    system_account(kind=AccountKind.PROVIDER_CLEARING, currency=payout.currency),
                    amount,
                ),
            ],
            reference=f"{SHOP_PAYOUT_PREFIX}{payout.pk}:paid",
            description="店铺打款到账",
            metadata={"shop_payout_id": payout.pk, "event_id": notification.event_id},
        )
        return "paid", payout
    moved = ShopPayout.objects.filter(pk=payout.pk, status=ShopPayoutStatus.PROCESSING).update(
        status=ShopPayoutStatus.RETURNED,
        failure_reason=notification.failure_reason or "payout_failed",
        returned_at=now,
        updated_at=now,
    )
    if moved != 1:
        return f"ignored_{payout.status}", payout
    ledger_post(
        kind=LEDGER_KIND_SHOP_PAYOUT_RETURN,
        postings=[
            Posting(clearing, -amount),
            Posting(shop_payable_account(shop_id=payout.shop_id, currency=payout.currency), amount),
        ],
        reference=f"{SHOP_PAYOUT_PREFIX}{payout.pk}:return",
        description="店铺打款失败退回",
        metadata={"shop_payout_id": payout.pk, "event_id": notification.event_id},
    )
    return "returned", payout


def open_shop_payouts_fen(*, currency: str) -> int:
    return ShopPayout.objects.filter(
        status=ShopPayoutStatus.PROCESSING, currency=currency
    ).aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]


# --- reconciliation -------------------------------------------------------------------------


def check_shop_payables(progress: Progress) -> list[Discrepancy]:
    """Per shop payable: its settlement, clawback and payout entries equal the records
    (Σ settled net − Σ clawbacks − Σ payouts not returned)."""
    ledger: dict[tuple[str, str], int] = defaultdict(int)
    for row in (
        LedgerEntry.objects.filter(
            account__kind=AccountKind.SHOP_PAYABLE, transaction__kind__in=PAYABLE_KINDS
        )
        .values("account__owner_ref", "currency")
        .annotate(total=Sum("amount"))
    ):
        ledger[(row["account__owner_ref"], row["currency"])] += row["total"]
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for row in OrderSettlement.objects.values("shop_id", "currency").annotate(t=Sum("net_fen")):
        expected[(f"shop:{row['shop_id']}", row["currency"])] += row["t"]
    for row in ShopClawback.objects.values("shop_id", "currency").annotate(t=Sum("amount_fen")):
        expected[(f"shop:{row['shop_id']}", row["currency"])] -= row["t"]
    for row in (
        ShopPayout.objects.filter(~Q(status=ShopPayoutStatus.RETURNED))
        .values("shop_id", "currency")
        .annotate(t=Sum("amount_fen"))
    ):
        expected[(f"shop:{row['shop_id']}", row["currency"])] -= row["t"]
    keys = sorted(set(ledger) | set(expected))
    progress.start(len(keys) or 1)
    found: list[Discrepancy] = []
    for key in keys:
        progress.advance()
        if ledger.get(key, 0) != expected.get(key, 0) and len(found) < MAX_REPORTED:
            found.append(
                Discrepancy(
                    subject=f"shop_payable {key[0]} {key[1]}",
                    expected=f"{expected.get(key, 0)} minor units (settlements − clawbacks − payouts)",
                    actual=f"{ledger.get(key, 0)} minor units (entries of those kinds)",
                )
            )
    return found
