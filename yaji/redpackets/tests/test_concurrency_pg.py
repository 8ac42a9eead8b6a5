"""Real concurrency on PostgreSQL: many grabbers, one packet."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from yaji.redpackets.models import RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_claim, red_packet_expire_due, red_packet_send
from yaji.redpackets.tests.factories import UserFactory, funded_user, reconcile_ok
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# The server allows 100 connections, shared with other test runs: 120 threads are released
# together but at most this many hold a connection at once (each closes it when done).
CONNECTIONS = threading.BoundedSemaphore(50)


def limited(fn):  # type: ignore[no-untyped-def]
    def run(i: int) -> object:
        from django.db import connection

        with CONNECTIONS:
            try:
                return fn(i)
            finally:
                connection.close()

    return run


def test_120_grabbers_on_100_shares() -> None:
    packet = red_packet_send(
        sender=funded_user(100_000, verified=True),
        total_fen=50_000,
        count=100,
        split_type="lucky",
        rng=random.Random(1),
    )
    users = [UserFactory() for _ in range(120)]
    outcomes = race(120, limited(lambda i: red_packet_claim(packet_id=packet.pk, user=users[i])))
    assert outcomes == {"ok": 100, "packet_finished": 20}, outcomes
    packet.refresh_from_db()
    assert packet.claimed_count == 100 and packet.claimed_fen == 50_000
    assert packet.status == "finished"
    claimers = list(RedPacketClaim.objects.filter(packet=packet).values_list("user_id", flat=True))
    assert len(claimers) == len(set(claimers)) == 100
    reconcile_ok()


def test_same_user_twenty_times_gets_one_share() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=1_000, count=10, split_type="equal")
    user = UserFactory()
    outcomes = race(20, lambda i: red_packet_claim(packet_id=packet.pk, user=user))
    assert sum(outcomes.values()) == 20, outcomes
    assert outcomes["ok"] == 1 and outcomes["packet_already_claimed"] == 19, outcomes
    packet.refresh_from_db()
    assert packet.claimed_count == 1
    reconcile_ok()


def test_expiry_racing_late_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=5_000, count=50, split_type="lucky")
    users = [UserFactory() for _ in range(40)]
    # Claims decide with the clock before expiry; the refund runs as if 24 h have passed.
    late = packet.expires_at + timedelta(seconds=1)

    def work(i: int) -> object:
        if i < 4:
            return red_packet_expire_due(now=late)
        return red_packet_claim(packet_id=packet.pk, user=users[i - 4])

    outcomes = race(44, limited(work))
    assert sum(outcomes.values()) == 44, outcomes  # no thread crashed
    assert set(outcomes) <= {"ok", "packet_expired"}, outcomes
    packet.refresh_from_db()
    assert packet.status == "expired_refunded"
    assert packet.claimed_fen + packet.refunded_fen == packet.total_fen
    assert RedPacketClaim.objects.filter(packet=packet).count() == packet.claimed_count
    assert RedPacket.objects.get(pk=packet.pk).claimed_count <= 36
    reconcile_ok()


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis-gate", "database-alone"])
def test_150_grabbers_one_packet_gate_and_database_agree(settings, with_redis: bool) -> None:  # type: ignore[no-untyped-def]
    """≥ 100 threads on one packet, through the gate when Redis is configured and without it:
    claimed + remaining == total to the fen, nobody twice, the gate agrees with the database."""
    if with_redis and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    if not with_redis:
        settings.REDIS_URL = None
    total = 37_777
    packet = red_packet_send(
        sender=funded_user(100_000, verified=True),
        total_fen=total,
        count=100,
        split_type="lucky",
        rng=random.Random(5),
    )
    users = [UserFactory() for _ in range(150)]
    # 150 distinct grabbers, and 20 of them try twice at the same moment.
    who = list(range(150)) + list(range(20))
    outcomes = race(
        len(who), limited(lambda i: red_packet_claim(packet_id=packet.pk, user=users[who[i]]))
    )
    assert outcomes["ok"] == 100, outcomes
    assert set(outcomes) <= {"ok", "packet_finished", "packet_already_claimed"}, outcomes
    assert sum(outcomes.values()) == len(who)
    packet.refresh_from_db()
    remaining = packet.total_fen - packet.claimed_fen - packet.refunded_fen
    claims = list(RedPacketClaim.objects.filter(packet=packet).values_list("user_id", "amount_fen"))
    assert packet.claimed_fen + remaining == total and remaining == 0
    assert sum(a for _u, a in claims) == total
    assert len(claims) == len({u for u, _a in claims}) == 100
    if with_redis:
        from yaji.redpackets.gate import packet_gate

        gate = packet_gate()
        assert gate is not None
        state = gate.state(packet.pk)
        assert state.claimed == {u for u, _a in claims} and state.pending == set()
        assert state.left == 0
        # Sold out: the gate alone answers now, for newcomers and winners alike.
        assert red_packet_claim_code(packet.pk, UserFactory()) == "packet_finished"
        winner = next(u for u in users if u.pk == claims[0][0])
        assert red_packet_claim_code(packet.pk, winner) == "packet_already_claimed"
    reconcile_ok()


def red_packet_claim_code(packet_id: int, user) -> str:  # type: ignore[no-untyped-def]
    from yaji.core.errors import ApplicationError

    try:
        red_packet_claim(packet_id=packet_id, user=user)
    except ApplicationError as exc:
        return exc.code
    return "ok"
