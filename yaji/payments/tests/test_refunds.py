"""Refunds: full and partial, back to the wallet and through the provider, with the sandbox's
asynchronous, signed, sometimes duplicated refund notifications."""

from __future__ import annotations

import json
import secrets
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client

from yaji.core.models import OutboxEvent
from yaji.ledger.errors import InsufficientFunds
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from yaji.ledger.reconciliation import NullProgress
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.errors import (
    IntentNotRefundable,
    RefundKeyReused,
    WalletPartOutOfRange,
)
from yaji.payments.models import (
    IntentStatus,
    PaymentIntent,
    ProviderNotification,
    Refund,
    RefundStatus,
    SandboxRefund,
)
from yaji.payments.providers.sandbox import sandbox_sign
from yaji.payments.refunds import (
    IN_FLIGHT_OWNER_REF,
    check_refunds_in_flight,
    check_refunds_posted,
    refund_create,
    refund_notification_receive,
    refunds_submit_pending,
)
from yaji.payments.services import checkout_intent_create, wallet_topup_create
from yaji.payments.tests.factories import Api, UserFactory, relay_all
from yaji.payments.tests.withdrawal_factories import fund

pytestmark = pytest.mark.django_db

REFUND_NOTIFY = "/api/v1/payments/refund-notify/sandbox"


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile", stdout=out, stderr=StringIO())
    return out.getvalue()


def paid_topup(user: Any = None, amount_fen: int = 10_000) -> PaymentIntent:
    intent = wallet_topup_create(user=user or UserFactory(), amount_fen=amount_fen)
    assert Client().post(intent.pay_url, {"action": "pay"}).status_code == 302
    relay_all()  # the sandbox's payment notification
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    return intent


def clearing() -> int:
    account = LedgerAccount.objects.filter(kind=AccountKind.PROVIDER_CLEARING).first()
    return account.balance if account else 0


def in_flight() -> int:
    account = LedgerAccount.objects.filter(owner_ref=IN_FLIGHT_OWNER_REF).first()
    return account.balance if account else 0


def refund_body(
    refund: Refund, *, status: str = "succeeded", amount_fen: int | None = None
) -> bytes:
    return json.dumps(
        {
            "id": "revt_" + secrets.token_hex(8),
            "type": f"refund.{status}",
            "reference": "sbr_x",
            "out_reference": str(refund.id),
            "amount_fen": refund.provider_amount_fen if amount_fen is None else amount_fen,
            "currency": refund.currency,
        }
    ).encode()


def post_refund_note(body: bytes, **sign: Any) -> Any:
    return Client().post(
        REFUND_NOTIFY, body, content_type="application/json", headers=sandbox_sign(body, **sign)
    )


# --- the API -----------------------------------------------------------------------------------


def test_partial_refunds_through_the_api_until_fully_refunded() -> None:
    # given a paid top-up of ¥100
    user = UserFactory()
    api = Api(user)
    intent = paid_topup(user)
    assert clearing() == -10_000

    # when the payer refunds ¥30 (an Idempotency-Key is required)
    path = f"/payments/intents/{intent.id}/refunds"
    missing = api.post_json(path, {"amount_fen": 3000})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    first = api.post_json(path, {"amount_fen": 3000, "reason": "多充了"}, {"Idempotency-Key": "r1"})
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "pending"
    assert (data["provider_amount_fen"], data["wallet_amount_fen"]) == (3000, 0)
    replay = api.post_json(
        path, {"amount_fen": 3000, "reason": "多充了"}, {"Idempotency-Key": "r1"}
    )
    assert replay.json()["id"] == data["id"] and replay["Idempotent-Replayed"] == "true"

    # then the money leaves the wallet at once and waits in flight for the provider
    assert user_wallet_balance(user).amount == 7000
    assert in_flight() == 3000
    relay_all()  # the sandbox's signed refund notification
    assert api.get(f"/payments/refunds/{data['id']}").json()["status"] == "succeeded"
    assert in_flight() == 0
    assert clearing() == -7000  # the provider gave ¥30 back to the payer's card

    # and the rest can be refunded, but not a fen more
    rest = api.post_json(path, {"amount_fen": 7000}, {"Idempotency-Key": "r2"})
    assert rest.status_code == 201
    over = api.post_json(path, {"amount_fen": 1}, {"Idempotency-Key": "r3"})
    assert over.status_code == 409 and over.json()["code"] == "refund_exceeds_paid"
    relay_all()
    listing = api.get(f"/payments/intents/{intent.id}/refunds").json()["items"]
    assert [r["status"] for r in listing] == ["succeeded", "succeeded"]
    assert api.get(f"/payments/intents/{intent.id}").json()["refunded_fen"] == 10_000
    assert user_wallet_balance(user).amount == 0 and clearing() == 0
    reconcile()

    # and the wallet page shows them
    site = Client()
    site.force_login(user)
    html = site.get("/wallet/").content.decode()
    assert 'data-testid="refunds"' in html and "退款成功" in html and "多充了" in html
    english = Client(headers={"Accept-Language": "en"})
    english.force_login(user)
    assert english.get("/wallet/").status_code == 200


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [
        (0, 400, "invalid_amount"),
        (-5, 400, "invalid_amount"),
        (10_001, 409, "refund_exceeds_paid"),
        (10**15, 409, "refund_exceeds_paid"),
    ],
)
def test_bad_refund_amounts_move_nothing(amount: int, status: int, code: str) -> None:
    user = UserFactory()
    intent = paid_topup(user)
    response = Api(user).post_json(
        f"/payments/intents/{intent.id}/refunds",
        {"amount_fen": amount},
        {"Idempotency-Key": secrets.token_hex(4)},
    )
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Refund.objects.exists()
    assert user_wallet_balance(user).amount == 10_000


def test_others_intents_and_refunds_are_not_found() -> None:
    owner = UserFactory()
    intent = paid_topup(owner)
    refund = refund_create(intent=intent, amount_fen=100)
    stranger = Api(UserFactory())
    response = stranger.post_json(
        f"/payments/intents/{intent.id}/refunds", {"amount_fen": 100}, {"Idempotency-Key": "k"}
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert stranger.get(f"/payments/refunds/{refund.id}").status_code == 404
    assert stranger.get(f"/payments/intents/{intent.id}/refunds").status_code == 404
    assert stranger.get("/payments/refunds/nope").status_code == 404
    assert Refund.objects.count() == 1


def test_unpaid_intent_and_spent_topup_cannot_be_refunded() -> None:
    user = UserFactory()
    unpaid = wallet_topup_create(user=user, amount_fen=500)
    with pytest.raises(IntentNotRefundable):
        refund_create(intent=unpaid, amount_fen=100)
    # a top-up whose money has left the wallet cannot go back to the card
    intent = paid_topup(user, 500)
    checkout_intent_create(payer=user, amount_fen=400, wallet_amount_fen=400)
    with pytest.raises(InsufficientFunds):
        refund_create(intent=intent, amount_fen=200)
    intent.refresh_from_db()
    assert intent.refunded_fen == 0 and not Refund.objects.exists()
    response = Api(user).post_json(
        f"/payments/intents/{intent.id}/refunds", {"amount_fen": 200}, {"Idempotency-Key": "x"}
    )
    assert response.status_code == 409 and response.json()["code"] == "insufficient_funds"


def test_checkout_cannot_be_refunded_by_the_buyer_directly() -> None:
    user = UserFactory()
    fund(user, 1000)
    intent = checkout_intent_create(payer=user, amount_fen=1000, wallet_amount_fen=1000)
    response = Api(user).post_json(
        f"/payments/intents/{intent.id}/refunds", {"amount_fen": 100}, {"Idempotency-Key": "x"}
    )
    assert response.status_code == 409 and response.json()["code"] == "refund_not_allowed"


def test_same_request_key_with_another_amount_is_refused() -> None:
    intent = paid_topup()
    first = refund_create(intent=intent, amount_fen=100, request_key="k1")
    assert refund_create(intent=intent, amount_fen=100, request_key="k1").pk == first.pk
    with pytest.raises(RefundKeyReused):
        refund_create(intent=intent, amount_fen=200, request_key="k1")
    assert Refund.objects.count() == 1


def test_database_refuses_refunds_beyond_the_paid_amount() -> None:
    intent = paid_topup(amount_fen=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentIntent.objects.filter(pk=intent.pk).update(refunded_fen=101)


# --- checkout: wallet part and provider part ---------------------------------------------------


def test_checkout_paid_by_wallet_and_provider_refunds_to_both() -> None:
    # given a ¥100 checkout: ¥30 from the wallet, ¥70 through the sandbox
    user = UserFactory()
    fund(user, 3000)
    intent = checkout_intent_create(payer=user, amount_fen=10_000, wallet_amount_fen=3000)
    assert user_wallet_balance(user).amount == 0
    assert intent.status == IntentStatus.REQUIRES_PAYMENT
    Client().post(intent.pay_url, {"action": "pay"})
    relay_all()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    escrow = LedgerAccount.objects.get(kind=AccountKind.ESCROW, owner_ref=f"payment:{intent.id}")
    assert escrow.balance == 10_000

    # when ¥50 is refunded, then ¥50 more
    first = refund_create(intent=intent, amount_fen=5000)
    assert (first.provider_amount_fen, first.wallet_amount_fen) == (5000, 0)
    second = refund_create(intent=intent, amount_fen=5000)
    assert (second.provider_amount_fen, second.wallet_amount_fen) == (2000, 3000)
    relay_all()

    # then the provider part went back through the provider, the wallet part to the wallet
    assert set(Refund.objects.values_list("status", flat=True)) == {RefundStatus.SUCCEEDED}
    assert user_wallet_balance(user).amount == 3000
    escrow.refresh_from_db()
    assert escrow.balance == 0
    assert clearing() == -3000  # only the wallet funding (a top-up) is still at the provider
    assert sorted(s.amount_fen for s in SandboxRefund.objects.all()) == [2000, 5000]
    reconcile()


def test_wallet_only_checkout_refunds_at_once() -> None:
    user = UserFactory()
    fund(user, 800)
    intent = checkout_intent_create(payer=user, amount_fen=800, wallet_amount_fen=800)
    assert intent.status == IntentStatus.SUCCEEDED
    refund = refund_create(intent=intent, amount_fen=300)
    assert refund.status == RefundStatus.SUCCEEDED
    assert user_wallet_balance(user).amount == 300
    assert not SandboxRefund.objects.exists()
    reconcile()


def test_failed_provider_payment_returns_the_wallet_part() -> None:
    user = UserFactory()
    fund(user, 500)
    intent = checkout_intent_create(payer=user, amount_fen=2000, wallet_amount_fen=500)
    assert user_wallet_balance(user).amount == 0
    Client().post(intent.pay_url, {"action": "fail"})
    relay_all()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.FAILED
    assert user_wallet_balance(user).amount == 500
    reconcile()


def test_checkout_input_is_validated() -> None:
    user = UserFactory()
    with pytest.raises(WalletPartOutOfRange):
        checkout_intent_create(payer=user, amount_fen=100, wallet_amount_fen=101)
    with pytest.raises(InsufficientFunds):
        checkout_intent_create(payer=user, amount_fen=100, wallet_amount_fen=50)
    assert not PaymentIntent.objects.exists()


# --- provider outcomes, duplicates, order ----------------------------------------------------


def test_refund_failing_at_the_provider_returns_the_money() -> None:
    # the sandbox fails refunds whose amount ends in 13 fen
    user = UserFactory()
    intent = paid_topup(user)
    refund = refund_create(intent=intent, amount_fen=1013)
    relay_all()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.failure_reason == "account_abnormal"
    assert user_wallet_balance(user).amount == 10_000
    intent.refresh_from_db()
    assert intent.refunded_fen == 0  # refundable again
    assert refund_create(intent=intent, amount_fen=10_000).status == RefundStatus.PENDING
    relay_all()
    reconcile()


def test_duplicated_late_refund_notifications_settle_once(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from yaji.core import clock

    # given a sandbox that always sends a second copy, which arrives late
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 1.0
    user = UserFactory()
    intent = paid_topup(user)
    first = refund_create(intent=intent, amount_fen=2500)
    assert OutboxEvent.objects.filter(topic="payments.sandbox_refund_notify").count() == 2
    relay_all()  # the copy's first attempt "times out"
    second = refund_create(intent=intent, amount_fen=1500)
    relay_all()

    # when the late copies arrive after the second refund's notification (out of order)
    later = clock.now() + timedelta(hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    relay_all()

    # then each refund was applied once; the copies were recognised as duplicates
    assert not OutboxEvent.objects.filter(
        topic="payments.sandbox_refund_notify", status="pending"
    ).exists()
    applied = list(
        ProviderNotification.objects.filter(refund__isnull=False)
        .order_by("created_at")
        .values_list("refund_id", "outcome")
    )
    assert applied == [(first.id, "succeeded"), (second.id, "succeeded")]
    assert LedgerTransaction.objects.filter(kind="payment_refund").count() == 2
    assert user_wallet_balance(user).amount == 6000
    reconcile()


def test_out_of_order_notifications_never_move_money_twice() -> None:
    intent = paid_topup()
    refund = Refund.objects.get(pk=refund_create(intent=intent, amount_fen=400).pk)
    OutboxEvent.objects.filter(topic="payments.sandbox_refund_notify").delete()

    # the notification overtook create_refund's answer: found by our id anyway
    Refund.objects.filter(pk=refund.pk).update(provider_reference="")
    assert post_refund_note(refund_body(refund)).json()["outcome"] == "succeeded"
    # a failure arriving late cannot undo it; it is flagged
    late = post_refund_note(refund_body(refund, status="failed"))
    assert late.status_code == 200 and late.json()["outcome"] == "ignored_succeeded"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.flag == "failure_after_success"
    assert refund.provider_reference == "sbr_x"

    # and the other way round: success after failure is flagged, nothing moves again
    other = refund_create(intent=intent, amount_fen=600)
    OutboxEvent.objects.filter(topic="payments.sandbox_refund_notify").delete()
    assert post_refund_note(refund_body(other, status="failed")).json()["outcome"] == "failed"
    late = post_refund_note(refund_body(other))
    assert late.json()["outcome"] == "late_success"
    other.refresh_from_db()
    assert other.status == RefundStatus.FAILED and other.flag == "success_after_failure"
    assert user_wallet_balance(intent.payer).amount == 9600
    reconcile()


def test_forged_stale_and_wrong_amount_notifications_are_refused() -> None:
    intent = paid_topup()
    refund = refund_create(intent=intent, amount_fen=700)
    OutboxEvent.objects.filter(topic="payments.sandbox_refund_notify").delete()
    body = refund_body(refund)
    forged = Client().post(
        REFUND_NOTIFY,
        body,
        content_type="application/json",
        headers={
            "Yaji-Sandbox-Timestamp": str(int(time.time())),
            "Yaji-Sandbox-Nonce": "n",
            "Yaji-Sandbox-Signature": "0" * 64,
        },
    )
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"
    stale = post_refund_note(body, timestamp=int(time.time()) - 301)
    assert stale.status_code == 401 and stale.json()["code"] == "stale_notification"
    wrong = post_refund_note(refund_body(refund, amount_fen=701))
    assert wrong.status_code == 400 and wrong.json()["code"] == "amount_mismatch"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and refund.flag == "amount_mismatch"
    unknown = json.loads(body)
    unknown.update(id="revt_u", out_reference="00000000-0000-0000-0000-000000000000")
    raw = json.dumps(unknown).encode()
    assert (
        refund_notification_receive(provider="sandbox", headers=sandbox_sign(raw), body=raw).outcome
        == "unknown_reference"
    )
    malformed = post_refund_note(b'{"type":"refund.maybe"}')
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_notification"


def test_provider_outage_leaves_the_refund_pending_until_retried(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.payments.providers.sandbox import SandboxProvider

    intent = paid_topup()

    def down(self, request):  # type: ignore[no-untyped-def]
        raise ConnectionError("provider unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(SandboxProvider, "create_refund", down)
        refund = refund_create(intent=intent, amount_fen=900)
    assert refund.status == RefundStatus.PENDING and refund.provider_reference == ""
    assert refunds_submit_pending() == 1
    relay_all()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    reconcile()


# --- reconciliation ---------------------------------------------------------------------------


def test_reconciliation_catches_refunds_that_disagree_with_the_books() -> None:
    intent = paid_topup()
    refund = refund_create(intent=intent, amount_fen=1000)
    relay_all()
    assert check_refunds_posted(NullProgress()) == []
    assert check_refunds_in_flight(NullProgress()) == []

    # a refund marked succeeded without its posting, and a refunded total that drifted
    Refund.objects.filter(pk=refund.pk).update(amount_fen=1100, provider_amount_fen=1100)
    PaymentIntent.objects.filter(pk=intent.pk).update(refunded_fen=1200)
    found = check_refunds_posted(NullProgress())
    subjects = " ".join(d.subject for d in found)
    assert f"refund {refund.id}" in subjects and "refunded_fen" in subjects
    with pytest.raises(CommandError):
        call_command("reconcile", stdout=StringIO(), stderr=StringIO())

    # a pending refund whose money is not in flight
    Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.PENDING)
    assert [d.subject for d in check_refunds_in_flight(NullProgress())] == ["refunds in flight CNY"]


def test_unpaid_checkout_expires_and_returns_the_wallet_part(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from yaji.core import clock

    user = UserFactory()
    fund(user, 600)
    intent = checkout_intent_create(payer=user, amount_fen=1000, wallet_amount_fen=600)
    out = StringIO()
    call_command("payments_housekeeping", stdout=out)
    assert "intents_expired: 0" in out.getvalue()
    later = clock.now() + timedelta(minutes=41)
    monkeypatch.setattr(clock, "now", lambda: later)
    call_command("payments_housekeeping", stdout=out)
    intent.refresh_from_db()
    assert intent.status == IntentStatus.EXPIRED
    assert user_wallet_balance(user).amount == 600
    # nobody can pay it any more; a success notification arriving anyway moves nothing
    assert Client().post(intent.pay_url, {"action": "pay"}).status_code == 409
    reconcile()


def test_provider_refusing_the_order_returns_the_wallet_part(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.payments.providers.sandbox import SandboxProvider

    def down(self, intent, *, return_url=""):  # type: ignore[no-untyped-def]
        raise ConnectionError("provider unreachable")

    user = UserFactory()
    fund(user, 600)
    monkeypatch.setattr(SandboxProvider, "create_payment", down)
    with pytest.raises(ConnectionError):
        checkout_intent_create(payer=user, amount_fen=1000, wallet_amount_fen=600)
    assert PaymentIntent.objects.get().status == IntentStatus.FAILED
    assert user_wallet_balance(user).amount == 600
    reconcile()
