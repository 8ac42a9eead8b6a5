"""ledger_post / ledger_transfer: balanced, guarded, idempotent, all or nothing."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yaji.core.errors import InvalidCurrency
from yaji.core.models import OutboxEvent
from yaji.core.money import Money
from yaji.ledger.errors import (
    InsufficientFunds,
    InvalidPostings,
    LedgerReferenceConflict,
    UnbalancedPostings,
)
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from yaji.ledger.services import (
    TOPIC_TRANSACTION_POSTED,
    Posting,
    account_for,
    ledger_post,
    ledger_transfer,
    system_account,
    wallet_account_for_user,
)
from yaji.ledger.tests.factories import cny, provider, shop_payable, top_up, wallet

pytestmark = pytest.mark.django_db


def balances(*accounts: LedgerAccount) -> list[int]:
    return [LedgerAccount.objects.get(pk=a.pk).balance for a in accounts]


def ledger_rows() -> tuple[int, int, int]:
    return (
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        OutboxEvent.objects.filter(topic=TOPIC_TRANSACTION_POSTED).count(),
    )


# --- happy path -------------------------------------------------------------------------------


def test_a_split_payment_posts_balanced_entries_and_moves_balances() -> None:
    # given a buyer with 100 yuan, a shop and the platform's revenue account
    buyer = wallet(balance=10_000)
    shop = shop_payable(12)
    revenue = system_account(kind=AccountKind.PLATFORM_REVENUE)

    # when the buyer pays 80 yuan, 10 % of it commission
    tx = ledger_post(
        kind="order.pay",
        postings=[
            Posting(buyer, cny(-8_000)),
            Posting(shop, cny(7_200)),
            Posting(revenue, cny(800)),
        ],
        reference="order:1:pay",
        description="订单 1",
        metadata={"order_id": 1},
    )

    # then the entries sum to zero, the balances moved and each entry records its balance after
    entries = list(tx.entries.order_by("id"))
    assert [e.amount for e in entries] == [-8_000, 7_200, 800]
    assert sum(e.amount for e in entries) == 0
    assert [e.balance_after for e in entries] == [2_000, 7_200, 800]
    assert balances(buyer, shop, revenue) == [2_000, 7_200, 800]
    # and the caller's objects are refreshed, not stale
    assert (buyer.balance, shop.balance, revenue.balance) == (2_000, 7_200, 800)
    assert tx.metadata == {"order_id": 1}
    assert tx.kind == "order.pay" and tx.reference == "order:1:pay"


def test_provider_clearing_mirrors_external_money_and_may_go_negative() -> None:
    # given an empty wallet
    account = wallet()

    # when 50 yuan are topped up through the provider
    top_up(account, cny(5_000))

    # then the provider clearing account holds the mirror image
    assert balances(account, provider()) == [5_000, -5_000]
    assert provider().allow_negative and not account.allow_negative


def test_a_posting_publishes_an_outbox_event_in_the_same_transaction() -> None:
    # given a funded wallet
    source = wallet(balance=500)
    before = OutboxEvent.objects.filter(topic=TOPIC_TRANSACTION_POSTED).count()

    # when it transfers money
    tx = ledger_transfer(
        source=source, destination=wallet(), amount=cny(100), reference="r:1", kind="test.move"
    )

    # then one event names the transaction
    events = OutboxEvent.objects.filter(topic=TOPIC_TRANSACTION_POSTED).order_by("created_at")
    assert events.count() == before + 1
    assert events.last().payload == {
        "transaction_id": tx.pk,
        "kind": "test.move",
        "reference": "r:1",
    }


def test_mixed_currencies_balance_per_currency() -> None:
    # given wallets in two currencies, and an FX account per currency
    cny_wallet = wallet(balance=10_000)
    usd_wallet = wallet(currency="USD")
    fx_cny = system_account(kind=AccountKind.PROVIDER_CLEARING, currency="CNY")
    fx_usd = system_account(kind=AccountKind.PROVIDER_CLEARING, currency="USD")

    # when 72 yuan become 10 dollars, each currency balanced on its own
    ledger_post(
        kind="fx.convert",
        postings=[
            Posting(cny_wallet, cny(-7_200)),
            Posting(fx_cny, cny(7_200)),
            Posting(fx_usd, Money(-1_000, "USD")),
            Posting(usd_wallet, Money(1_000, "USD")),
        ],
        reference="fx:1",
    )

    # then both sides moved
    assert balances(cny_wallet, usd_wallet) == [2_800, 1_000]


def test_locks_are_taken_in_primary_key_order() -> None:
    # given two accounts, the later one named first
    first, second = wallet(balance=100), wallet(balance=100)

    # when money moves from the higher to the lower primary key
    with CaptureQueriesContext(connection) as queries:
        ledger_transfer(source=second, destination=first, amount=cny(1), reference="r:o", kind="t")

    # then the accounts are read (locked, on PostgreSQL) ordered by primary key
    select = next(q["sql"] for q in queries if 'FROM "ledger_ledgeraccount"' in q["sql"])
    assert 'ORDER BY "ledger_ledgeraccount"."id" ASC' in select
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in select


# --- refused postings write nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("amounts", "error"),
    [
        ([-100, 99], UnbalancedPostings),
        ([-100, 100, 0], InvalidPostings),
        ([100], InvalidPostings),
    ],
    ids=["unbalanced", "zero-posting", "single-posting"],
)
def test_invalid_postings_are_rejected_with_nothing_written(amounts, error) -> None:  # type: ignore[no-untyped-def]
    # given funded accounts
    accounts = [wallet(balance=1_000), wallet(balance=1_000), wallet(balance=1_000)]
    rows = ledger_rows()

    # when the postings break a bookkeeping rule
    with pytest.raises(error) as raised:
        ledger_post(
            kind="test.bad",
            postings=[Posting(a, cny(x)) for a, x in zip(accounts, amounts, strict=False)],
            reference="bad:1",
        )

    # then nothing was written and no balance moved
    assert ledger_rows() == rows
    assert balances(*accounts) == [1_000, 1_000, 1_000]
    assert raised.value.code in {"ledger_unbalanced", "ledger_invalid_postings"}


def test_unbalanced_error_reports_the_totals() -> None:
    with pytest.raises(UnbalancedPostings) as raised:
        ledger_post(
            kind="t",
            postings=[Posting(wallet(balance=10), cny(-10)), Posting(wallet(), cny(9))],
            reference="u:1",
        )
    assert raised.value.code == "ledger_unbalanced"
    assert raised.value.status == 422
    assert raised.value.extra == {"totals": {"CNY": -1}}


def test_a_posting_in_another_currency_than_its_account_is_rejected() -> None:
    usd = wallet(currency="USD")
    with pytest.raises(InvalidPostings) as raised:
        ledger_post(
            kind="t",
            postings=[Posting(wallet(balance=10), cny(-10)), Posting(usd, cny(10))],
            reference="c:1",
        )
    assert raised.value.extra["reason"] == "posting currency differs from the account's"


def test_the_same_account_twice_is_rejected() -> None:
    account, other = wallet(balance=100), wallet()
    with pytest.raises(InvalidPostings):
        ledger_post(
            kind="t",
            postings=[
                Posting(account, cny(-10)),
                Posting(account, cny(-5)),
                Posting(other, cny(15)),
            ],
            reference="d:1",
        )


def test_insufficient_funds_leaves_every_balance_untouched() -> None:
    # given a wallet with 30 yuan and a second payer with plenty
    poor, rich, shop = wallet(balance=3_000), wallet(balance=100_000), shop_payable(1)
    rows = ledger_rows()

    # when both pay into the shop, the poor one more than it has
    with pytest.raises(InsufficientFunds) as raised:
        ledger_post(
            kind="order.pay",
            postings=[
                Posting(rich, cny(-5_000)),
                Posting(poor, cny(-3_001)),
                Posting(shop, cny(8_001)),
            ],
            reference="order:2:pay",
        )

    # then the error says which account and by how much; nothing was written
    assert raised.value.code == "insufficient_funds"
    assert raised.value.status == 409
    assert raised.value.extra == {
        "account_id": poor.pk,
        "currency": "CNY",
        "available": 3_000,
        "requested": 3_001,
    }
    assert ledger_rows() == rows
    assert balances(poor, rich, shop) == [3_000, 100_000, 0]


def test_insufficient_funds_inside_a_business_transaction_leaves_it_usable() -> None:
    # given a business service's own transaction that already wrote something
    source = wallet(balance=100)
    with transaction.atomic():
        kept = ledger_transfer(
            source=source, destination=wallet(), amount=cny(60), reference="keep", kind="t"
        )
        # when a second posting in it is refused
        with pytest.raises(InsufficientFunds):
            ledger_transfer(
                source=source, destination=wallet(), amount=cny(41), reference="nope", kind="t"
            )
        # then the outer transaction still works and keeps the first posting
        assert LedgerTransaction.objects.filter(pk=kept.pk).exists()
    assert balances(source) == [40]
    assert not LedgerTransaction.objects.filter(reference="nope").exists()


def test_a_transfer_must_be_positive_and_between_two_accounts() -> None:
    account = wallet(balance=100)
    with pytest.raises(InvalidPostings):
        ledger_transfer(
            source=account, destination=wallet(), amount=cny(0), reference="z", kind="t"
        )
    with pytest.raises(InvalidPostings):
        ledger_transfer(
            source=account, destination=wallet(), amount=cny(-5), reference="n", kind="t"
        )
    with pytest.raises(InvalidPostings):
        ledger_transfer(source=account, destination=account, amount=cny(5), reference="s", kind="t")


# --- idempotency by reference -----------------------------------------------------------------


def test_repeating_a_reference_with_the_same_postings_returns_the_first_transaction() -> None:
    # given a transfer that was posted
    source, destination = wallet(balance=1_000), wallet()
    first = ledger_transfer(
        source=source, destination=destination, amount=cny(300), reference="pay:9", kind="t"
    )
    rows = ledger_rows()

    # when the same business event is posted again (a retried task, a replayed webhook)
    again = ledger_transfer(
        source=source, destination=destination, amount=cny(300), reference="pay:9", kind="t"
    )

    # then the stored transaction comes back; nothing moved twice, no second event
    assert again.pk == first.pk
    assert ledger_rows() == rows
    assert balances(source, destination) == [700, 300]


def test_a_replay_is_recognised_even_when_the_source_is_now_short() -> None:
    source, destination = wallet(balance=300), wallet()
    first = ledger_transfer(
        source=source, destination=destination, amount=cny(300), reference="pay:10", kind="t"
    )
    again = ledger_transfer(
        source=source, destination=destination, amount=cny(300), reference="pay:10", kind="t"
    )
    assert again.pk == first.pk


def test_reusing_a_reference_for_different_postings_is_a_conflict() -> None:
    # given a posted transfer
    source, destination = wallet(balance=1_000), wallet()
    ledger_transfer(
        source=source, destination=destination, amount=cny(300), reference="pay:11", kind="t"
    )
    rows = ledger_rows()

    # when the reference is reused for another amount
    with pytest.raises(LedgerReferenceConflict) as raised:
        ledger_transfer(
            source=source, destination=destination, amount=cny(301), reference="pay:11", kind="t"
        )

    # then it is refused with a stable code and nothing is written
    assert raised.value.code == "ledger_reference_conflict"
    assert raised.value.status == 409
    assert ledger_rows() == rows
    assert balances(source, destination) == [700, 300]


def test_posting_order_does_not_matter_for_a_replay() -> None:
    a, b, c = wallet(balance=1_000), wallet(), wallet()
    first = ledger_post(
        kind="t",
        postings=[Posting(a, cny(-10)), Posting(b, cny(4)), Posting(c, cny(6))],
        reference="x",
    )
    again = ledger_post(
        kind="t",
        postings=[Posting(c, cny(6)), Posting(a, cny(-10)), Posting(b, cny(4))],
        reference="x",
    )
    assert again.pk == first.pk


# --- accounts ---------------------------------------------------------------------------------


def test_account_for_returns_one_account_per_kind_owner_and_currency() -> None:
    # given a user
    user = wallet().owner

    # when their wallet is asked for again, and in another currency
    again = wallet_account_for_user(user=user)
    usd = wallet_account_for_user(user=user, currency="USD")

    # then the same CNY account comes back and USD is a separate one
    assert again.pk == wallet_account_for_user(user=user).pk
    assert usd.pk != again.pk
    assert system_account(kind=AccountKind.ESCROW).pk == system_account(kind=AccountKind.ESCROW).pk
    assert shop_payable(3).pk == shop_payable(3).pk != shop_payable(4).pk
    assert LedgerAccount.objects.filter(kind=AccountKind.ESCROW).count() == 1


def test_account_policies_follow_the_kind() -> None:
    assert not system_account(kind=AccountKind.ESCROW).allow_negative
    assert system_account(kind=AccountKind.PLATFORM_EXPENSE).allow_negative
    with pytest.raises(ValueError, match="needs an owner"):
        account_for(kind=AccountKind.USER_WALLET)
    with pytest.raises(ValueError, match="not a system account"):
        system_account(kind=AccountKind.USER_WALLET)
    with pytest.raises(ValueError, match="unknown"):
        account_for(kind="piggy_bank")
    with pytest.raises(InvalidCurrency):
        system_account(kind=AccountKind.ESCROW, currency="XXX")


def test_guarded_accounts_cannot_be_overdrawn_but_clearing_can() -> None:
    # given an empty escrow account and the provider's clearing account
    escrow = system_account(kind=AccountKind.ESCROW)

    # then escrow cannot pay out what it does not hold
    with pytest.raises(InsufficientFunds):
        ledger_transfer(source=escrow, destination=wallet(), amount=cny(1), reference="e", kind="t")
    # and clearing can (money arriving from outside)
    ledger_transfer(source=provider(), destination=escrow, amount=cny(1), reference="p", kind="t")
    assert balances(escrow) == [1]


def test_an_account_that_does_not_exist_is_rejected() -> None:
    ghost = LedgerAccount(pk=987_654, kind=AccountKind.ESCROW, currency="CNY")
    with pytest.raises(InvalidPostings):
        ledger_transfer(
            source=wallet(balance=5), destination=ghost, amount=cny(5), reference="g", kind="t"
        )


def test_metadata_must_be_json() -> None:
    with pytest.raises(InvalidPostings):
        ledger_transfer(
            source=wallet(balance=5),
            destination=wallet(),
            amount=cny(5),
            reference="m",
            kind="t",
            metadata={"x": object()},
        )
