"""Test data for the ledger. Accounts are opened through the real service (they are cheap);
money enters the books the only way it can: posted from provider clearing."""

from __future__ import annotations

from itertools import count

from yaji.accounts.models import User
from yaji.accounts.tests.factories import UserFactory
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from yaji.ledger.services import (
    account_for,
    ledger_transfer,
    system_account,
    wallet_account_for_user,
)

_refs = count(1)


def reference(prefix: str = "test") -> str:
    return f"{prefix}:{next(_refs)}"


def cny(fen: int) -> Money:
    return Money(fen, "CNY")


def provider(currency: str = "CNY") -> LedgerAccount:
    return system_account(kind=AccountKind.PROVIDER_CLEARING, currency=currency)


def top_up(account: LedgerAccount, amount: Money) -> LedgerTransaction:
    """Money arrives from outside: provider clearing goes negative, the account goes up."""
    return ledger_transfer(
        source=provider(amount.currency),
        destination=account,
        amount=amount,
        reference=reference("topup"),
        kind="test.top_up",
    )


def wallet(*, user: User | None = None, balance: int = 0, currency: str = "CNY") -> LedgerAccount:
    account = wallet_account_for_user(user=user or UserFactory(), currency=currency)
    if balance:
        top_up(account, Money(balance, currency))
    return account


def shop_payable(shop_id: int, *, currency: str = "CNY") -> LedgerAccount:
    return account_for(
        kind=AccountKind.SHOP_PAYABLE, owner_ref=f"shop:{shop_id}", currency=currency
    )
