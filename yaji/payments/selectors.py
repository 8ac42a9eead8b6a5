"""Reads of the payments app: a payer's own intents, wallet balance and statement, bank cards and
withdrawals (only ever the user's own; anything else is "not found")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yaji.accounts.models import User
from yaji.core.money import Money, format_money
from yaji.ledger.selectors import EntryPage, account_entries, user_wallet_balance
from yaji.ledger.services import wallet_account_for_user
from yaji.payments.errors import (
    BankCardNotFound,
    PaymentIntentNotFound,
    RefundNotFound,
    WithdrawalNotFound,
)
from yaji.payments.models import BankCard, PaymentIntent, Refund, RefundStatus, Withdrawal


def payment_intent_get_for_user(*, intent_id: uuid.UUID | str, user: User) -> PaymentIntent:
    """The user's own intent; anyone else's (or a malformed id) is simply not found."""
    try:
        key = uuid.UUID(str(intent_id))
    except ValueError:
        raise PaymentIntentNotFound() from None
    intent = PaymentIntent.objects.filter(pk=key, payer=user).first()
    if intent is None:
        raise PaymentIntentNotFound()
    return intent


def wallet_balance(*, user: User, currency: str = "CNY") -> Money:
    return user_wallet_balance(user, currency=currency)


def wallet_entries(
    *, user: User, cursor: int | None = None, limit: int = 50, currency: str = "CNY"
) -> EntryPage:
    # Opening the (empty) wallet on first read keeps one code path; it is race-safe and cheap.
    account = wallet_account_for_user(user=user, currency=currency)
    return account_entries(account, cursor=cursor, limit=limit)


# --- bank cards and withdrawals ----------------------------------------------------------------


def _int_id(value: object) -> int | None:
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def bank_cards_for_user(*, user: User) -> QuerySet[BankCard]:
    return BankCard.objects.filter(user=user, removed_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def bank_card_get_for_user(*, card_id: object, user: User) -> BankCard:
    """One of the user's active cards; anyone else's (or a removed one) is not found."""
    key = _int_id(card_id)
    card = bank_cards_for_user(user=user).filter(pk=key).first() if key else None
    if card is None:
        raise BankCardNotFound()
    return card


def withdrawals_for_user(*, user: User, limit: int = 50) -> list[Withdrawal]:
    return list(
        Withdrawal.objects.filter(user=user).select_related("card").order_by("-created_at")[:limit]
    )


def withdrawal_get_for_user(*, withdrawal_id: object, user: User) -> Withdrawal:
    try:
        key = uuid.UUID(str(withdrawal_id))
    except ValueError:
        raise WithdrawalNotFound() from None
    withdrawal = Withdrawal.objects.filter(pk=key, user=user).select_related("card").first()
    if withdrawal is None:
        raise WithdrawalNotFound()
    return withdrawal


# --- refunds ----------------------------------------------------------------------------------


def refunds_for_intent(*, intent: PaymentIntent) -> list[Refund]:
    return list(Refund.objects.filter(intent=intent).order_by("-created_at"))


def refunds_for_user(*, user: User, limit: int = 50) -> list[Refund]:
    return list(
        Refund.objects.filter(intent__payer=user)
        .select_related("intent")
        .order_by("-created_at")[:limit]
    )


PROVIDER_LABELS = {"sandbox": _("沙箱支付"), "wechatpay": _("微信支付")}


@dataclass(frozen=True, slots=True)
class RefundDestination:
    """Where a refund's money went, for the buyer's pages: "refunded to the original payment
    methods" — the wallet part, and the provider part with its status (ADR 0039)."""

    amount: str
    wallet: str  # the wallet part, formatted; "" when none
    provider: str  # the provider part, formatted; "" when none
    provider_name: str
    status: str  # the refund's status code ("succeeded" for a plain wallet refund)
    status_label: str
    created_at: datetime | None
    amount_fen: int = 0
    wallet_fen: int = 0
    provider_fen: int = 0
    provider_code: str = ""  # "" when the wallet was the only method
    currency: str = "CNY"


def refund_destination(refund: Refund) -> RefundDestination:
    def fmt(fen: int) -> str:
        return format_money(Money(fen, refund.currency)) if fen else ""

    return RefundDestination(
        amount=fmt(refund.amount_fen),
        wallet=fmt(refund.wallet_amount_fen),
        provider=fmt(refund.provider_amount_fen),
        provider_name=str(PROVIDER_LABELS.get(refund.provider, refund.provider)),
        status=refund.status,
        status_label=str(refund.get_status_display()),
        created_at=refund.created_at,
        amount_fen=refund.amount_fen,
        wallet_fen=refund.wallet_amount_fen,
        provider_fen=refund.provider_amount_fen,
        provider_code=refund.provider,
        currency=refund.currency,
    )


def wallet_refund_destination(
    *, amount_fen: int, currency: str = "CNY", at: datetime | None = None
) -> RefundDestination:
    """A refund of money paid straight from the wallet: all of it went back there."""
    text = format_money(Money(amount_fen, currency))
    return RefundDestination(
        amount=text,
        wallet=text,
        provider="",
        provider_name="",
        status="succeeded",
        status_label=str(_("退款成功")),
        created_at=at,
        amount_fen=amount_fen,
        wallet_fen=amount_fen,
        currency=currency,
    )


def refunds_for_order(*, order_id: int) -> list[Refund]:
    return list(Refund.objects.filter(order_id=order_id).order_by("created_at", "id"))


def refunds_in_flight(*, limit: int = 50) -> list[Refund]:
    """Pending refunds, oldest first: the provider has not confirmed them (an operator watches
    those that stay long, e.g. never accepted because the provider was unreachable)."""
    return list(
        Refund.objects.filter(status=RefundStatus.PENDING)
        .select_related("intent")
        .order_by("created_at", "id")[:limit]
    )


def refunds_in_flight_for_shop(*, shop_id: int) -> list[Refund]:
    """Pending refunds of a shop's orders (after-sales, cancels, clawbacks)."""
    return list(
        Refund.objects.filter(status=RefundStatus.PENDING, order__shop_id=shop_id).order_by(
            "created_at", "id"
        )
    )


def refund_get_for_user(*, refund_id: object, user: User) -> Refund:
    try:
        key = uuid.UUID(str(refund_id))
    except ValueError:
        raise RefundNotFound() from None
    refund = Refund.objects.filter(pk=key, intent__payer=user).first()
    if refund is None:
        raise RefundNotFound()
    return refund
