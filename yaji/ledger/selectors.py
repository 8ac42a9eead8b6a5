"""Reads of the books: balances and account statements."""

from __future__ import annotations

from dataclasses import dataclass

from yaji.accounts.models import User
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class EntryPage:
    """Newest entries first; pass ``next_cursor`` back as ``cursor`` for the next page."""

    entries: list[LedgerEntry]
    next_cursor: int | None


def account_balance(account: LedgerAccount) -> Money:
    """The committed balance, read fresh (the passed object may be stale)."""
    balance = LedgerAccount.objects.filter(pk=account.pk).values_list("balance", flat=True).get()
    return Money(balance, account.currency)


def account_entries(
    account: LedgerAccount, *, cursor: int | None = None, limit: int = 50
) -> EntryPage:
    """A page of the account's statement, by entry id descending (cursor = last id seen).

    Keyset pagination on the (account, id) index: page N costs the same as page 1, and entries
    posted meanwhile never shift or repeat rows the way OFFSET would.
    """
    limit = max(1, min(limit, MAX_PAGE))
    entries = LedgerEntry.objects.filter(account=account).select_related("transaction")
    if cursor is not None:
        entries = entries.filter(id__lt=cursor)
    rows = list(entries.order_by("-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(entries=rows, next_cursor=rows[-1].id if has_more else None)


def user_wallet_balance(user: User, *, currency: str = "CNY") -> Money:
    """The user's wallet balance; zero when the wallet was never opened (nothing is created)."""
    balance = (
        LedgerAccount.objects.filter(
            kind=AccountKind.USER_WALLET, owner=user, owner_ref="", currency=currency
        )
        .values_list("balance", flat=True)
        .first()
    )
    return Money(balance or 0, currency)


def transaction_get(*, reference: str) -> LedgerTransaction | None:
    """The transaction posted under ``reference`` (unique), or None."""
    return LedgerTransaction.objects.filter(reference=reference).first()


# A caller that reads an account's id together with its own rows, in one statement (the red
# packet grab reads its packet, the packet's escrow and the claimer's wallet at once, ADR 0044):
# scalar sub-selects over the accounts' unique indexes. NULL: the account is not open yet.
_OWNED_ID = (
    "(SELECT id FROM ledger_ledgeraccount WHERE kind = %s AND owner_id = %s AND owner_ref = '' "
    "AND currency = %s)"
)
_REF_ID = (
    "(SELECT id FROM ledger_ledgeraccount WHERE kind = %s AND owner_id IS NULL AND owner_ref = %s "
    "AND currency = %s)"
)


def wallet_id_subselect(*, user_id: int, currency: str = "CNY") -> tuple[str, list[object]]:
    """SQL and parameters of the id of ``user_id``'s wallet (portable SQL)."""
    return _OWNED_ID, [AccountKind.USER_WALLET.value, user_id, currency]


def account_id_subselect(
    *, kind: str, owner_ref: str, currency: str = "CNY"
) -> tuple[str, list[object]]:
    """SQL and parameters of the id of the unowned account ``(kind, owner_ref, currency)``."""
    return _REF_ID, [kind, owner_ref, currency]


def account_ref(*, account_id: int, currency: str) -> LedgerAccount:
    """An account known by id, for posting to it (``ledger_transfer`` / ``ledger_transfer_part``
    lock the row and take its balance from there; only ``pk`` and ``currency`` are read)."""
    account = LedgerAccount(pk=account_id, currency=currency)
    account._state.adding = False
    return account
