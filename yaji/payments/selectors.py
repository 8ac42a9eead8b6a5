"""Reads of the payments app: a payer's own intents, wallet balance and statement."""

from __future__ import annotations

import uuid

from yaji.accounts.models import User
from yaji.core.money import Money
from yaji.ledger.selectors import EntryPage, account_entries, user_wallet_balance
from yaji.ledger.services import wallet_account_for_user
from yaji.payments.errors import PaymentIntentNotFound
from yaji.payments.models import PaymentIntent


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
