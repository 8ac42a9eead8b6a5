"""Red packets funded through a payment (ADR 0042): pending until the provider's signed
notification, live exactly once, cancelled when unpaid, refunded when paid too late."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta

import pytest
from django.test import Client

from yaji.core import clock
from yaji.ledger.models import LedgerTransaction
from yaji.ledger.selectors import account_balance
from yaji.ledger.services import wallet_account_for_user
from yaji.payments.errors import AmountMismatch
from yaji.payments.models import IntentStatus, PaymentIntent, Refund
from yaji.payments.providers.sandbox import sandbox_sign
from yaji.payments.services import (
    intent_escrow_account,
    payment_intents_expire_due,
    payment_notification_receive,
)
from yaji.payments.tests.factories import Api, relay_all
from yaji.redpackets import payment_funding
from yaji.redpackets.errors import PacketCancelled, PacketNotPayable, PacketPendingPayment
from yaji.redpackets.models import Funding, PacketStatus, RedPacket, RedPacketClaim
from yaji.redpackets.services import escrow_account_for, red_packet_claim
from yaji.redpackets.tests.factories import funded_user, reconcile_ok
from yaji.risk.errors import RiskDenied
from yaji.risk.models import RiskActivity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    settings.YAJI_PAYMENT_PROVIDER = "sandbox"


def wallet_fen(user) -> int:  # type: ignore[no-untyped-def]
    return account_balance(wallet_account_for_user(user=user, currency="CNY")).amount


def escrow_fen(packet: RedPacket) -> int:
    return account_balance(escrow_account_for(packet)).amount


def signed_body(
    intent: PaymentIntent, *, status: str = "succeeded", event_id: str = "", amount: int = -1
) -> bytes:
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(8),
            "type": f"payment.{status}",
            "reference": intent.provider_reference,
            "amount_fen": intent.provider_amount_fen if amount < 0 else amount,
            "currency": intent.currency,
        }
    ).encode()


def deliver(body: bytes):  # type: ignore[no-untyped-def]
    return payment_notification_receive(provider="sandbox", headers=sandbox_sign(body), body=body)


def send_paid(sender=None, *, total: int = 1000, count: int = 4, use_wallet: bool = True):  # type: ignore[no-untyped-def]
    sender = sender or funded_user(0, verified=True)
    return payment_funding.red_packet_send_paid(
        sender=sender, total_fen=total, count=count, split_type="lucky", use_wallet=use_wallet
    )


def fund_transactions(packet: RedPacket) -> int:
    return LedgerTransaction.objects.filter(reference=f"redpacket:{packet.pk}:fund").count()


def test_paid_on_the_sandbox_pay_page_over_the_api_goes_live_on_the_notification() -> None:
    # given a verified sender with an empty wallet
    sender = funded_user(0, verified=True)
    api = Api(sender)

    # when they send a ¥20.00 packet paid online
    response = api.post_json(
        "/red-packets",
        {"total_fen": 2000, "count": 5, "funding": "payment", "blessing": "新年快乐"},
        headers={"Idempotency-Key": "send-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending_payment" and body["funding"] == "payment"
    assert body["payment"]["amount_fen"] == 2000
    assert body["payment"]["provider_amount_fen"] == 2000
    packet = RedPacket.objects.get(pk=body["id"])

    # then it cannot be grabbed yet, and nothing is in its escrow
    grabber = funded_user(0)
    with pytest.raises(PacketPendingPayment):
        red_packet_claim(packet_id=packet.pk, user=grabber)
    refused = Api(grabber).post_json(
        f"/red-packets/{packet.pk}/claim", {}, headers={"Idempotency-Key": "g-early"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "packet_pending_payment"
    assert escrow_fen(packet) == 0

    # when they pay on the sandbox's hosted page, which sends them back to the packet
    pay_path = body["payment"]["pay_url"].removeprefix("http://testserver")
    assert pay_path.startswith("/pay/sandbox/")
    payer = Client()
    assert payer.get(pay_path).status_code == 200
    back = payer.post(pay_path, {"action": "pay"})
    assert back.status_code == 302
    assert back["Location"] == f"/red-packets/{packet.pk}/?returned=1"
    assert RedPacket.objects.get(pk=packet.pk).status == PacketStatus.PENDING_PAYMENT
    relay_all()  # the provider's signed notification arrives

    # then the packet is live, its 24 hours starting now, the total in its escrow
    packet.refresh_from_db()
    assert packet.status == PacketStatus.ACTIVE
    assert packet.funded_at is not None
    assert packet.expires_at > clock.now() + timedelta(hours=23)
    assert escrow_fen(packet) == 2000
    intent = PaymentIntent.objects.get(pk=body["payment"]["intent_id"])
    assert intent.status == IntentStatus.SUCCEEDED
    assert account_balance(intent_escrow_account(intent)).amount == 0
    assert fund_transactions(packet) == 1

    # and it can be grabbed now
    won = red_packet_claim(packet_id=packet.pk, user=grabber)
    assert wallet_fen(grabber) == won.amount_fen > 0

    # a retry of the send replays it: one packet, one intent
    again = api.post_json(
        "/red-packets",
        {"total_fen": 2000, "count": 5, "funding": "payment", "blessing": "新年快乐"},
        headers={"Idempotency-Key": "send-1"},
    )
    assert again.status_code == 201 and again.json()["id"] == packet.pk
    assert RedPacket.objects.filter(sender=sender).count() == 1
    reconcile_ok()


def test_the_wallet_pays_first_and_the_provider_the_shortfall() -> None:
    sender = funded_user(300, verified=True)
    sent = send_paid(sender, total=1000)
    assert sent.intent.wallet_amount_fen == 300
    assert sent.intent.provider_amount_fen == 700
    assert wallet_fen(sender) == 0  # held by the intent
    assert sent.packet.status == PacketStatus.PENDING_PAYMENT

    assert deliver(signed_body(sent.intent)).outcome == "succeeded"
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.ACTIVE
    assert escrow_fen(sent.packet) == 1000
    reconcile_ok()


def test_without_the_wallet_the_provider_pays_all_even_with_a_balance() -> None:
    sender = funded_user(5000, verified=True)
    sent = send_paid(sender, total=1000, use_wallet=False)
    assert (sent.intent.wallet_amount_fen, sent.intent.provider_amount_fen) == (0, 1000)
    assert wallet_fen(sender) == 5000


def test_a_wallet_that_covers_it_all_makes_the_packet_live_at_once() -> None:
    sender = funded_user(5000, verified=True)
    sent = send_paid(sender, total=1000)
    assert sent.intent.status == IntentStatus.SUCCEEDED
    assert sent.packet.status == PacketStatus.ACTIVE
    assert escrow_fen(sent.packet) == 1000 and wallet_fen(sender) == 4000
    reconcile_ok()


def test_a_duplicate_notification_funds_the_packet_once() -> None:
    sent = send_paid()
    body = signed_body(sent.intent, event_id="evt_dup")
    assert deliver(body).outcome == "succeeded"
    assert deliver(body).outcome == "duplicate"
    # the same success under another event id does not fund it again either
    assert deliver(signed_body(sent.intent)).outcome == "already_succeeded"
    # and a failure arriving after the success changes nothing
    assert deliver(signed_body(sent.intent, status="failed")).outcome.startswith("ignored_")
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.ACTIVE
    assert escrow_fen(sent.packet) == 1000
    assert fund_transactions(sent.packet) == 1
    reconcile_ok()


def test_a_failure_before_the_success_leaves_it_pending_then_it_is_cancelled() -> None:
    sender = funded_user(200, verified=True)
    sent = send_paid(sender, total=1000)
    assert deliver(signed_body(sent.intent, status="failed")).outcome == "failed"
    assert wallet_fen(sender) == 200  # the held wallet part came back
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.PENDING_PAYMENT
    assert payment_funding.red_packet_cancel_unpaid_due(now=sent.packet.pay_by) == 1
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.CANCELLED
    reconcile_ok()


def test_a_wrong_amount_moves_nothing_and_flags_the_intent() -> None:
    sent = send_paid()
    with pytest.raises(AmountMismatch):
        deliver(signed_body(sent.intent, amount=999))
    intent = PaymentIntent.objects.get(pk=sent.intent.pk)
    assert intent.flag == "amount_mismatch"
    assert intent.status != IntentStatus.SUCCEEDED
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.PENDING_PAYMENT
    assert escrow_fen(sent.packet) == 0 and fund_transactions(sent.packet) == 0
    reconcile_ok()


def test_unpaid_by_the_deadline_it_is_cancelled_and_no_money_moved() -> None:
    sender = funded_user(400, verified=True)
    sent = send_paid(sender, total=1000)
    assert RiskActivity.objects.filter(reference=f"redpacket:{sent.packet.pk}").count() == 1
    # not before the deadline
    assert payment_funding.red_packet_cancel_unpaid_due() == 0

    deadline = sent.packet.pay_by
    assert payment_funding.red_packet_cancel_unpaid_due(now=deadline) == 1
    assert payment_funding.red_packet_cancel_unpaid_due(now=deadline) == 0  # safe twice
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.CANCELLED
    assert escrow_fen(sent.packet) == 0 and fund_transactions(sent.packet) == 0
    # it no longer counts towards the sender's daily limits
    assert not RiskActivity.objects.filter(reference=f"redpacket:{sent.packet.pk}").exists()
    with pytest.raises(PacketCancelled):
        red_packet_claim(packet_id=sent.packet.pk, user=funded_user(0))
    # its payment intent is cancelled with it: the held wallet part is back at once, and
    # payments' own expiry has nothing left to do
    sent.intent.refresh_from_db()
    assert sent.intent.status == IntentStatus.CANCELLED
    assert wallet_fen(sender) == 400
    assert payment_intents_expire_due(now=deadline + timedelta(minutes=11)) == 0
    assert wallet_fen(sender) == 400
    reconcile_ok()


def test_a_payment_arriving_after_the_cancel_is_refunded_in_full() -> None:
    sender = funded_user(100, verified=True)
    sent = send_paid(sender, total=1000)
    assert payment_funding.red_packet_cancel_unpaid_due(now=sent.packet.pay_by) == 1

    # the cancel cancelled the intent and gave the wallet part (100) back
    sent.intent.refresh_from_db()
    assert sent.intent.status == IntentStatus.CANCELLED and wallet_fen(sender) == 100

    # the provider's notification comes late (the payer had the pay page open): still refunded
    assert deliver(signed_body(sent.intent)).outcome == "succeeded_refunded"
    sent.packet.refresh_from_db()
    assert sent.packet.status == PacketStatus.CANCELLED
    assert escrow_fen(sent.packet) == 0 and fund_transactions(sent.packet) == 0
    refund = Refund.objects.get(intent=sent.intent)
    assert (refund.amount_fen, refund.provider_amount_fen, refund.wallet_amount_fen) == (
        900,
        900,
        0,
    )
    sent.intent.refresh_from_db()
    assert sent.intent.status == IntentStatus.SUCCEEDED and sent.intent.flag == "late_success"
    relay_all()  # the refund goes to the provider
    assert account_balance(intent_escrow_account(sent.intent)).amount == 0
    assert wallet_fen(sender) == 100
    # a duplicate of the late notification refunds nothing more
    assert deliver(signed_body(sent.intent)).outcome != "succeeded_refunded"
    assert Refund.objects.filter(intent=sent.intent).count() == 1
    reconcile_ok()


def test_the_sender_can_give_up_paying() -> None:
    sender = funded_user(0, verified=True)
    sent = send_paid(sender)
    api = Api(sender)
    other = Api(funded_user(0)).post_json(
        f"/red-packets/{sent.packet.pk}/cancel", {}, headers={"Idempotency-Key": "c0"}
    )
    assert other.status_code == 404
    done = api.post_json(
        f"/red-packets/{sent.packet.pk}/cancel", {}, headers={"Idempotency-Key": "c1"}
    )
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    with pytest.raises(PacketNotPayable):
        payment_funding.red_packet_cancel_unpaid(sender=sender, packet_id=sent.packet.pk)
    sent.intent.refresh_from_db()
    assert sent.intent.status == IntentStatus.CANCELLED  # its payment intent went with it
    assert deliver(signed_body(sent.intent)).outcome == "succeeded_refunded"
    assert Refund.objects.get(intent=sent.intent).amount_fen == sent.intent.provider_amount_fen
    reconcile_ok()


def test_cancelling_returns_the_held_wallet_part_at_once() -> None:
    sender = funded_user(300, verified=True)
    sent = send_paid(sender, total=1000)
    assert wallet_fen(sender) == 0  # 300 held by the intent
    payment_funding.red_packet_cancel_unpaid(sender=sender, packet_id=sent.packet.pk)
    sent.intent.refresh_from_db()
    assert sent.intent.status == IntentStatus.CANCELLED
    assert wallet_fen(sender) == 300
    assert account_balance(intent_escrow_account(sent.intent)).amount == 0
    # a failure notification afterwards moves nothing (the hold went back once)
    deliver(signed_body(sent.intent, status="failed"))
    assert wallet_fen(sender) == 300
    reconcile_ok()


def test_risk_control_refuses_before_anything_is_written() -> None:
    # an unverified account may send at most ¥200.00 a packet
    sender = funded_user(0)
    with pytest.raises(RiskDenied):
        send_paid(sender, total=50_000)
    assert not RedPacket.objects.filter(sender=sender).exists()
    assert not PaymentIntent.objects.filter(payer=sender).exists()


def test_bad_funding_input_is_a_clear_400_and_writes_nothing() -> None:
    sender = funded_user(0, verified=True)
    api = Api(sender)
    bad = api.post_json(
        "/red-packets",
        {"total_fen": 1000, "count": 2, "funding": "credit"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert bad.status_code == 400 and bad.json()["code"] == "funding_invalid"
    unknown = api.post_json(
        "/red-packets",
        {"total_fen": 1000, "count": 2, "funding": "payment", "provider": "nope"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_provider"
    assert not RedPacket.objects.filter(sender=sender).exists()
    keyless = api.post_json("/red-packets", {"total_fen": 1000, "count": 2, "funding": "payment"})
    assert keyless.status_code == 400
    assert not RedPacket.objects.filter(sender=sender).exists()


def test_wallet_sends_are_marked_funded_by_the_wallet() -> None:
    sender = funded_user(5000, verified=True)
    response = Api(sender).post_json(
        "/red-packets", {"total_fen": 1000, "count": 2}, headers={"Idempotency-Key": "w"}
    )
    assert response.status_code == 201
    assert response.json()["funding"] == Funding.WALLET
    assert response.json()["payment"] is None
    assert not RedPacketClaim.objects.exists()


def test_the_charts_count_a_paid_packet_once_it_is_funded() -> None:
    from yaji.redpackets.selectors import red_packet_dashboard

    def sent() -> int:
        return sum(row.sent_n for row in red_packet_dashboard(days=1).hours)

    paid = send_paid()
    unpaid = send_paid()
    assert sent() == 0
    deliver(signed_body(paid.intent))
    payment_funding.red_packet_cancel_unpaid_due(now=unpaid.packet.pay_by)
    assert sent() == 1
