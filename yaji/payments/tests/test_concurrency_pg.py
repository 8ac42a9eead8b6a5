"""Real concurrency on PostgreSQL: many deliveries of one notification at once → one posting."""

from __future__ import annotations

import threading
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from yaji.ledger.models import LedgerTransaction
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.models import IntentStatus, ProviderNotification
from yaji.payments.providers.sandbox import sandbox_sign
from yaji.payments.services import payment_notification_receive, wallet_topup_create
from yaji.payments.tests.factories import UserFactory, notification

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_threads_delivering_the_same_success_post_once() -> None:
    # given an intent and one signed success notification
    intent = wallet_topup_create(user=UserFactory(), amount_fen=9900)
    body = notification(intent, event_id="evt_race")
    headers = sandbox_sign(body)
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def deliver() -> None:
        try:
            barrier.wait()
            result = payment_notification_receive(provider="sandbox", headers=headers, body=body)
            outcome = result.outcome
        except Exception as exc:  # recorded and asserted on, never swallowed silently
            outcome = "crash:" + type(exc).__name__
        finally:
            connection.close()
        with lock:
            outcomes[outcome] += 1

    # when twenty deliveries race
    threads = [threading.Thread(target=deliver) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then exactly one applied it, the rest saw a duplicate, and money moved once
    assert outcomes == Counter({"succeeded": 1, "duplicate": THREADS - 1})
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    assert LedgerTransaction.objects.filter(reference=f"payment:{intent.id}").count() == 1
    assert ProviderNotification.objects.count() == 1
    assert user_wallet_balance(intent.payer).amount == 9900
    call_command("reconcile", stdout=StringIO(), stderr=StringIO())


def test_twenty_threads_with_distinct_event_ids_post_once() -> None:
    # duplicates a provider re-sent under new event ids: the intent's row lock decides
    intent = wallet_topup_create(user=UserFactory(), amount_fen=500)
    bodies = [notification(intent, event_id=f"evt_{i}") for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def deliver(i: int) -> None:
        try:
            barrier.wait()
            body = bodies[i]
            outcome = payment_notification_receive(
                provider="sandbox", headers=sandbox_sign(body), body=body
            ).outcome
        except Exception as exc:
            outcome = "crash:" + type(exc).__name__
        finally:
            connection.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert outcomes == Counter({"succeeded": 1, "already_succeeded": THREADS - 1})
    assert LedgerTransaction.objects.filter(reference=f"payment:{intent.id}").count() == 1
    assert user_wallet_balance(intent.payer).amount == 500
