"""`yaji reconcile`: passes on healthy books, fails loudly (exit 1, names the account) when a
balance or an entry was tampered with behind the service's back."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerEntry
from yaji.ledger.reconciliation import (
    Discrepancy,
    reconciliation_check_register,
    reconciliation_check_unregister,
    reconciliation_checks,
    reconciliation_run,
)
from yaji.ledger.services import Posting, ledger_post, ledger_transfer, system_account
from yaji.ledger.tests.factories import cny, shop_payable, wallet

pytestmark = pytest.mark.django_db


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def reconcile_failing(*args: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError, match="reconciliation failed"):
        call_command("reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def books() -> dict:
    """A small healthy ledger: top-ups, a split payment, a USD wallet."""
    buyer = wallet(balance=10_000)
    shop = shop_payable(7)
    revenue = system_account(kind=AccountKind.PLATFORM_REVENUE)
    ledger_post(
        kind="order.pay",
        postings=[
            Posting(buyer, cny(-5_000)),
            Posting(shop, cny(4_500)),
            Posting(revenue, cny(500)),
        ],
        reference="order:7:pay",
    )
    usd = wallet(balance=999, currency="USD")
    ledger_transfer(
        source=usd,
        destination=wallet(currency="USD"),
        amount=Money(99, "USD"),
        reference="u",
        kind="t",
    )
    return {"buyer": buyer, "shop": shop, "revenue": revenue}


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def unguarded_entries() -> Iterator[None]:
    """Lift the immutability trigger for this test's transaction (rolled back afterwards)."""
    if connection.vendor == "postgresql":
        # Deferred foreign-key checks from the fixture's inserts would block the ALTER.
        raw("SET CONSTRAINTS ALL IMMEDIATE", [])
        raw("ALTER TABLE ledger_ledgerentry DISABLE TRIGGER ledger_ledgerentry_immutable", [])
    else:
        raw("DROP TRIGGER ledger_ledgerentry_immutable", [])
    yield


def test_a_healthy_ledger_passes_every_check(books: dict) -> None:
    output = reconcile()
    assert "FAIL" not in output
    assert f"All {len(reconciliation_checks())} checks passed" in output
    assert all(result.ok for result in reconciliation_run())


def test_an_empty_ledger_passes() -> None:
    assert f"All {len(reconciliation_checks())} checks passed" in reconcile()


def test_a_tampered_balance_fails_and_names_the_account(books: dict) -> None:
    # given the shop's balance raised by one fen behind the ledger's back
    shop = books["shop"]
    raw("UPDATE ledger_ledgeraccount SET balance = balance + 1 WHERE id = %s", [shop.pk])

    # when reconciling
    output = reconcile_failing()

    # then the failing checks and the account, expected and actual are shown
    assert "ledger.account_balances" in output and "FAIL" in output
    assert f"account #{shop.pk} shop_payable shop:7 CNY" in output
    assert "45.00 CNY" in output and "45.01 CNY" in output
    failed = {r.name for r in reconciliation_run() if not r.ok}
    assert failed == {"ledger.account_balances", "ledger.books_balanced"}


def test_a_tampered_entry_fails_and_names_the_account(books: dict, unguarded_entries: None) -> None:
    # given one entry of the buyer's payment changed by raw SQL
    entry = LedgerEntry.objects.get(account=books["buyer"], transaction__reference="order:7:pay")
    raw("UPDATE ledger_ledgerentry SET amount = amount - 1 WHERE id = %s", [entry.pk])

    # when reconciling
    output = reconcile_failing()

    # then the transaction no longer sums to zero and the buyer's balance disagrees
    assert f"transaction #{entry.transaction_id} CNY" in output
    assert f"account #{books['buyer'].pk} user_wallet user:{books['buyer'].owner_id} CNY" in output
    failed = {r.name for r in reconciliation_run() if not r.ok}
    assert failed == {
        "ledger.transactions_balanced",
        "ledger.account_balances",
        "ledger.running_balances",
    }


def test_a_tampered_entry_currency_is_found(books: dict, unguarded_entries: None) -> None:
    entry = LedgerEntry.objects.filter(account=books["shop"]).get()
    raw("UPDATE ledger_ledgerentry SET currency = 'USD' WHERE id = %s", [entry.pk])
    failed = {r.name for r in reconciliation_run() if not r.ok}
    assert "ledger.entry_currency" in failed


def test_exit_status_is_non_zero_on_the_command_line(books: dict, capsys) -> None:  # type: ignore[no-untyped-def]
    from yaji.ledger.management.commands.reconcile import Command

    raw("UPDATE ledger_ledgeraccount SET balance = balance + 1 WHERE id = %s", [books["shop"].pk])
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["yaji", "reconcile"])
    assert exited.value.code == 1
    assert "reconciliation failed" in capsys.readouterr().err


def test_later_apps_register_their_own_checks() -> None:
    # given a check a later app registers explicitly (escrow vs unsettled orders, say)
    def escrow_matches_orders(progress) -> list[Discrepancy]:  # type: ignore[no-untyped-def]
        progress.start(1)
        progress.advance(1)
        return [Discrepancy(subject="order #5", expected="in escrow", actual="missing")]

    def crashes(progress) -> list[Discrepancy]:  # type: ignore[no-untyped-def]
        raise RuntimeError("provider statement unavailable")

    reconciliation_check_register(
        name="test.escrow", description="escrow", run=escrow_matches_orders
    )
    reconciliation_check_register(name="test.crash", description="crash", run=crashes)
    try:
        # then it appears in the list and its failure (and a crash) fail the run
        assert "test.escrow" in reconcile("--list")
        output = reconcile_failing()
        assert "order #5" in output and "missing" in output
        assert "provider statement unavailable" in output
        # and one check can be run alone
        assert "All 1 checks passed" in reconcile("--check", "ledger.books_balanced")
    finally:
        reconciliation_check_unregister(name="test.escrow")
        reconciliation_check_unregister(name="test.crash")


def test_an_unknown_check_name_is_an_error() -> None:
    with pytest.raises(CommandError, match="unknown check"):
        reconcile("--check", "nope")
