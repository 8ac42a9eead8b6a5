"""Property tests: whatever sequence of transfers runs (many refused for insufficient funds),
the books stay balanced, guarded accounts never go negative and reconciliation passes."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yaji.core.money import Money
from yaji.ledger.errors import InsufficientFunds
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.services import account_for, ledger_transfer, system_account
from yaji.ledger.tests.factories import wallet

pytestmark = pytest.mark.django_db

CURRENCIES = ["CNY", "USD"]
# Per currency: provider clearing (may go negative), escrow, two shop payables, two wallets.
SLOTS = 6

transfers = st.lists(
    st.tuples(
        st.sampled_from(CURRENCIES),
        st.integers(0, SLOTS - 1),  # source slot
        st.integers(0, SLOTS - 1),  # destination slot
        st.integers(1, 5_000),  # amount in minor units
    ),
    min_size=1,
    max_size=40,
)


def open_accounts() -> dict[str, list[LedgerAccount]]:
    accounts: dict[str, list[LedgerAccount]] = {}
    for currency in CURRENCIES:
        accounts[currency] = [
            system_account(kind=AccountKind.PROVIDER_CLEARING, currency=currency),
            system_account(kind=AccountKind.ESCROW, currency=currency),
            account_for(kind=AccountKind.SHOP_PAYABLE, owner_ref="shop:1", currency=currency),
            account_for(kind=AccountKind.SHOP_PAYABLE, owner_ref="shop:2", currency=currency),
            wallet(currency=currency),
            wallet(currency=currency),
        ]
    return accounts


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.lists(st.integers(0, 20_000), min_size=5, max_size=5), moves=transfers)
def test_random_transfers_keep_the_books_balanced(seed: list[int], moves: list) -> None:  # type: ignore[type-arg]
    # Each example runs in a savepoint that is rolled back, so examples never see each other.
    with transaction.atomic():
        # given the accounts, wallets and shops funded from provider clearing
        accounts = open_accounts()
        model: dict[int, int] = defaultdict(int)
        ok = refused = 0
        for currency in CURRENCIES:
            clearing = accounts[currency][0]
            for slot, amount in enumerate(seed[1:], start=1):
                if amount:
                    ledger_transfer(
                        source=clearing,
                        destination=accounts[currency][slot],
                        amount=Money(amount, currency),
                        reference=f"seed:{currency}:{slot}",
                        kind="test.seed",
                    )
                    model[clearing.pk] -= amount
                    model[accounts[currency][slot].pk] += amount
        seeded = LedgerTransaction.objects.count()

        # when random transfers run, some of them beyond what the source holds
        for index, (currency, src, dst, amount) in enumerate(moves):
            if src == dst:
                continue
            source, destination = accounts[currency][src], accounts[currency][dst]
            expect_ok = source.allow_negative or model[source.pk] >= amount
            try:
                ledger_transfer(
                    source=source,
                    destination=destination,
                    amount=Money(amount, currency),
                    reference=f"move:{index}",
                    kind="test.move",
                )
            except InsufficientFunds:
                assert not expect_ok
                refused += 1
                continue
            assert expect_ok
            ok += 1
            model[source.pk] -= amount
            model[destination.pk] += amount

        # then balances match the model, sum to zero per currency, guarded ones are >= 0
        rows = LedgerAccount.objects.all()
        for row in rows:
            assert row.balance == model[row.pk]
            assert row.allow_negative or row.balance >= 0
        for currency in CURRENCIES:
            assert sum(r.balance for r in rows if r.currency == currency) == 0
        # and every posting that succeeded is one transaction; reconciliation agrees
        assert LedgerTransaction.objects.count() == seeded + ok
        failed = [r for r in reconciliation_run() if not r.ok]
        assert failed == []
        transaction.set_rollback(True)
