"""Wallet top-up end to end: API → sandbox pay page → asynchronous signed notification through
the outbox → ledger → wallet balance; and the failure path."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from yaji.core.models import OutboxEvent
from yaji.ledger.models import LedgerTransaction
from yaji.payments.models import IntentStatus, PaymentIntent, ProviderNotification
from yaji.payments.tests.factories import Api, UserFactory, relay_all

pytestmark = pytest.mark.django_db


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_topup_pay_notify_credits_the_wallet_once() -> None:
    # given a signed-in user with an empty wallet
    user = UserFactory()
    api = Api(user)
    assert api.get("/wallet").json()["balance_fen"] == 0

    # when they ask to top up 123.45 yuan
    response = api.topup(12345)
    assert response.status_code == 201, response.content
    body = response.json()
    intent_id = body["intent"]["id"]
    assert body["intent"]["status"] == "requires_payment"
    assert body["pay_url"].startswith("http://testserver/pay/sandbox/sbx_")

    # and pay on the sandbox's hosted page
    payer = Client()
    pay_path = body["pay_url"].removeprefix("http://testserver")
    page = payer.get(pay_path)
    assert page.status_code == 200
    assert "¥123.45" in page.content.decode()
    assert "支付 Pay" in page.content.decode()
    back = payer.post(pay_path, {"action": "pay"})
    assert back.status_code == 302
    assert back["Location"] == f"/wallet/?intent={intent_id}"

    # then nothing has moved until the provider's notification arrives
    assert api.get(f"/payments/intents/{intent_id}").json()["status"] == "requires_payment"
    assert api.get("/wallet").json()["balance_fen"] == 0

    # when the relay delivers it
    relay_all()

    # then the intent succeeded and the wallet holds the money, exactly once
    intent = api.get(f"/payments/intents/{intent_id}").json()
    assert intent["status"] == "succeeded"
    wallet = api.get("/wallet").json()
    assert wallet["balance_fen"] == 12345
    assert wallet["balance_display"] == "¥123.45"
    entries = api.get("/wallet/entries").json()
    assert [e["amount_fen"] for e in entries["items"]] == [12345]
    assert entries["items"][0]["reference"] == f"payment:{intent_id}"
    assert LedgerTransaction.objects.filter(reference=f"payment:{intent_id}").count() == 1
    assert OutboxEvent.objects.filter(topic="payments.intent_succeeded").count() == 1
    notification = ProviderNotification.objects.get()
    assert notification.signature_valid and notification.processed
    assert notification.outcome == "succeeded"
    reconcile()  # raises CommandError on any mismatch

    # and the wallet page shows balance and history
    site = Client()
    site.force_login(user)
    html = site.get(f"/wallet/?intent={intent_id}").content.decode()
    assert "¥123.45" in html and "支付成功" in html


def test_failed_payment_moves_nothing() -> None:
    user = UserFactory()
    api = Api(user)
    body = api.topup(500).json()
    payer = Client()
    pay_path = body["pay_url"].removeprefix("http://testserver")
    assert payer.post(pay_path, {"action": "fail"}).status_code == 302
    relay_all()

    intent = PaymentIntent.objects.get(pk=body["intent"]["id"])
    assert intent.status == IntentStatus.FAILED
    assert api.get("/wallet").json()["balance_fen"] == 0
    assert not LedgerTransaction.objects.filter(reference=f"payment:{intent.id}").exists()
    # the provider's decision is final: the page no longer offers to pay
    again = payer.post(pay_path, {"action": "pay"})
    assert again.status_code == 409
    reconcile()


def test_duplicated_notifications_credit_once(settings) -> None:  # type: ignore[no-untyped-def]
    # given a sandbox that always sends its notification twice
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 1.0
    user = UserFactory()
    api = Api(user)
    body = api.topup(800).json()
    Client().post(body["pay_url"].removeprefix("http://testserver"), {"action": "pay"})
    assert OutboxEvent.objects.filter(topic="payments.sandbox_notify").count() == 2

    relay_all()

    assert api.get("/wallet").json()["balance_fen"] == 800
    outcomes = sorted(ProviderNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["succeeded"]  # the duplicate was recognised before being stored
    assert LedgerTransaction.objects.filter(kind="wallet_topup").count() == 1
    reconcile()


def test_wallet_page_topup_form_redirects_to_the_pay_page() -> None:
    user = UserFactory()
    site = Client()
    site.force_login(user)
    assert site.get("/wallet/").status_code == 200
    response = site.post("/wallet/topup/", {"amount": "12.30"})
    assert response.status_code == 302
    assert response["Location"].startswith("/pay/sandbox/sbx_")
    intent = PaymentIntent.objects.get(payer=user)
    assert intent.amount_fen == 1230

    bad = site.post("/wallet/topup/", {"amount": "50000.01"})
    assert bad.status_code == 400
    assert PaymentIntent.objects.filter(payer=user).count() == 1
    assert site.post("/wallet/topup/", {"amount": "abc"}).status_code == 400


def test_intent_status_partial_polls_until_final() -> None:
    user = UserFactory()
    site = Client()
    site.force_login(user)
    site.post("/wallet/topup/", {"amount": "1"})
    intent = PaymentIntent.objects.get(payer=user)
    partial = site.get(f"/wallet/intents/{intent.id}/status/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in partial.content.decode()
    assert "HX-Refresh" not in partial
    Client().post(intent.pay_url, {"action": "pay"})
    relay_all()
    final = site.get(f"/wallet/intents/{intent.id}/status/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in final.content.decode()
    assert final["HX-Refresh"] == "true"


def test_wallet_requires_login() -> None:
    assert Client().get("/wallet/").status_code == 302
    assert Client().get("/api/v1/wallet").status_code == 401


def test_pages_speak_english() -> None:
    user = UserFactory()
    site = Client(headers={"Accept-Language": "en"})
    site.force_login(user)
    assert "My wallet" in site.get("/wallet/").content.decode()
    pay_url = site.post("/wallet/topup/", {"amount": "5"})["Location"]
    page = site.get(pay_url).content.decode()
    assert "Yaji checkout" in page and "CN¥5.00" in page
