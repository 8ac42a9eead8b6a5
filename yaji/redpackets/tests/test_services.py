from __future__ import annotations

import random
from datetime import timedelta

import pytest

from yaji.community.tests.factories import audio_work
from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.ledger.selectors import user_wallet_balance
from yaji.redpackets.management.commands import redpackets_expire  # noqa: F401
from yaji.redpackets.models import RedPacket, RedPacketClaim, RedPacketShare
from yaji.redpackets.services import (
    red_packet_claim,
    red_packet_expire_due,
    red_packet_send,
)
from yaji.redpackets.tests.factories import UserFactory, completed_play, funded_user, reconcile_ok

pytestmark = pytest.mark.django_db


def code_of(fn, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as err:
        fn(**kw)
    return err.value.code


def test_send_claim_finish_and_luckiest() -> None:
    sender = funded_user(10_000)
    packet = red_packet_send(
        sender=sender, total_fen=1_000, count=3, split_type="lucky", rng=random.Random(3)
    )
    assert user_wallet_balance(sender).amount == 9_000
    users = [UserFactory() for _ in range(3)]
    results = [red_packet_claim(packet_id=packet.pk, user=u) for u in users]
    assert [r.finished for r in results] == [False, False, True]
    assert sum(r.amount_fen for r in results) == 1_000
    for user, result in zip(users, results, strict=True):
        assert user_wallet_balance(user).amount == result.amount_fen
    best = max(results, key=lambda r: r.amount_fen)
    assert results[-1].luckiest is not None
    assert results[-1].luckiest.amount_fen == best.amount_fen
    packet.refresh_from_db()
    assert packet.status == "finished" and packet.claimed_fen == 1_000
    assert code_of(red_packet_claim, packet_id=packet.pk, user=UserFactory()) == "packet_finished"
    reconcile_ok()


def test_equal_split_shares() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=1_001, count=4, split_type="equal")
    amounts = list(
        RedPacketShare.objects.filter(packet=packet)
        .order_by("seq")
        .values_list("amount_fen", flat=True)
    )
    assert amounts == [251, 250, 250, 250]
    reconcile_ok()


def test_insufficient_funds_writes_nothing() -> None:
    sender = funded_user(500)
    assert (
        code_of(red_packet_send, sender=sender, total_fen=501, count=2, split_type="lucky")
        == "insufficient_funds"
    )
    assert not RedPacket.objects.exists() and not RedPacketShare.objects.exists()
    assert user_wallet_balance(sender).amount == 500
    reconcile_ok()


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"total_fen": 1, "count": 2}, "packet_amount_too_small"),
        ({"total_fen": 1000, "count": 201}, "packet_count_invalid"),
        ({"total_fen": 10**9, "count": 2}, "packet_amount_out_of_range"),
        ({"total_fen": 100, "count": 2, "split_type": "weird"}, "packet_invalid"),
        ({"total_fen": 100, "count": 2, "blessing": "福" * 61}, "packet_invalid"),
        ({"total_fen": 100, "count": 2, "condition": "listened_full"}, "packet_invalid"),
        ({"total_fen": 100, "count": 2, "audience": "everyone"}, "packet_invalid"),
        ({"total_fen": 100, "count": 2, "blessing": "来玩时时彩"}, "blessing_rejected"),
        ({"total_fen": 100, "count": 2, "blessing": "红包接龙走起"}, "blessing_rejected"),
        ({"total_fen": 100, "count": 2, "audience": "followers"}, "audience_unreachable"),
        ({"total_fen": 100, "count": 2, "audience": "city"}, "location_required"),
        (
            {"total_fen": 100, "count": 2, "audience": "city", "lat": 91, "lng": 0},
            "location_invalid",
        ),
    ],
)
def test_bad_sends_move_nothing(kw: dict, code: str) -> None:
    sender = funded_user(1_000)
    kw = {"split_type": "lucky", **kw}
    assert code_of(red_packet_send, sender=sender, **kw) == code
    assert not RedPacket.objects.exists()
    assert user_wallet_balance(sender).amount == 1_000


def test_double_claim_is_refused_and_sender_may_grab() -> None:
    sender = funded_user()
    packet = red_packet_send(sender=sender, total_fen=300, count=3, split_type="equal")
    grabber = UserFactory()
    red_packet_claim(packet_id=packet.pk, user=grabber)
    assert code_of(red_packet_claim, packet_id=packet.pk, user=grabber) == "packet_already_claimed"
    assert red_packet_claim(packet_id=packet.pk, user=sender).amount_fen == 100
    packet.refresh_from_db()
    assert packet.claimed_count == 2
    reconcile_ok()


def test_listen_condition() -> None:
    work = audio_work()
    packet = red_packet_send(
        sender=funded_user(),
        total_fen=200,
        count=2,
        split_type="equal",
        work_id=work.pk,
        condition="listened_full",
    )
    fan = UserFactory()
    assert code_of(red_packet_claim, packet_id=packet.pk, user=fan) == "listen_required"
    assert not RedPacketClaim.objects.exists()
    completed_play(user=fan, work=work)
    assert red_packet_claim(packet_id=packet.pk, user=fan).amount_fen == 100
    reconcile_ok()


def test_group_packet_needs_the_token() -> None:
    packet = red_packet_send(
        sender=funded_user(), total_fen=200, count=2, split_type="equal", audience="group"
    )
    assert packet.invite_token
    fan = UserFactory()
    assert code_of(red_packet_claim, packet_id=packet.pk, user=fan) == "packet_forbidden"
    assert (
        code_of(red_packet_claim, packet_id=packet.pk, user=fan, invite_token="wrong")
        == "packet_forbidden"
    )
    assert red_packet_claim(packet_id=packet.pk, user=fan, invite_token=packet.invite_token)
    reconcile_ok()


def test_expiry_refunds_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sender = funded_user(10_000)
    packet = red_packet_send(sender=sender, total_fen=1_000, count=4, split_type="lucky")
    claimed = red_packet_claim(packet_id=packet.pk, user=UserFactory()).amount_fen
    assert red_packet_expire_due() == 0
    later = clock.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert code_of(red_packet_claim, packet_id=packet.pk, user=UserFactory()) == "packet_expired"
    assert red_packet_expire_due() == 1
    assert red_packet_expire_due() == 0
    packet.refresh_from_db()
    assert packet.status == "expired_refunded"
    assert packet.refunded_fen == 1_000 - claimed
    assert packet.claimed_fen + packet.refunded_fen == packet.total_fen
    assert user_wallet_balance(sender).amount == 9_000 + packet.refunded_fen
    assert code_of(red_packet_claim, packet_id=packet.pk, user=UserFactory()) == "packet_expired"
    reconcile_ok()


def test_expire_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import call_command

    packet = red_packet_send(sender=funded_user(), total_fen=100, count=1, split_type="lucky")
    later = clock.now() + timedelta(hours=25)
    monkeypatch.setattr(clock, "now", lambda: later)
    call_command("redpackets_expire")
    packet.refresh_from_db()
    assert packet.refunded_fen == 100
    reconcile_ok()
