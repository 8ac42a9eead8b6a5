"""``ledger_transfer_part`` (one statement, PostgreSQL) against ``ledger_transfer`` (the ORM
path, the reference): the same rows, the same refusals, the same invariants under concurrency."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from yaji.accounts.tests.factories import UserFactory
from yaji.core.models import OutboxEvent
from yaji.core.sqlparts import SqlPart, sql_parts_execute
from yaji.ledger.errors import InsufficientFunds, InvalidPostings
from yaji.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from yaji.ledger.reconciliation import reconciliation_checks, reconciliation_run
from yaji.ledger.services import ledger_transfer, ledger_transfer_part, wallet_account_for_user
from yaji.ledger.tests.factories import cny, reference, top_up
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _wallet(balance: int) -> LedgerAccount:
    account = wallet_account_for_user(user=UserFactory())
    if balance:
        top_up(account, cny(balance))
    account.refresh_from_db()
    return account


def _part(source: LedgerAccount, destination: LedgerAccount, fen: int, ref: str):  # type: ignore[no-untyped-def]
    with transaction.atomic(), connection.cursor() as cursor:
        (tx_id,) = sql_parts_execute(
            cursor,
            [
                ledger_transfer_part(
                    source=source,
                    destination=destination,
                    amount=cny(fen),
                    reference=ref,
                    kind="test.transfer",
                    description="part",
                    metadata={"why": "test"},
                )
            ],
        )
    return tx_id


def _written(tx: LedgerTransaction) -> dict:
    event = OutboxEvent.objects.get(topic="ledger.transaction_posted", key=str(tx.pk))
    return {
        "tx": (tx.kind, tx.description, tx.metadata, tx.fingerprint),
        "entries": [
            (e.account_id, e.amount, e.currency, e.balance_after)
            for e in LedgerEntry.objects.filter(transaction=tx).order_by("id")
        ],
        "event": (event.status, event.attempts, event.payload, event.last_error),
    }


def _ledger_ok() -> None:
    names = [c.name for c in reconciliation_checks() if c.name.startswith("ledger.")]
    bad = [(r.name, r.discrepancies) for r in reconciliation_run(names=names) if not r.ok]
    assert not bad, bad


def test_writes_what_the_orm_path_writes() -> None:
    source, destination = _wallet(1_000), _wallet(50)
    ref = reference("part")
    tx_id = _part(source, destination, 300, ref)
    assert tx_id is not None
    by_part = _written(LedgerTransaction.objects.get(pk=tx_id))

    # The ORM path over the same accounts again (balances now 700 / 350).
    orm_ref = reference("orm")
    orm_tx = ledger_transfer(
        source=source,
        destination=destination,
        amount=cny(300),
        reference=orm_ref,
        kind="test.transfer",
        description="part",
        metadata={"why": "test"},
    )
    by_orm = _written(orm_tx)
    assert by_part["tx"] == by_orm["tx"]  # the fingerprint too: same kind, same postings
    assert by_part["entries"] == [(source.pk, -300, "CNY", 700), (destination.pk, 300, "CNY", 350)]
    assert by_orm["entries"] == [(source.pk, -300, "CNY", 400), (destination.pk, 300, "CNY", 650)]
    assert by_part["event"][2] == {
        "transaction_id": tx_id,
        "kind": "test.transfer",
        "reference": ref,
    }
    assert by_part["event"][:2] == by_orm["event"][:2] and by_part["event"][3] == ""
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, destination.balance) == (400, 650)
    _ledger_ok()


def test_refusals_write_nothing_and_the_orm_path_says_why() -> None:
    source, destination = _wallet(100), _wallet(0)
    before = (
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        OutboxEvent.objects.count(),
    )
    assert _part(source, destination, 101, reference("over")) is None  # guarded wallet
    taken = reference("taken")
    ledger_transfer(
        source=source,
        destination=destination,
        amount=cny(10),
        reference=taken,
        kind="test.transfer",
    )
    after_orm = (LedgerTransaction.objects.count(), LedgerEntry.objects.count())
    assert _part(source, destination, 10, taken) is None  # reference already posted
    assert (LedgerTransaction.objects.count(), LedgerEntry.objects.count()) == after_orm
    assert after_orm == (before[0] + 1, before[1] + 2)
    with pytest.raises(InsufficientFunds):
        ledger_transfer(
            source=source,
            destination=destination,
            amount=cny(101),
            reference=reference("over"),
            kind="test.transfer",
        )
    with pytest.raises(InvalidPostings):
        _part(source, source, 1, reference("same"))
    with pytest.raises(InvalidPostings):
        ledger_transfer_part(
            source=source, destination=destination, amount=cny(0), reference="r", kind="k"
        )
    _ledger_ok()


def test_runs_with_other_parts_in_one_statement() -> None:
    source, destination = _wallet(500), _wallet(0)
    with transaction.atomic(), connection.cursor() as cursor:
        values = sql_parts_execute(
            cursor,
            [
                SqlPart("SELECT 41 + 1", (), returns=True),
                ledger_transfer_part(
                    source=source,
                    destination=destination,
                    amount=cny(5),
                    reference=reference("mix"),
                    kind="test.transfer",
                ),
            ],
        )
    assert values[0] == 42 and values[1] is not None
    _ledger_ok()


def test_concurrent_parts_never_overdraw() -> None:
    """30 transfers of 10 fen each from one wallet holding 200, all at once: 20 go through, the
    wallet ends at 0, each entry's running balance is real, the books reconcile."""
    source = _wallet(200)
    destinations = [_wallet(0) for _ in range(30)]

    def work(i: int) -> object:
        try:
            tx_id = _part(source, destinations[i], 10, f"race:{source.pk}:{i}")
            if tx_id is None:
                raise InsufficientFunds()
            return tx_id
        finally:
            connection.close()

    outcomes = race(30, work)
    assert outcomes == {"ok": 20, "insufficient_funds": 10}, outcomes
    source.refresh_from_db()
    assert source.balance == 0
    _ledger_ok()
