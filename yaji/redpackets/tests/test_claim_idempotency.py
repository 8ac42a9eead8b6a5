"""The grab's Idempotency-Key (in-transaction mode): the answer of a grab that got a share is
stored with the claim; refusals moved nothing and are not stored, yet a retry of a success
replays it, whatever the gate or the database would say now."""

from __future__ import annotations

import pytest

from yaji.community.tests.factories import audio_work
from yaji.core.models import IdempotencyRecord
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.tests.factories import Api
from yaji.redpackets import services
from yaji.redpackets.models import RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_send
from yaji.redpackets.tests.factories import (
    UserFactory,
    completed_play,
    funded_user,
    reconcile_ok,
)
from yaji.risk.models import RiskDecision

pytestmark = pytest.mark.django_db


def grab(api: Api, packet_id: int, key: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return api.post_json(
        f"/red-packets/{packet_id}/claim", body or {}, headers={"Idempotency-Key": key}
    )


def packet(count: int = 2, **kw) -> RedPacket:  # type: ignore[no-untyped-def]
    return red_packet_send(
        sender=funded_user(10_000), total_fen=100 * count, count=count, split_type="equal", **kw
    )


def test_a_successful_grab_replays_after_the_packet_finished() -> None:
    p = packet(count=1)
    fan = Api(UserFactory())
    won = grab(fan, p.pk, "k1")
    assert won.status_code == 200 and won.json()["finished"] is True
    assert won.json()["luckiest"]["amount_fen"] == 100
    replay = grab(fan, p.pk, "k1")
    assert replay.status_code == 200 and replay.content == won.content
    assert replay["Idempotent-Replayed"] == "true"
    other_key = grab(fan, p.pk, "k2")
    assert other_key.status_code == 409 and other_key.json()["code"] == "packet_already_claimed"
    late = grab(Api(UserFactory()), p.pk, "k1")  # another caller's scope: its own key
    assert late.status_code == 409 and late.json()["code"] == "packet_finished"
    assert IdempotencyRecord.objects.count() == 1  # refusals are not stored
    reconcile_ok()


def test_a_key_reused_for_another_packet_moves_nothing() -> None:
    first, second = packet(), packet()
    user = UserFactory()
    fan = Api(user)
    assert grab(fan, first.pk, "same").status_code == 200
    before = user_wallet_balance(user).amount
    reused = grab(fan, second.pk, "same")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    second.refresh_from_db()
    assert second.claimed_count == 0 and second.claimed_fen == 0
    assert not RedPacketClaim.objects.filter(packet=second).exists()
    assert user_wallet_balance(user).amount == before
    # the slot went back (gate released, database rolled back): a fresh key grabs it
    assert grab(fan, second.pk, "fresh").status_code == 200
    reconcile_ok()


def test_a_refusal_is_not_stored_so_the_same_key_may_try_again() -> None:
    work = audio_work()
    p = packet(work_id=work.pk, condition="listened_full")
    user = UserFactory()
    fan = Api(user)
    refused = grab(fan, p.pk, "k")
    assert refused.status_code == 403 and refused.json()["code"] == "listen_required"
    assert not IdempotencyRecord.objects.exists()
    completed_play(user=user, work=work)
    won = grab(fan, p.pk, "k")
    assert won.status_code == 200 and "Idempotent-Replayed" not in won
    assert grab(fan, p.pk, "k").content == won.content
    reconcile_ok()


def test_every_risk_decision_is_logged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    p = packet(count=1)
    winner, loser = UserFactory(), UserFactory()
    assert grab(Api(winner), p.pk, "a").status_code == 200
    assert RiskDecision.objects.filter(user=winner, action="redpacket.claim").count() == 1
    # The loser reads the packet before it finished (stale pre-check), is allowed by risk,
    # then the database says finished: the allow is logged all the same.
    RedPacket.objects.filter(pk=p.pk).update(status="active")
    RedPacket.objects.filter(pk=p.pk).update(claimed_count=1)
    # (the database path: a Redis gate would say "all taken" before risk is asked at all)
    monkeypatch.setattr(services, "packet_gate", lambda: None)
    finished = grab(Api(loser), p.pk, "b")
    assert finished.status_code == 409 and finished.json()["code"] == "packet_finished"
    assert RiskDecision.objects.filter(user=loser, action="redpacket.claim").count() == 1
