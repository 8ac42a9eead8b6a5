from __future__ import annotations

import pytest

from yaji.accounts.tests.factories import UserFactory
from yaji.core.money import Money
from yaji.ledger.models import LedgerAccount
from yaji.ledger.selectors import account_balance, account_entries, user_wallet_balance
from yaji.ledger.services import ledger_transfer
from yaji.ledger.tests.factories import cny, top_up, wallet

pytestmark = pytest.mark.django_db


def test_balances_are_money_read_fresh() -> None:
    # given a wallet object that went stale after a posting made elsewhere
    account = wallet(balance=1_234)
    stale = LedgerAccount.objects.get(pk=account.pk)
    top_up(account, cny(1))

    # then the selectors read the committed balance
    assert account_balance(stale) == cny(1_235)
    assert user_wallet_balance(account.owner) == cny(1_235)
    assert user_wallet_balance(account.owner, currency="USD") == Money(0, "USD")


def test_a_user_without_a_wallet_has_zero_and_gets_no_account() -> None:
    user = UserFactory()
    assert user_wallet_balance(user) == cny(0)
    assert not LedgerAccount.objects.filter(owner=user).exists()


def test_entries_page_newest_first_with_a_cursor(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    # given a wallet with five entries
    account = wallet()
    for amount in (1, 2, 3, 4, 5):
        top_up(account, cny(amount))

    # when the statement is read two at a time (one query a page, transaction included)
    with django_assert_num_queries(1):
        first = account_entries(account, limit=2)
        [e.transaction.reference for e in first.entries]
    second = account_entries(account, cursor=first.next_cursor, limit=2)
    third = account_entries(account, cursor=second.next_cursor, limit=2)

    # then every entry appears once, newest first, and the last page has no cursor
    amounts = [e.amount for page in (first, second, third) for e in page.entries]
    assert amounts == [5, 4, 3, 2, 1]
    assert [e.balance_after for e in first.entries] == [15, 10]
    assert third.next_cursor is None


def test_entries_only_of_the_account_asked_for() -> None:
    mine, other = wallet(balance=10), wallet(balance=10)
    ledger_transfer(source=mine, destination=other, amount=cny(3), reference="s:1", kind="t")
    assert [e.amount for e in account_entries(mine).entries] == [-3, 10]
