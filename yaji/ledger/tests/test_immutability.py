"""Posted history cannot be rewritten: not through the ORM, not by raw SQL. And the database
itself, not only the service, refuses a negative balance on a guarded account."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from yaji.ledger.errors import LedgerImmutable
from yaji.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from yaji.ledger.tests.factories import cny, top_up, wallet

pytestmark = pytest.mark.django_db


def raw(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def posted() -> LedgerTransaction:
    return top_up(wallet(), cny(1_000))


def test_orm_refuses_to_change_or_delete_an_entry(posted: LedgerTransaction) -> None:
    entry = posted.entries.get(amount__gt=0)
    entry.amount = 1

    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    # bulk_update runs in its own atomic block, which our refusal marks for rollback
    with pytest.raises(LedgerImmutable), transaction.atomic():
        LedgerEntry.objects.bulk_update([entry], ["amount"])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 1_000


def test_orm_refuses_to_change_or_delete_a_transaction(posted: LedgerTransaction) -> None:
    posted.description = "rewritten"
    with pytest.raises(LedgerImmutable):
        posted.save()
    with pytest.raises(LedgerImmutable):
        posted.delete()
    with pytest.raises(LedgerImmutable):
        LedgerTransaction.objects.all().update(description="x")


@pytest.mark.parametrize("table", ["ledger_ledgerentry", "ledger_ledgertransaction"])
def test_the_database_refuses_a_raw_update(posted: LedgerTransaction, table: str) -> None:
    column = "amount = amount + 1" if table == "ledger_ledgerentry" else "kind = 'x'"
    sql = f"UPDATE {table} SET {column}"  # noqa: S608 - fixed identifiers
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        raw(sql)


@pytest.mark.postgres_only
def test_postgres_refuses_a_raw_delete(posted: LedgerTransaction) -> None:
    # SQLite guards deletes in the ORM only (see migration 0002 for why).
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        raw("DELETE FROM ledger_ledgerentry")
    assert LedgerEntry.objects.filter(transaction=posted).count() == 2


def test_the_check_constraint_refuses_a_negative_wallet_written_by_raw_sql() -> None:
    # given a funded wallet
    account = wallet(balance=500)

    # when something bypasses the service and writes a negative balance directly
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgeraccount SET balance = -1 WHERE id = %s", [account.pk])

    # then the database refused it
    assert LedgerAccount.objects.get(pk=account.pk).balance == 500


def test_the_check_constraint_allows_negative_clearing_accounts() -> None:
    posted = top_up(wallet(), cny(100))
    clearing = posted.entries.get(amount__lt=0).account
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgeraccount SET balance = -5 WHERE id = %s", [clearing.pk])
    assert LedgerAccount.objects.get(pk=clearing.pk).balance == -5
