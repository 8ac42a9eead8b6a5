"""Reads of the payments app: a payer's own intents, wallet balance and statement, bank cards and
withdrawals (only ever the user's own; anything else is "not found")."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from yaji.accounts.models import User
from yaji.core.money import Money
from yaji.ledger.selectors import EntryPage, account_entries, user_wallet_balance
from yaji.ledger.services import wallet_account_for_user
from yaji.payments.errors import (
    BankCardNotFound,
    PaymentIntentNotFound,
    RefundNotFound,
    WithdrawalNotFound,
)
from yaji.payments.models import BankCard, PaymentIntent, Refund, Withdrawal


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


def refund_get_for_user(*, refund_id: object, user: User) -> Refund:
    try:
        key = uuid.UUID(str(refund_id))
    except ValueError:
        raise RefundNotFound() from None
    refund = Refund.objects.filter(pk=key, intent__payer=user).first()
    if refund is None:
        raise RefundNotFound()
    return refund
