"""Real concurrency on PostgreSQL: threads, real transactions, row locks, deadlock detection."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection

from yaji.accounts.tests.factories import UserFactory
from yaji.core.errors import ApplicationError
from yaji.ledger.models import LedgerAccount, LedgerTransaction
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.services import ledger_transfer, wallet_account_for_user
from yaji.ledger.tests.factories import cny, wallet
from yaji.testing.races import RACE_CONNECTIONS

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 50
TRANSFERS_EACH = 10
SEED = 10_000


def race(n: int, work: Callable[[int], Counter]) -> Counter:
    """Run ``work`` in ``n`` threads released together; sum their outcome counters."""
    barrier = threading.Barrier(n)
    total: Counter = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        outcomes: Counter = Counter()
        try:
            barrier.wait()
            with RACE_CONNECTIONS:  # the suite's shared budget of PostgreSQL connections
                outcomes = work(i)
        except Exception as exc:  # recorded and asserted on, never swallowed silently
            outcomes["crash:" + type(exc).__name__] += 1
        finally:
            connection.close()  # each thread has its own connection; leaking them exhausts PG
        with lock:
            total.update(outcomes)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return total


def test_fifty_threads_of_random_transfers_conserve_money_without_deadlocks() -> None:
    # given five wallets with 100 yuan each
    wallets = [wallet(balance=SEED) for _ in range(5)]
    ids = [w.pk for w in wallets]
    seeded = LedgerTransaction.objects.count()

    def transfers(thread: int) -> Counter:
        rng = random.Random(thread)
        outcomes: Counter = Counter()
        for n in range(TRANSFERS_EACH):
            src, dst = rng.sample(ids, 2)
            if thread % 2:
                # half the threads send along the "reverse" pair order, so without a fixed lock
                # order A->B and B->A would take their locks crosswise and deadlock
                src, dst = max(src, dst), min(src, dst)
            else:
                src, dst = min(src, dst), max(src, dst)
            try:
                ledger_transfer(
                    source=LedgerAccount(pk=src, currency="CNY"),
                    destination=LedgerAccount(pk=dst, currency="CNY"),
                    amount=cny(rng.randint(1, 4_000)),
                    reference=f"race:{thread}:{n}",
                    kind="test.race",
                )
                outcomes["ok"] += 1
            except ApplicationError as exc:
                outcomes[exc.code] += 1
            except OperationalError as exc:  # "deadlock detected" would land here
                outcomes["db:" + type(exc.__cause__).__name__] += 1
        return outcomes

    # when 50 threads transfer among them at once
    outcomes = race(THREADS, transfers)

    # then every attempt either succeeded or was refused for funds; no deadlock, no crash
    assert set(outcomes) <= {"ok", "insufficient_funds"}, outcomes
    assert outcomes["ok"] + outcomes["insufficient_funds"] == THREADS * TRANSFERS_EACH
    assert outcomes["ok"] > 0
    # and money was conserved, nobody went negative, each success is one transaction
    balances = list(LedgerAccount.objects.filter(pk__in=ids).values_list("balance", flat=True))
    assert sum(balances) == 5 * SEED
    assert min(balances) >= 0
    assert LedgerTransaction.objects.count() - seeded == outcomes["ok"]
    assert [r.name for r in reconciliation_run() if not r.ok] == []


def test_one_reference_posted_by_twenty_threads_moves_money_once() -> None:
    # given a funded wallet
    source, destination = wallet(balance=SEED), wallet()

    def pay(thread: int) -> Counter:
        ledger_transfer(
            source=source, destination=destination, amount=cny(700), reference="order:1", kind="t"
        )
        return Counter(ok=1)

    # when a retried event is posted by 20 workers at once
    outcomes = race(20, pay)

    # then all see success (replays) but the money moved once
    assert outcomes == Counter(ok=20)
    assert LedgerTransaction.objects.filter(reference="order:1").count() == 1
    assert LedgerAccount.objects.get(pk=destination.pk).balance == 700


def test_conflicting_postings_of_one_reference_over_disjoint_accounts() -> None:
    # given two unrelated pairs of accounts (no shared lock serialises them)
    pairs = [(wallet(balance=SEED), wallet()) for _ in range(2)]

    def pay(thread: int) -> Counter:
        source, destination = pairs[thread % 2]
        try:
            ledger_transfer(
                source=source, destination=destination, amount=cny(100), reference="dup", kind="t"
            )
            return Counter(ok=1)
        except ApplicationError as exc:
            return Counter({exc.code: 1})

    # when both post the same reference concurrently, ten times each
    outcomes = race(20, pay)

    # then the unique reference lets one posting through; the other side gets a conflict
    assert LedgerTransaction.objects.filter(reference="dup").count() == 1
    assert outcomes["ok"] == 10 and outcomes["ledger_reference_conflict"] == 10, outcomes


def test_twenty_threads_opening_one_wallet_get_one_account() -> None:
    user = UserFactory()
    opened: list[int] = []

    def open_wallet(thread: int) -> Counter:
        opened.append(wallet_account_for_user(user=user).pk)
        return Counter(ok=1)

    assert race(20, open_wallet) == Counter(ok=20)
    assert len(set(opened)) == 1
    assert LedgerAccount.objects.filter(owner=user).count() == 1
