"""The notify endpoint: signatures, staleness, amounts, duplicates and out-of-order events."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from yaji.ledger.models import LedgerTransaction
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.models import IntentStatus, PaymentIntent, ProviderNotification
from yaji.payments.services import payment_notification_receive, wallet_topup_create
from yaji.payments.tests.factories import NOTIFY_PATH, UserFactory, notification, signed_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def intent() -> PaymentIntent:
    return wallet_topup_create(user=UserFactory(), amount_fen=2000)


def money_moved(intent: PaymentIntent) -> bool:
    return LedgerTransaction.objects.filter(reference=f"payment:{intent.id}").exists()


def status_of(intent: PaymentIntent) -> str:
    intent.refresh_from_db()
    return intent.status


def error(response: Any) -> str:
    return response.json()["code"]


def test_valid_notification_is_accepted(intent: PaymentIntent) -> None:
    response = signed_post(Client(), notification(intent))
    assert response.status_code == 200, response.content
    assert response.json() == {"code": "SUCCESS", "outcome": "succeeded"}
    assert status_of(intent) == IntentStatus.SUCCEEDED
    assert user_wallet_balance(intent.payer).amount == 2000


def test_bad_signature_is_rejected_and_kept_for_audit(intent: PaymentIntent) -> None:
    body = notification(intent)
    headers = {
        "Yaji-Sandbox-Timestamp": str(int(time.time())),
        "Yaji-Sandbox-Nonce": "n1",
        "Yaji-Sandbox-Signature": "0" * 64,
    }
    response = Client().post(NOTIFY_PATH, body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert error(response) == "invalid_signature"
    assert status_of(intent) == IntentStatus.REQUIRES_PAYMENT
    assert not money_moved(intent)
    record = ProviderNotification.objects.get()
    assert not record.signature_valid and not record.processed and record.event_id is None


def test_missing_headers_and_tampered_body_are_rejected(intent: PaymentIntent) -> None:
    client = Client()
    plain = client.post(NOTIFY_PATH, notification(intent), content_type="application/json")
    assert error(plain) == "invalid_signature"
    from yaji.payments.providers.sandbox import sandbox_sign

    body = notification(intent)
    headers = sandbox_sign(body)
    tampered = body.replace(b'"amount_fen": 2000', b'"amount_fen": 2001')
    response = client.post(NOTIFY_PATH, tampered, content_type="application/json", headers=headers)
    assert response.status_code == 401 and error(response) == "invalid_signature"
    assert not money_moved(intent)


def test_stale_notification_is_rejected(intent: PaymentIntent) -> None:
    response = signed_post(Client(), notification(intent), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert error(response) == "stale_notification"
    future = signed_post(Client(), notification(intent), timestamp=int(time.time()) + 400)
    assert error(future) == "stale_notification"
    assert status_of(intent) == IntentStatus.REQUIRES_PAYMENT
    assert not money_moved(intent)


@pytest.mark.parametrize(("amount_fen", "currency"), [(1999, "CNY"), (2000, "USD")])
def test_amount_or_currency_mismatch_flags_the_intent(
    intent: PaymentIntent, amount_fen: int, currency: str
) -> None:
    response = signed_post(Client(), notification(intent, amount_fen=amount_fen, currency=currency))
    assert response.status_code == 400
    assert error(response) == "amount_mismatch"
    intent.refresh_from_db()
    assert intent.flag == "amount_mismatch"
    assert intent.status == IntentStatus.REQUIRES_PAYMENT
    assert not money_moved(intent)
    assert ProviderNotification.objects.get().outcome == "amount_mismatch"


def test_malformed_body_is_rejected(intent: PaymentIntent) -> None:
    response = signed_post(Client(), b'{"id": "evt_1", "type": "payment.refunded"}')
    assert response.status_code == 400
    assert error(response) == "malformed_notification"


def test_unknown_provider_is_404() -> None:
    response = Client().post("/api/v1/payments/notify/nope", b"{}", content_type="application/json")
    assert response.status_code == 404


def test_same_event_twice_is_processed_once(intent: PaymentIntent) -> None:
    body = notification(intent, event_id="evt_same")
    first = signed_post(Client(), body)
    second = signed_post(Client(), body)
    assert first.json()["outcome"] == "succeeded"
    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert LedgerTransaction.objects.filter(reference=f"payment:{intent.id}").count() == 1
    assert user_wallet_balance(intent.payer).amount == 2000


def test_success_twice_under_different_event_ids_credits_once(intent: PaymentIntent) -> None:
    assert signed_post(Client(), notification(intent)).json()["outcome"] == "succeeded"
    again = signed_post(Client(), notification(intent))
    assert again.json()["outcome"] == "already_succeeded"
    assert user_wallet_balance(intent.payer).amount == 2000


def test_failure_after_success_cannot_flip_it(intent: PaymentIntent) -> None:
    signed_post(Client(), notification(intent, status="succeeded"))
    late = signed_post(Client(), notification(intent, status="failed"))
    assert late.status_code == 200
    assert late.json()["outcome"] == "ignored_succeeded"
    assert status_of(intent) == IntentStatus.SUCCEEDED
    assert user_wallet_balance(intent.payer).amount == 2000


def test_success_after_failure_is_flagged_not_credited(intent: PaymentIntent) -> None:
    assert (
        signed_post(Client(), notification(intent, status="failed")).json()["outcome"] == "failed"
    )
    late = signed_post(Client(), notification(intent, status="succeeded"))
    assert late.json()["outcome"] == "late_success"
    intent.refresh_from_db()
    assert intent.status == IntentStatus.FAILED and intent.flag == "late_success"
    assert not money_moved(intent)


def test_service_accepts_lowercase_headers(intent: PaymentIntent) -> None:
    from yaji.payments.providers.sandbox import sandbox_sign

    body = notification(intent)
    headers = {k.lower(): v for k, v in sandbox_sign(body).items()}
    result = payment_notification_receive(provider="sandbox", headers=headers, body=body)
    assert result.outcome == "succeeded"
