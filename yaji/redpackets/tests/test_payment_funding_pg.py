"""Payment-funded packets under real concurrency on PostgreSQL (ADR 0042): a notification
racing the unpaid-cancel job, one notification delivered by many threads, grabbers racing the
packet's go-live."""

from __future__ import annotations

import pytest

from yaji.ledger.models import LedgerTransaction
from yaji.ledger.selectors import account_balance
from yaji.payments.models import Refund
from yaji.payments.services import intent_escrow_account
from yaji.redpackets import payment_funding
from yaji.redpackets.models import PacketStatus, RedPacket, RedPacketClaim
from yaji.redpackets.services import escrow_account_for, red_packet_claim
from yaji.redpackets.tests.factories import UserFactory, reconcile_ok
from yaji.redpackets.tests.test_payment_funding import deliver, send_paid, signed_body
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    settings.YAJI_PAYMENT_PROVIDER = "sandbox"


def funds(packet: RedPacket) -> int:
    return LedgerTransaction.objects.filter(reference=f"redpacket:{packet.pk}:fund").count()


def test_a_notification_racing_the_cancel_job_ends_paid_xor_cancelled_and_refunded() -> None:
    # (one sender each: more than 5 packets a day from one account asks for a step-up)
    sents = [send_paid(total=500 + i, count=2) for i in range(8)]
    for sent in sents:
        body = signed_body(sent.intent)

        def work(i: int, sent=sent, body=body) -> object:  # type: ignore[no-untyped-def]
            if i == 0:
                return deliver(body)
            return payment_funding.red_packet_cancel_unpaid_due(now=sent.packet.pay_by)

        outcomes = race(2, work)
        assert outcomes == {"ok": 2}, outcomes
        packet = RedPacket.objects.get(pk=sent.packet.pk)
        refunds = Refund.objects.filter(intent=sent.intent).count()
        if packet.status == PacketStatus.ACTIVE:
            assert funds(packet) == 1 and refunds == 0
            assert account_balance(escrow_account_for(packet)).amount == packet.total_fen
            assert account_balance(intent_escrow_account(sent.intent)).amount == 0
        else:
            # the payment came after the cancel: refunded in full (payments submits it to
            # the provider and retries; reconciliation covers the money in flight)
            assert packet.status == PacketStatus.CANCELLED
            assert funds(packet) == 0 and refunds == 1
            assert Refund.objects.get(intent=sent.intent).amount_fen == packet.total_fen
            assert account_balance(escrow_account_for(packet)).amount == 0
    reconcile_ok()


def test_one_notification_delivered_by_ten_threads_funds_the_packet_once() -> None:
    sent = send_paid(total=2_000, count=10)
    body = signed_body(sent.intent, event_id="evt_storm")
    outcomes = race(10, lambda i: deliver(body))
    assert outcomes == {"ok": 10}, outcomes
    packet = RedPacket.objects.get(pk=sent.packet.pk)
    assert packet.status == PacketStatus.ACTIVE and funds(packet) == 1
    assert account_balance(escrow_account_for(packet)).amount == 2_000
    reconcile_ok()


def test_grabbers_racing_the_go_live_get_a_share_or_are_told_to_wait() -> None:
    sent = send_paid(total=3_000, count=30)
    body = signed_body(sent.intent)
    users = [UserFactory() for _ in range(40)]

    def work(i: int) -> object:
        if i == 0:
            return deliver(body)
        return red_packet_claim(packet_id=sent.packet.pk, user=users[i - 1])

    outcomes = race(41, work)
    assert sum(outcomes.values()) == 41, outcomes
    assert set(outcomes) <= {"ok", "packet_pending_payment", "packet_finished"}, outcomes
    packet = RedPacket.objects.get(pk=sent.packet.pk)
    assert packet.status in (PacketStatus.ACTIVE, PacketStatus.FINISHED)
    claims = RedPacketClaim.objects.filter(packet=packet)
    assert claims.count() == packet.claimed_count == outcomes["ok"] - 1
    assert sum(c.amount_fen for c in claims) == packet.claimed_fen
    reconcile_ok()
