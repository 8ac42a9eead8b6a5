"""The Redis gate: Lua semantics, the claim path through it, compensation, rebuild,
reconciliation. Needs REDIS_URL (skipped without it; the database alone is tested elsewhere)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

from yaji.community.tests.factories import audio_work
from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.ledger.reconciliation import NullProgress
from yaji.redpackets import gate as gate_module
from yaji.redpackets.gate import STALE_MS, PacketGate, Verdict, packet_gate
from yaji.redpackets.models import RedPacketClaim
from yaji.redpackets.reconciliation import check_red_packet_gate
from yaji.redpackets.services import red_packet_claim, red_packet_send
from yaji.redpackets.tests.factories import UserFactory, completed_play, funded_user, reconcile_ok

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")

PACKET = 990_001  # ids for the pure-Lua tests: far from the test database's packets


def code_of(fn, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as err:
        fn(**kw)
    return err.value.code


@pytest.fixture
def gate() -> PacketGate:
    g = packet_gate()
    assert g is not None
    g.forget(PACKET)
    yield g
    g.forget(PACKET)


def admit(g: PacketGate, user: int, *, now=None, checked: bool = False) -> Verdict:  # type: ignore[no-untyped-def]
    return g.admit(packet_id=PACKET, user_id=user, now=now or clock.now(), access_checked=checked)


def open_gate(g: PacketGate, left: int, *, open_access: bool = True, claimed=()) -> None:  # type: ignore[no-untyped-def]
    assert g.init(
        packet_id=PACKET,
        left=left,
        expires_at=clock.now() + timedelta(hours=1),
        open_access=open_access,
        claimed=claimed,
    )


# --- Lua semantics ----------------------------------------------------------------------------


def test_missing_then_admit_confirm_already_taken(gate: PacketGate) -> None:
    assert admit(gate, 1) == Verdict.MISSING
    open_gate(gate, 2)
    assert admit(gate, 1) == Verdict.ADMITTED
    assert admit(gate, 1) == Verdict.BYPASS  # a double click while the first is in flight
    gate.confirm(packet_id=PACKET, user_id=1)
    assert admit(gate, 1) == Verdict.ALREADY
    assert admit(gate, 2) == Verdict.ADMITTED
    # One slot pending: "all taken" would be a guess, so the database decides.
    assert admit(gate, 3) == Verdict.BYPASS
    gate.confirm(packet_id=PACKET, user_id=2)
    assert admit(gate, 3) == Verdict.TAKEN
    state = gate.state(PACKET)
    assert state.left == 0 and state.claimed == {1, 2} and state.pending == set()


def test_release_gives_the_slot_back(gate: PacketGate) -> None:
    open_gate(gate, 1)
    assert admit(gate, 1) == Verdict.ADMITTED
    gate.release(packet_id=PACKET, user_id=1)
    gate.release(packet_id=PACKET, user_id=1)  # twice: still one slot
    assert gate.state(PACKET).left == 1
    assert admit(gate, 2) == Verdict.ADMITTED


def test_leaked_admission_is_reclaimed_after_stale(gate: PacketGate) -> None:
    open_gate(gate, 1)
    t0 = clock.now()
    assert admit(gate, 1, now=t0) == Verdict.ADMITTED  # its process dies: never released
    assert admit(gate, 2, now=t0) == Verdict.BYPASS
    later = t0 + timedelta(milliseconds=STALE_MS + 1)
    assert admit(gate, 2, now=later) == Verdict.ADMITTED
    # The slow one did commit after all: confirm counts it, the books stay exact.
    gate.confirm(packet_id=PACKET, user_id=1)
    state = gate.state(PACKET)
    assert state.left == -1 and state.claimed == {1} and state.pending == {2}


def test_init_never_clobbers_and_restricted_needs_check(gate: PacketGate) -> None:
    open_gate(gate, 3, open_access=False, claimed=[7])
    assert not gate.init(packet_id=PACKET, left=9, expires_at=clock.now(), open_access=True)
    assert admit(gate, 7) == Verdict.ALREADY
    assert admit(gate, 8) == Verdict.CHECK
    assert admit(gate, 8, checked=True) == Verdict.ADMITTED


def test_expiry_and_close(gate: PacketGate) -> None:
    open_gate(gate, 3)
    assert admit(gate, 1, now=clock.now() + timedelta(hours=2)) == Verdict.EXPIRED
    assert admit(gate, 1) == Verdict.ADMITTED
    gate.close(packet_id=PACKET, user_id=1, done="finished")
    assert admit(gate, 2) == Verdict.TAKEN
    assert gate.state(PACKET).pending == set()


# --- the claim path ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_gate_answers_taken_and_already_without_the_database(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=200, count=2, split_type="equal")
    users = [UserFactory() for _ in range(3)]
    for user in users[:2]:
        red_packet_claim(packet_id=packet.pk, user=user)
    with django_assert_num_queries(0):
        assert code_of(red_packet_claim, packet_id=packet.pk, user=users[2]) == "packet_finished"
        assert (
            code_of(red_packet_claim, packet_id=packet.pk, user=users[0])
            == "packet_already_claimed"
        )
    reconcile_ok()


@pytest.mark.django_db
def test_failed_claim_gives_the_slot_back() -> None:
    work = audio_work()
    packet = red_packet_send(
        sender=funded_user(),
        total_fen=100,
        count=1,
        split_type="equal",
        work_id=work.pk,
        condition="listened_full",
    )
    impatient, listener = UserFactory(), UserFactory()
    assert code_of(red_packet_claim, packet_id=packet.pk, user=impatient) == "listen_required"
    gate = packet_gate()
    assert gate is not None and gate.state(packet.pk).left == 1  # compensated
    completed_play(user=listener, work=work)
    assert red_packet_claim(packet_id=packet.pk, user=listener).amount_fen == 100
    reconcile_ok()


@pytest.mark.django_db
def test_lost_gate_is_rebuilt_from_the_database() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=300, count=3, split_type="equal")
    first = UserFactory()
    red_packet_claim(packet_id=packet.pk, user=first)
    gate = packet_gate()
    assert gate is not None
    gate.forget(packet.pk)  # Redis restarted / evicted
    assert code_of(red_packet_claim, packet_id=packet.pk, user=first) == "packet_already_claimed"
    state = gate.state(packet.pk)
    assert state.left == 2 and state.claimed == {first.pk}
    red_packet_claim(packet_id=packet.pk, user=UserFactory())
    reconcile_ok()


@pytest.mark.django_db
def test_redis_down_means_database_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=200, count=2, split_type="equal")

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("down")

    monkeypatch.setattr(gate_module.PacketGate, "admit", down)
    user = UserFactory()
    assert red_packet_claim(packet_id=packet.pk, user=user).amount_fen == 100
    assert code_of(red_packet_claim, packet_id=packet.pk, user=user) == "packet_already_claimed"
    assert RedPacketClaim.objects.filter(packet=packet).count() == 1


@pytest.mark.django_db
def test_reconciliation_catches_a_gate_that_lies() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=300, count=3, split_type="equal")
    red_packet_claim(packet_id=packet.pk, user=UserFactory())
    assert check_red_packet_gate(NullProgress()) == []
    gate = packet_gate()
    assert gate is not None
    left_key, claimed_key, _pending, _meta = gate.keys(packet.pk)
    gate.client.sadd(claimed_key, 424242)  # would turn user 424242 away wrongly
    gate.client.decr(left_key)
    found = check_red_packet_gate(NullProgress())
    subjects = {d.subject for d in found}
    assert f"red packet #{packet.pk} gate claimed but not in the database" in subjects
    assert f"red packet #{packet.pk} gate remaining" in subjects
