"""Real concurrency on PostgreSQL: refunds racing for one paid intent never exceed what was paid."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.models import IntentStatus, PaymentIntent, Refund, RefundStatus, SandboxRefund
from yaji.payments.refunds import refund_create
from yaji.payments.services import checkout_intent_create, wallet_topup_create
from yaji.payments.tests.factories import UserFactory, relay_all
from yaji.payments.tests.withdrawal_factories import fund
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 20


def paid_topup(amount_fen: int) -> PaymentIntent:
    intent = wallet_topup_create(user=UserFactory(), amount_fen=amount_fen)
    Client().post(intent.pay_url, {"action": "pay"})
    relay_all()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    return intent


def test_twenty_refunds_of_thirty_percent_only_three_pass() -> None:
    # given a paid top-up of ¥100
    intent = paid_topup(10_000)

    # when twenty refunds of ¥30 race
    outcomes = race(THREADS, lambda _i: refund_create(intent=intent, amount_fen=3000))

    # then three are accepted, the others refused, and nothing exceeds what was paid
    assert outcomes == Counter({"ok": 3, "refund_exceeds_paid": THREADS - 3})
    intent.refresh_from_db()
    assert intent.refunded_fen == 9000
    assert Refund.objects.aggregate(total=Sum("amount_fen"))["total"] == 9000
    assert user_wallet_balance(intent.payer).amount == 1000
    relay_all()
    assert set(Refund.objects.values_list("status", flat=True)) == {RefundStatus.SUCCEEDED}
    assert SandboxRefund.objects.aggregate(total=Sum("amount_fen"))["total"] == 9000
    call_command("reconcile", stdout=StringIO(), stderr=StringIO())


def test_twenty_mixed_refunds_of_a_split_checkout_stay_within_the_paid_amount() -> None:
    # given a ¥50 checkout: ¥20 from the wallet, ¥30 through the sandbox
    user = UserFactory()
    fund(user, 2000)
    intent = checkout_intent_create(payer=user, amount_fen=5000, wallet_amount_fen=2000)
    Client().post(intent.pay_url, {"action": "pay"})
    relay_all()

    # when twenty refunds of 1 to 20 yuan race (210 yuan asked in total)
    outcomes = race(THREADS, lambda i: refund_create(intent=intent, amount_fen=(i + 1) * 100))

    # then what was accepted never exceeds ¥50, and each part stays within its method
    assert set(outcomes) <= {"ok", "refund_exceeds_paid"}
    intent.refresh_from_db()
    total = Refund.objects.aggregate(total=Sum("amount_fen"))["total"]
    assert total == intent.refunded_fen <= 5000
    parts = Refund.objects.aggregate(p=Sum("provider_amount_fen"), w=Sum("wallet_amount_fen"))
    assert parts["p"] <= 3000 and parts["w"] <= 2000
    relay_all()
    assert user_wallet_balance(user).amount == parts["w"]
    call_command("reconcile", stdout=StringIO(), stderr=StringIO())
