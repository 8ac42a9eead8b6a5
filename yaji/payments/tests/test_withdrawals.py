"""Withdrawals to bank cards: cards, holds, payout callbacks, exactly-once settlement."""

from __future__ import annotations

import time
import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from yaji.core.errors import ApplicationError
from yaji.ledger.models import AccountKind, LedgerTransaction
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.selectors import user_wallet_balance
from yaji.ledger.services import system_account
from yaji.payments.models import BankCard, ProviderNotification, Withdrawal, WithdrawalStatus
from yaji.payments.providers.sandbox import sandbox_sign
from yaji.payments.tests.factories import Api, UserFactory, relay_all
from yaji.payments.tests.withdrawal_factories import (
    FROZEN_CARD,
    OK_CARD,
    REAL_NAME,
    card,
    fund,
    payout_callback,
    verified_user,
)
from yaji.payments.withdrawals import (
    bank_card_add,
    payout_notification_receive,
    withdrawal_request,
)

pytestmark = pytest.mark.django_db

PAYOUT_NOTIFY_PATH = "/api/v1/payments/payout-notify/sandbox_payout"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def clearing_balance() -> int:
    return system_account(kind=AccountKind.PAYOUT_CLEARING).balance


def reconcile_ok() -> None:
    [check] = reconciliation_run(names=["payments.payout_clearing"])
    assert check.ok, check.discrepancies
    call_command("reconcile", stdout=StringIO(), stderr=StringIO())


def deliver(body: bytes) -> Any:
    return payout_notification_receive(
        provider="sandbox_payout", headers=sandbox_sign(body), body=body
    )


def code_of(call: Any) -> str:
    with pytest.raises(ApplicationError) as info:
        call()
    return info.value.code


@pytest.fixture
def user() -> Any:
    user = verified_user()
    fund(user, 100_000)
    return user


@pytest.fixture
def api(user: Any) -> Api:
    return Api(user)


def add_card(api: Api, number: str = OK_CARD, **extra: Any) -> Any:
    return api.post_json(
        "/wallet/cards", {"holder_name": REAL_NAME, "card_number": number, **extra}, key()
    )


# --- happy path and failure ---------------------------------------------------------------------


def test_withdraw_then_success_callback_pays_and_reconciles(user: Any, api: Api) -> None:
    # given a verified user with ¥1,000 and a card
    response = add_card(api, " ".join([OK_CARD[:4], OK_CARD[4:]]))
    assert response.status_code == 201, response.content
    card_out = response.json()
    assert card_out["bank_name"] == "中国工商银行"
    assert card_out["masked_number"] == "**** **** **** 1234" and card_out["last4"] == "1234"

    # when they withdraw ¥300
    response = api.post_json(
        "/wallet/withdrawals", {"card_id": card_out["id"], "amount_fen": 30_000}, key()
    )

    # then the money is held and the payout submitted
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == WithdrawalStatus.PROCESSING and body["provider_reference"]
    assert user_wallet_balance(user).amount == 70_000
    assert clearing_balance() == 30_000
    reconcile_ok()

    # and when the provider's callback arrives it is paid, exactly once
    relay_all()
    withdrawal = Withdrawal.objects.get(pk=body["id"])
    assert withdrawal.status == WithdrawalStatus.PAID and withdrawal.paid_at
    assert LedgerTransaction.objects.filter(reference=f"withdrawal:{withdrawal.id}:paid").exists()
    assert clearing_balance() == 0
    assert user_wallet_balance(user).amount == 70_000
    listed = api.get("/wallet/withdrawals").json()["items"]
    assert [w["status"] for w in listed] == ["paid"]
    reconcile_ok()


def test_failed_payout_returns_the_money(user: Any) -> None:
    frozen = bank_card_add(user=user, holder_name=REAL_NAME, card_number=FROZEN_CARD)
    withdrawal = withdrawal_request(user=user, card_id=frozen.pk, amount_fen=50_000)
    assert user_wallet_balance(user).amount == 50_000

    relay_all()

    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.RETURNED
    assert withdrawal.failure_reason == "account_frozen"
    assert user_wallet_balance(user).amount == 100_000
    assert clearing_balance() == 0
    assert LedgerTransaction.objects.filter(reference=f"withdrawal:{withdrawal.id}:return").exists()
    assert not LedgerTransaction.objects.filter(reference=f"withdrawal:{withdrawal.id}:paid")
    reconcile_ok()


def test_duplicated_callbacks_settle_once(user: Any, settings: Any) -> None:
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 1.0
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    withdrawal = withdrawal_request(user=user, card_id=c.pk, amount_fen=10_000)

    relay_all()

    outcomes = sorted(ProviderNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["duplicate", "paid"] or outcomes == ["paid"]
    # the duplicate row is rolled back with its savepoint: one row, one posting
    assert LedgerTransaction.objects.filter(reference__startswith=f"withdrawal:{withdrawal.id}:")
    assert (
        LedgerTransaction.objects.filter(reference=f"withdrawal:{withdrawal.id}:paid").count() == 1
    )
    body = payout_callback(withdrawal, event_id="pevt_same")
    assert deliver(body).outcome == "already_paid"
    assert deliver(body).outcome == "duplicate"
    assert user_wallet_balance(user).amount == 90_000
    reconcile_ok()


def test_success_after_failure_does_not_pay_twice(user: Any) -> None:
    # the first final callback wins; a late contradicting one only flags the withdrawal
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    withdrawal = withdrawal_request(user=user, card_id=c.pk, amount_fen=20_000)
    withdrawal.refresh_from_db()

    failed = payout_callback(withdrawal, status="failed", failure_reason="bank_timeout")
    assert deliver(failed).outcome == "returned"
    assert deliver(payout_callback(withdrawal)).outcome == "late_success"
    assert deliver(failed).outcome == "duplicate"

    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.RETURNED
    assert withdrawal.flag == "success_after_return"
    assert not LedgerTransaction.objects.filter(reference=f"withdrawal:{withdrawal.id}:paid")
    assert user_wallet_balance(user).amount == 100_000
    assert clearing_balance() == 0
    reconcile_ok()


def test_failure_after_success_does_not_return(user: Any) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    withdrawal = withdrawal_request(user=user, card_id=c.pk, amount_fen=20_000)
    withdrawal.refresh_from_db()
    assert deliver(payout_callback(withdrawal)).outcome == "paid"
    assert deliver(payout_callback(withdrawal, status="failed")).outcome == "ignored_paid"
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PAID and withdrawal.flag == "failure_after_paid"
    assert user_wallet_balance(user).amount == 80_000
    reconcile_ok()


def test_bad_signature_is_rejected_and_nothing_moves(user: Any) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    withdrawal = withdrawal_request(user=user, card_id=c.pk, amount_fen=20_000)
    body = payout_callback(withdrawal, status="failed")
    headers = {
        "Yaji-Sandbox-Timestamp": str(int(time.time())),
        "Yaji-Sandbox-Nonce": "n1",
        "Yaji-Sandbox-Signature": "0" * 64,
    }
    response = Client().post(
        PAYOUT_NOTIFY_PATH, body, content_type="application/json", headers=headers
    )
    assert response.status_code == 401 and response.json()["code"] == "invalid_signature"
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PROCESSING
    assert user_wallet_balance(user).amount == 80_000
    record = ProviderNotification.objects.get()
    assert not record.signature_valid and record.event_id is None

    # a correctly signed one through the same endpoint works
    response = Client().post(
        PAYOUT_NOTIFY_PATH, body, content_type="application/json", headers=sandbox_sign(body)
    )
    assert response.json() == {"code": "SUCCESS", "outcome": "returned"}


def test_wrong_amount_is_flagged_and_moves_nothing(user: Any) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    withdrawal = withdrawal_request(user=user, card_id=c.pk, amount_fen=20_000)
    assert code_of(lambda: deliver(payout_callback(withdrawal, amount_fen=1))) == "amount_mismatch"
    withdrawal.refresh_from_db()
    assert withdrawal.flag == "amount_mismatch" and withdrawal.status == WithdrawalStatus.PROCESSING
    assert clearing_balance() == 20_000


# --- cards: bad input -----------------------------------------------------------------------------


def test_card_requires_kyc() -> None:
    api = Api(UserFactory())
    response = add_card(api)
    assert response.status_code == 403 and response.json()["code"] == "kyc_required"
    assert not BankCard.objects.exists()


def test_holder_name_must_match_the_verified_name(api: Api) -> None:
    response = api.post_json(
        "/wallet/cards", {"holder_name": "李四", "card_number": OK_CARD}, key()
    )
    assert response.status_code == 400 and response.json()["code"] == "holder_name_mismatch"


@pytest.mark.parametrize("number", [OK_CARD[:-1] + str((int(OK_CARD[-1]) + 1) % 10), "12ab", ""])
def test_card_number_must_pass_luhn(api: Api, number: str) -> None:
    response = add_card(api, number)
    assert response.status_code == 400 and response.json()["code"] == "invalid_card_number"


def test_unknown_bin_needs_a_bank_name(api: Api) -> None:
    number = card("5678", bin_="999999")
    assert add_card(api, number).json()["code"] == "bank_name_required"
    response = add_card(api, number, bank_name="雅集村镇银行")
    assert response.status_code == 201 and response.json()["bank_name"] == "雅集村镇银行"


def test_same_card_twice_then_remove_and_readd(api: Api) -> None:
    first = add_card(api).json()
    assert add_card(api).json()["code"] == "card_already_added"
    assert (
        api.client.delete(f"/api/v1/wallet/cards/{first['id']}", headers=api.headers).status_code
        == 204
    )
    assert api.get("/wallet/cards").json()["items"] == []
    assert add_card(api).status_code == 201


def test_card_number_is_not_stored_in_plaintext(user: Any) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT card_number, holder_name, card_index FROM payments_bankcard WHERE id = %s",
            [c.pk],
        )
        raw_number, raw_holder, index = cursor.fetchone()
    assert OK_CARD not in raw_number and OK_CARD[-8:] not in raw_number
    assert REAL_NAME not in raw_holder
    assert OK_CARD not in index
    assert BankCard.objects.get(pk=c.pk).card_number == OK_CARD


# --- withdrawals: bad input ---------------------------------------------------------------------


def test_withdrawal_requires_kyc() -> None:
    user = UserFactory()
    fund(user, 10_000)
    assert code_of(lambda: withdrawal_request(user=user, card_id=1, amount_fen=1000)) == (
        "kyc_required"
    )
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        (99, "CNY", "withdrawal_below_minimum"),
        (2_000_001, "CNY", "withdrawal_above_maximum"),
        (0, "CNY", "invalid_amount"),
        (-500, "CNY", "invalid_amount"),
        (1000, "XYZ", "invalid_currency"),
    ],
)
def test_withdrawal_limits(user: Any, api: Api, amount: int, currency: str, code: str) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    response = api.post_json(
        "/wallet/withdrawals", {"card_id": c.pk, "amount_fen": amount, "currency": currency}, key()
    )
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Withdrawal.objects.exists()
    assert user_wallet_balance(user).amount == 100_000


def test_limits_are_inclusive(user: Any) -> None:
    fund(user, 2_000_000)
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    withdrawal_request(user=user, card_id=c.pk, amount_fen=100)
    withdrawal_request(user=user, card_id=c.pk, amount_fen=2_000_000)
    assert Withdrawal.objects.count() == 2


def test_insufficient_funds_moves_nothing(user: Any, api: Api) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    response = api.post_json("/wallet/withdrawals", {"card_id": c.pk, "amount_fen": 100_001}, key())
    assert response.status_code == 409 and response.json()["code"] == "insufficient_funds"
    assert not Withdrawal.objects.exists()
    assert not LedgerTransaction.objects.filter(reference__startswith="withdrawal:").exists()
    assert user_wallet_balance(user).amount == 100_000
    reconcile_ok()


def test_another_users_card_and_withdrawal_are_not_found(user: Any, api: Api) -> None:
    other = verified_user()
    fund(other, 10_000)
    theirs = bank_card_add(user=other, holder_name=REAL_NAME, card_number=OK_CARD)
    their_withdrawal = withdrawal_request(user=other, card_id=theirs.pk, amount_fen=1000)

    response = api.post_json(
        "/wallet/withdrawals", {"card_id": theirs.pk, "amount_fen": 1000}, key()
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = api.client.delete(f"/api/v1/wallet/cards/{theirs.pk}", headers=api.headers)
    assert response.status_code == 404
    assert api.get(f"/wallet/withdrawals/{their_withdrawal.id}").status_code == 404
    assert api.get("/wallet/cards").json()["items"] == []
    assert api.get("/wallet/withdrawals").json()["items"] == []
    assert BankCard.objects.get(pk=theirs.pk).removed_at is None
    assert user_wallet_balance(user).amount == 100_000


def test_removed_card_cannot_be_used(user: Any) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    from yaji.payments.withdrawals import bank_card_remove

    bank_card_remove(user=user, card_id=c.pk)
    assert code_of(lambda: withdrawal_request(user=user, card_id=c.pk, amount_fen=1000)) == (
        "not_found"
    )


# --- idempotency --------------------------------------------------------------------------------


def test_withdrawal_needs_and_honours_an_idempotency_key(user: Any, api: Api) -> None:
    c = bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    payload = {"card_id": c.pk, "amount_fen": 5000}
    response = api.post_json("/wallet/withdrawals", payload)
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"

    headers = key()
    first = api.post_json("/wallet/withdrawals", payload, headers)
    again = api.post_json("/wallet/withdrawals", payload, headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    assert Withdrawal.objects.count() == 1
    assert user_wallet_balance(user).amount == 95_000

    other = api.post_json("/wallet/withdrawals", {**payload, "amount_fen": 6000}, headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Withdrawal.objects.count() == 1


# --- pages --------------------------------------------------------------------------------------


def test_wallet_page_adds_a_card_and_withdraws_once_per_form(user: Any) -> None:
    site = Client()
    site.force_login(user)
    response = site.post(
        "/wallet/cards/add/", {"holder_name": REAL_NAME, "card_number": OK_CARD, "bank_name": ""}
    )
    assert response.status_code == 302
    html = site.get("/wallet/").content.decode()
    assert "**** **** **** 1234" in html and OK_CARD not in html
    c = BankCard.objects.get(user=user)
    form = {"card_id": c.pk, "amount": "12.34", "idempotency_key": "form-1"}
    assert site.post("/wallet/withdraw/", form).status_code == 302
    assert site.post("/wallet/withdraw/", form).status_code == 302  # double submit
    assert Withdrawal.objects.count() == 1
    assert user_wallet_balance(user).amount == 100_000 - 1234

    response = site.post("/wallet/withdraw/", {**form, "amount": "0.5", "idempotency_key": "f2"})
    assert response.status_code == 400 and "1 元" in response.content.decode()
    response = site.post("/wallet/cards/add/", {"holder_name": "李四", "card_number": OK_CARD})
    assert response.status_code == 400


def test_wallet_page_in_english(user: Any) -> None:
    site = Client()
    site.force_login(user)
    bank_card_add(user=user, holder_name=REAL_NAME, card_number=OK_CARD)
    html = site.get("/wallet/", headers={"Accept-Language": "en"}).content.decode()
    assert "Withdraw" in html and "Bank cards" in html
