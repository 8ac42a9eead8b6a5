"""Real concurrency on PostgreSQL: twenty withdrawals racing for one wallet."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.models import Withdrawal
from yaji.payments.tests.factories import relay_all
from yaji.payments.tests.withdrawal_factories import OK_CARD, REAL_NAME, fund, verified_user
from yaji.payments.withdrawals import bank_card_add, withdrawal_request
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_withdrawals_of_sixty_percent_exactly_one_succeeds() -> None:
    # given a wallet of ¥1,000 and a card
    user = verified_user()
    fund(user, 100_000)
    card = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)

    # when twenty withdrawals of ¥600 race
    outcomes = race(
        THREADS,
        lambda _i: withdrawal_request(user=user, card_id=card.pk, amount_fen=60_000),
    )

    # then exactly one holds the money, the others are refused and wrote nothing
    assert outcomes == Counter({"ok": 1, "insufficient_funds": THREADS - 1})
    assert Withdrawal.objects.count() == 1
    assert user_wallet_balance(user).amount == 40_000
    assert not LedgerAccount.objects.filter(balance__lt=0, allow_negative=False).exists()
    relay_all()
    assert Withdrawal.objects.get().status == "paid"
    assert LedgerAccount.objects.get(kind=AccountKind.PAYOUT_CLEARING).balance == 0
    call_command("reconcile", stdout=StringIO(), stderr=StringIO())
