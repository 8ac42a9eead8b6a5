"""Every rule, with its boundaries, through ``risk_check`` (and the red-packet send it guards)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from yaji.accounts.services import face_verify
from yaji.accounts.tests.factories import UserFactory, operator
from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.payments.tests.factories import Api
from yaji.redpackets.models import RedPacket
from yaji.redpackets.services import red_packet_claim, red_packet_send
from yaji.redpackets.tests.factories import funded_user
from yaji.risk.models import (
    BlacklistEntry,
    Outcome,
    ReviewStatus,
    RiskDecision,
    RiskReview,
    RiskRule,
)
from yaji.risk.rules import in_night_window
from yaji.risk.services import (
    risk_activity_record,
    risk_blacklist_add,
    risk_check,
    risk_review_decide,
    risk_rules_reload,
)
from yaji.risk.tests.factories import kyc_verified, make_minor

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
SEND = "redpacket.send"
CLAIM = "redpacket.claim"


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the clock: ``at(local_hour, minute)`` on 2026-11-22 Asia/Shanghai, or a datetime."""

    def set_to(hour: int | datetime = 12, minute: int = 0) -> datetime:
        moment = (
            hour
            if isinstance(hour, datetime)
            else NOON.replace(hour=0) + timedelta(hours=hour - 8, minutes=minute)
        )
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment

    set_to(12)
    return set_to


def code(**kw) -> str:  # type: ignore[no-untyped-def]
    try:
        risk_check(**kw)
    except ApplicationError as exc:
        return exc.code
    return "ok"


def adult():  # type: ignore[no-untyped-def]
    return kyc_verified(UserFactory())


def sent(user, amount: int, *, action: str = SEND, ago: timedelta = timedelta(0), **kw) -> None:  # type: ignore[no-untyped-def]
    real = clock.now()
    moment = real - ago
    from unittest import mock

    with mock.patch.object(clock, "now", lambda: moment):
        risk_activity_record(user=user, action=action, amount_fen=amount, **kw)


# --- limits -----------------------------------------------------------------------------------


def test_single_limit_boundary_verified_adult(at) -> None:  # type: ignore[no-untyped-def]
    user = adult()
    assert code(user=user, action=SEND, amount_fen=500_000) == "ok"  # exactly 5,000 yuan
    assert code(user=user, action=SEND, amount_fen=500_001) == "risk_denied"  # 5,000.01
    decision = RiskDecision.objects.filter(user=user).latest("id")
    assert decision.outcome == Outcome.DENY
    assert decision.reasons[0]["rule"] == "single_limit"
    assert decision.reasons[0]["detail"]["limit_fen"] == 500_000


def test_single_packet_of_5000_yuan_through_the_service(at) -> None:  # type: ignore[no-untyped-def]
    sender = funded_user(1_000_000, verified=True)
    packet = red_packet_send(sender=sender, total_fen=500_000, count=10, split_type="equal")
    assert packet.total_fen == 500_000
    with pytest.raises(ApplicationError) as err:
        red_packet_send(sender=sender, total_fen=500_001, count=10, split_type="equal")
    assert err.value.code == "risk_denied"


def test_lower_limits_unverified_and_minor(at) -> None:  # type: ignore[no-untyped-def]
    unverified = UserFactory()
    assert code(user=unverified, action=SEND, amount_fen=20_000) == "ok"
    assert code(user=unverified, action=SEND, amount_fen=20_001) == "risk_denied"
    minor = make_minor(UserFactory())
    assert minor.is_minor
    assert code(user=minor, action=SEND, amount_fen=5_000) == "ok"
    assert code(user=minor, action=SEND, amount_fen=5_001) == "risk_denied"


def test_daily_limit_boundary_and_day_start(at) -> None:  # type: ignore[no-untyped-def]
    user = adult()
    sent(user, 500_000, ago=timedelta(hours=12, minutes=1))  # 23:59 yesterday: not today
    sent(user, 300_000, ago=timedelta(hours=2))
    sent(user, 300_000, ago=timedelta(hours=1))
    assert code(user=user, action=SEND, amount_fen=400_000) == "ok"  # 10,000 yuan exactly
    assert code(user=user, action=SEND, amount_fen=400_001) == "risk_denied"
    reasons = RiskDecision.objects.filter(user=user).latest("id").reasons
    assert [r["rule"] for r in reasons] == ["daily_limit"]


# --- step-up ----------------------------------------------------------------------------------


def test_sixth_packet_of_the_day_needs_face_then_goes_through(at) -> None:  # type: ignore[no-untyped-def]
    user = adult()
    for i in range(4):
        sent(user, 1_000, ago=timedelta(minutes=10 + i))
    assert code(user=user, action=SEND, amount_fen=1_000) == "ok"  # the 5th
    sent(user, 1_000)
    assert code(user=user, action=SEND, amount_fen=1_000) == "step_up_required"  # the 6th
    face_verify(user=user, liveness_token="live-ok")
    assert code(user=user, action=SEND, amount_fen=1_000) == "ok"
    decision = RiskDecision.objects.filter(user=user).latest("id")
    assert decision.outcome == Outcome.ALLOW
    assert [r["rule"] for r in decision.reasons] == ["daily_count", "step_up"]
    at(NOON + timedelta(minutes=11))  # the verification is stale after 10 minutes
    assert code(user=user, action=SEND, amount_fen=1_000) == "step_up_required"


def test_amount_far_from_the_average_needs_step_up(at) -> None:  # type: ignore[no-untyped-def]
    user = adult()
    assert code(user=user, action=SEND, amount_fen=99_999) == "ok"  # no history yet
    RiskActivity_clear(user)
    for i in range(3):
        sent(user, 1_000, ago=timedelta(days=i + 1))
    assert code(user=user, action=SEND, amount_fen=3_000) == "ok"  # exactly 200 % away
    assert code(user=user, action=SEND, amount_fen=3_001) == "step_up_required"
    reasons = RiskDecision.objects.filter(user=user).latest("id").reasons
    assert reasons[0]["rule"] == "amount_deviation"
    assert reasons[0]["detail"]["average_fen"] == 1_000


def RiskActivity_clear(user) -> None:  # type: ignore[no-untyped-def]
    from yaji.risk.models import RiskActivity

    RiskActivity.objects.filter(user=user).delete()


def test_step_up_api_then_retry_with_a_new_key(at) -> None:  # type: ignore[no-untyped-def]
    sender = funded_user(100_000, verified=True)
    for i in range(5):
        sent(sender, 100, ago=timedelta(minutes=i + 1))
    api = Api(sender)
    body = {"total_fen": 100, "count": 1}
    refused = api.post_json("/red-packets", body, headers={"Idempotency-Key": "a"})
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    assert refused.json()["extra"]["verify"] == "/api/v1/risk/step-up/face"
    failed = api.post_json("/risk/step-up/face", {"liveness_token": "fail-1"})
    assert failed.status_code >= 400
    ok = api.post_json("/risk/step-up/face", {"liveness_token": "live-1"})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    retried = api.post_json("/red-packets", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert retried.status_code == 201, retried.content


# --- minors at night --------------------------------------------------------------------------


def test_night_window() -> None:
    assert [h for h in range(24) if in_night_window(h, 22, 6)] == [0, 1, 2, 3, 4, 5, 22, 23]
    assert [h for h in range(24) if in_night_window(h, 1, 3)] == [1, 2]
    assert not any(in_night_window(h, 5, 5) for h in range(24))


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [(21, 59, "ok"), (22, 0, "risk_denied"), (5, 59, "risk_denied"), (6, 0, "ok")],
)
def test_minors_blocked_at_night(at, hour: int, minute: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    minor = make_minor(UserFactory())
    grown_up = adult()
    at(hour, minute)
    assert code(user=minor, action=SEND, amount_fen=100) == expected
    assert code(user=minor, action=CLAIM) == expected
    assert code(user=grown_up, action=SEND, amount_fen=100) == "ok"


# --- blacklist, freeze, review ----------------------------------------------------------------


def test_blacklist_user_device_ip(at) -> None:  # type: ignore[no-untyped-def]
    user = adult()
    assert code(user=user, action=CLAIM, device="dev-1", ip="10.1.1.1") == "ok"
    risk_blacklist_add(kind="device", value="dev-1", reason="模拟器")
    assert code(user=user, action=CLAIM, device="dev-1", ip="10.1.1.1") == "risk_denied"
    assert code(user=user, action=CLAIM, device="dev-2", ip="10.1.1.1") == "ok"
    risk_blacklist_add(kind="ip", value="10.1.1.1")
    assert code(user=user, action=CLAIM, device="dev-2", ip="10.1.1.1") == "risk_denied"
    BlacklistEntry.objects.update(active=False)
    risk_blacklist_add(kind="user", value=str(user.pk))
    assert code(user=user, action=SEND, amount_fen=100, device="dev-2") == "risk_denied"
    assert code(user=adult(), action=SEND, amount_fen=100, device="dev-2") == "ok"


def test_many_accounts_on_one_device_freeze_and_review(at) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        sent(UserFactory(), 100, action=CLAIM, device="farm-1", ago=timedelta(minutes=5))
    fifth = UserFactory()
    assert code(user=fifth, action=CLAIM, device="farm-1") == "ok"  # 4 others: below 5
    sent(fifth, 100, action=CLAIM, device="farm-1")
    sixth = UserFactory()
    assert code(user=sixth, action=CLAIM, device="farm-1") == "account_frozen"
    review = RiskReview.objects.get(user=sixth)
    assert review.status == ReviewStatus.OPEN and review.rule == "device_cluster"
    # Frozen everywhere until an operator decides, whatever device it uses.
    assert code(user=sixth, action=CLAIM, device="clean") == "account_frozen"
    assert code(user=sixth, action=SEND, amount_fen=100) == "account_frozen"
    risk_review_decide(review_id=review.pk, actor=operator(), status=ReviewStatus.RELEASED)
    assert code(user=sixth, action=CLAIM, device="clean") == "ok"
    # The IP is a signal too (old activity outside the 60-minute window does not count).
    for _ in range(5):
        sent(UserFactory(), 100, action=CLAIM, ip="10.9.9.9", ago=timedelta(minutes=61))
    assert code(user=UserFactory(), action=CLAIM, ip="10.9.9.9") == "ok"


def grab_code(packet_id: int, user, **kw) -> str:  # type: ignore[no-untyped-def]
    try:
        red_packet_claim(packet_id=packet_id, user=user, **kw)
    except ApplicationError as exc:
        return exc.code
    return "ok"


def test_the_grab_reads_the_rules_inputs_with_its_packet(at) -> None:  # type: ignore[no-untyped-def]
    """ADR 0053: a grab's blacklist, review and device-cluster reads ride in its packet read
    (no statement of their own); they answer as ``risk_check``'s own statement does."""
    packet = red_packet_send(
        sender=funded_user(10_000, verified=True), total_fen=1_000, count=10, split_type="equal"
    )
    risk_blacklist_add(kind="device", value="dev-bad")
    assert grab_code(packet.pk, adult(), device="dev-bad", ip="10.1.1.1") == "risk_denied"
    risk_blacklist_add(kind="ip", value="10.6.6.6")
    assert grab_code(packet.pk, adult(), device="dev-ok", ip="10.6.6.6") == "risk_denied"
    listed = adult()
    risk_blacklist_add(kind="user", value=str(listed.pk))
    assert grab_code(packet.pk, listed) == "risk_denied"
    denied = RiskDecision.objects.filter(user=listed, action=CLAIM).get()
    assert denied.reasons == [
        {"rule": "blacklist", "outcome": "deny", "detail": {"kinds": ["user"]}}
    ]

    frozen = adult()
    review = RiskReview.objects.create(user=frozen, rule="device_cluster")
    assert grab_code(packet.pk, frozen, device="dev-ok") == "account_frozen"
    assert RiskDecision.objects.filter(user=frozen).get().reasons[0]["detail"] == {
        "review_id": review.pk,
        "status": ReviewStatus.OPEN,
    }

    for _ in range(5):
        sent(UserFactory(), 100, action=CLAIM, device="farm-2", ago=timedelta(minutes=5))
    farmer, twin = adult(), adult()
    assert grab_code(packet.pk, farmer, device="farm-2", ip="10.1.1.1") == "account_frozen"
    assert code(user=twin, action=CLAIM, device="farm-2", ip="10.1.1.1") == "account_frozen"
    by_grab = RiskDecision.objects.filter(user=farmer).get()
    by_check = RiskDecision.objects.filter(user=twin).get()
    assert by_grab.reasons == by_check.reasons
    assert by_grab.reasons[0]["detail"] == {"by": "device", "other_accounts": 5, "limit_count": 5}
    assert RiskReview.objects.get(user=farmer).rule == "device_cluster"

    clean = adult()
    assert grab_code(packet.pk, clean, device="dev-ok", ip="10.1.1.1") == "ok"
    assert RiskDecision.objects.filter(user=clean, outcome=Outcome.ALLOW).count() == 1
    assert RedPacket.objects.get(pk=packet.pk).claimed_count == 1


def test_fast_in_fast_out_freezes(at) -> None:  # type: ignore[no-untyped-def]
    mule = adult()
    sent(mule, 10_000, action=CLAIM, ago=timedelta(minutes=5))
    assert code(user=mule, action=SEND, amount_fen=7_999) == "ok"  # < 80 % of what came in
    assert code(user=mule, action=SEND, amount_fen=8_000) == "account_frozen"
    assert RiskReview.objects.get(user=mule).rule == "fast_in_fast_out"
    slow = adult()
    sent(slow, 10_000, action=CLAIM, ago=timedelta(minutes=11))  # outside the 10 minutes
    assert code(user=slow, action=SEND, amount_fen=9_000) == "ok"
    small = adult()
    sent(small, 9_999, action=CLAIM, ago=timedelta(minutes=1))  # below the 100 yuan floor
    assert code(user=small, action=SEND, amount_fen=9_999) == "ok"


# --- operators --------------------------------------------------------------------------------


def test_operators_switch_and_tune_rules(at) -> None:  # type: ignore[no-untyped-def]
    user = adult()
    RiskRule.objects.filter(code="single_limit").update(limit_fen=100_000)
    risk_rules_reload()
    assert code(user=user, action=SEND, amount_fen=100_001) == "risk_denied"
    RiskRule.objects.filter(code="single_limit").update(enabled=False)
    risk_rules_reload()
    assert code(user=user, action=SEND, amount_fen=100_001) == "ok"


def test_review_decided_once(at) -> None:  # type: ignore[no-untyped-def]
    mule = adult()
    sent(mule, 20_000, action=CLAIM)
    assert code(user=mule, action=SEND, amount_fen=20_000) == "account_frozen"
    review = RiskReview.objects.get(user=mule)
    boss = operator()
    risk_review_decide(review_id=review.pk, actor=boss, status=ReviewStatus.REPORTED)
    with pytest.raises(ApplicationError) as err:
        risk_review_decide(review_id=review.pk, actor=boss, status=ReviewStatus.RELEASED)
    assert err.value.code == "risk_review_decided"
    assert code(user=mule, action=SEND, amount_fen=100) == "account_frozen"  # reported stays


# --- laundering: money circulating among associated accounts ----------------------------------


def flow(sender, receiver, amount: int, ref: str, **kw) -> None:  # type: ignore[no-untyped-def]
    """``sender`` sent ``amount`` that ``receiver`` got (a packet grabbed, a gift), as the
    red packets and gifts services record it."""
    sent(sender, amount, action=SEND, **kw)
    from yaji.risk.models import RiskActivity

    RiskActivity.objects.filter(user=sender, reference="").update(reference=ref)
    sent(receiver, amount, action=CLAIM, reference=ref)


def test_a_ring_of_three_freezes_and_goes_to_review(at) -> None:  # type: ignore[no-untyped-def]
    a, b, c = adult(), adult(), adult()
    flow(a, b, 5_000, "redpacket:1", ago=timedelta(hours=3))
    flow(b, c, 5_000, "redpacket:2", ago=timedelta(hours=2))
    assert code(user=a, action=SEND, amount_fen=100) == "ok"  # not back yet
    flow(c, a, 5_000, "gift:3", ago=timedelta(hours=1))
    assert code(user=a, action=SEND, amount_fen=100) == "account_frozen"
    review = RiskReview.objects.get(user=a)
    assert review.status == ReviewStatus.OPEN and review.rule == "circular_flow"
    hit = next(r for r in review.decision.reasons if r["rule"] == "circular_flow")
    assert hit["detail"]["path"] == [a.pk, b.pk, c.pk, a.pk]
    # the operator's queue: release lifts the freeze (report or keep frozen would not)
    risk_review_decide(review_id=review.pk, actor=operator(), status=ReviewStatus.RELEASED)


def test_friends_exchanging_packets_are_not_a_ring(at) -> None:  # type: ignore[no-untyped-def]
    a, b = adult(), adult()
    flow(a, b, 5_000, "redpacket:1", ago=timedelta(hours=2))
    flow(b, a, 5_000, "redpacket:2", ago=timedelta(hours=1))
    assert code(user=a, action=SEND, amount_fen=100) == "ok"


def test_a_ring_closing_on_an_account_of_the_same_device(at) -> None:  # type: ignore[no-untyped-def]
    a, alt, b = adult(), adult(), adult()
    sent(alt, 100, action=CLAIM, device="phone-7", ago=timedelta(hours=4))  # alt on a's phone
    flow(a, b, 5_000, "redpacket:1", ago=timedelta(hours=2))
    flow(b, alt, 5_000, "redpacket:2", ago=timedelta(hours=1))
    assert code(user=a, action=SEND, amount_fen=100) == "ok"  # a's own device unknown
    assert code(user=a, action=SEND, amount_fen=100, device="phone-7") == "account_frozen"


def test_rings_outside_the_window_or_below_the_floor_do_not_count(at) -> None:  # type: ignore[no-untyped-def]
    a, b, c = adult(), adult(), adult()
    flow(a, b, 5_000, "redpacket:1", ago=timedelta(hours=25))  # outside 24 h
    flow(b, c, 5_000, "redpacket:2", ago=timedelta(hours=2))
    flow(c, a, 5_000, "redpacket:3", ago=timedelta(hours=1))
    assert code(user=a, action=SEND, amount_fen=100) == "ok"
    d, e, f = adult(), adult(), adult()
    flow(d, e, 50, "redpacket:4")  # 0.5 yuan: below the 1-yuan floor of a hop
    flow(e, f, 5_000, "redpacket:5")
    flow(f, d, 5_000, "redpacket:6")
    assert code(user=d, action=SEND, amount_fen=100) == "ok"
    RiskRule.objects.filter(code="circular_flow").update(enabled=False)
    risk_rules_reload()
    assert code(user=a, action=SEND, amount_fen=100) == "ok"
