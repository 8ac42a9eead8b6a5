"""Operators' dashboard: every chart's aggregate on seeded data (exact numbers), one statement
per chart, inline SVG on the page, operators only."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from yaji.accounts.tests.factories import UserFactory, operator
from yaji.community.tests.factories import audio_work
from yaji.core import clock
from yaji.redpackets import selectors
from yaji.redpackets.gifts import gift_send
from yaji.redpackets.models import Gift, RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_claim, red_packet_send
from yaji.redpackets.tests.factories import funded_user
from yaji.risk.models import RiskDecision
from yaji.risk.selectors import risk_decisions_by_rule

pytestmark = pytest.mark.django_db


def _at(day: datetime, hour: int, minute: int) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def seed() -> None:
    """Three packets yesterday (local time): A 3 × 1.00 at 20:15, B 2 × 25.00 at 20:40, C 0.50
    at 09:00; claims of A after 5 s and 90 s, of B after 3 h."""
    day = clock.now().astimezone(ZoneInfo(settings.TIME_ZONE)) - timedelta(days=1)
    a = red_packet_send(sender=funded_user(), total_fen=300, count=3, split_type="equal")
    b = red_packet_send(sender=funded_user(), total_fen=5000, count=2, split_type="equal")
    c = red_packet_send(sender=funded_user(), total_fen=50, count=1, split_type="equal")
    times = {a.pk: _at(day, 20, 15), b.pk: _at(day, 20, 40), c.pk: _at(day, 9, 0)}
    for pk, when in times.items():
        RedPacket.objects.filter(pk=pk).update(created_at=when)
    for packet, after in ((a, 5), (a, 90), (b, 3 * 3600)):
        fan = UserFactory()
        red_packet_claim(packet_id=packet.pk, user=fan)
        RedPacketClaim.objects.filter(packet=packet, user=fan).update(
            created_at=times[packet.pk] + timedelta(seconds=after)
        )


def test_every_chart_aggregate_is_exact() -> None:
    seed()
    dash = selectors.red_packet_dashboard(days=7)
    by_hour = {r.hour: r for r in dash.hours}
    assert len(dash.hours) == 24
    assert (by_hour[20].sent_n, by_hour[20].sent_fen) == (2, 5300)
    assert (by_hour[20].claimed_n, by_hour[20].claimed_fen) == (2, 200)
    assert (by_hour[9].sent_n, by_hour[9].sent_fen, by_hour[9].claimed_n) == (1, 50, 0)
    assert (by_hour[23].sent_n, by_hour[23].claimed_n, by_hour[23].claimed_fen) == (0, 1, 2500)
    assert sum(r.sent_n for r in dash.hours) == 3 and sum(r.claimed_n for r in dash.hours) == 3
    # edges 0.01, 1.00, 5.00, 10.00, 50.00, 100.00, 500.00
    assert dash.packet_totals.counts == [1, 1, 0, 0, 1, 0, 0]
    assert dash.claim_shares.counts == [0, 2, 0, 1, 0, 0, 0]
    # edges 0 s, 10 s, 1 min, 5 min, 30 min, 2 h, 24 h
    assert dash.latency.histogram.counts == [1, 0, 1, 0, 0, 1, 0]
    assert dash.latency.max_s == 10_800
    assert dash.latency.avg_s == pytest.approx((5 + 90 + 10_800) / 3)
    assert dash.latency.percentile_bucket(50) == 2
    assert dash.latency.percentile_bucket(99) == 5
    assert selectors.red_packet_claim_latency(since=clock.now()).histogram.total == 0
    assert selectors.red_packet_claim_latency(since=clock.now()).percentile_bucket(50) is None


def test_risk_decisions_by_rule_unnest_the_reasons() -> None:
    user = UserFactory()
    since = clock.now() - timedelta(hours=1)
    RiskDecision.objects.all().delete()
    reasons_daily = {"rule": "daily_count", "outcome": "step_up", "detail": {}}
    reasons_limit = {"rule": "single_limit", "outcome": "deny", "detail": {"limit": 1}}
    for reasons in ([reasons_daily], [reasons_daily, reasons_limit], [reasons_limit], []):
        RiskDecision.objects.create(
            user=user, action="redpacket.send", outcome="deny", reasons=reasons
        )
    old = RiskDecision.objects.create(
        user=user, action="redpacket.send", outcome="deny", reasons=[reasons_limit]
    )
    RiskDecision.objects.filter(pk=old.pk).update(created_at=since - timedelta(days=1))
    assert risk_decisions_by_rule(since=since) == [
        ("daily_count", "step_up", 2),
        ("single_limit", "deny", 2),
    ]


def test_gift_revenue_by_creator_top_first() -> None:
    fan = funded_user(100_000)
    small, big = audio_work(), audio_work()
    rose = Gift.objects.get(code="rose")
    one = gift_send(sender=fan, work_id=small.pk, gift_id=rose.pk, quantity=1)
    many = [gift_send(sender=fan, work_id=big.pk, gift_id=rose.pk, quantity=3) for _ in range(2)]
    top = selectors.gift_revenue_top(since=clock.now() - timedelta(days=1))
    assert [(fen, n) for _, fen, n in top] == [
        (sum(g.creator_fen for g in many), 2),
        (one.creator_fen, 1),
    ]
    assert top[0][1] == 6 * one.creator_fen  # 3 roses twice against one rose


def test_one_statement_per_chart(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    seed()
    with django_assert_num_queries(6):  # hourly, totals, shares, latency, risk by rule, gifts
        selectors.red_packet_dashboard(days=7)


def test_page_draws_inline_svg_for_operators_only() -> None:
    seed()
    RiskDecision.objects.all().delete()
    assert Client().get("/ops/red-packets/analytics/").status_code == 302  # login first
    fan = Client()
    fan.force_login(UserFactory())
    assert fan.get("/ops/red-packets/analytics/").status_code == 404
    ops = Client()
    ops.force_login(operator())
    body = ops.get("/ops/red-packets/analytics/?days=7").content.decode()
    assert body.count('class="rp-svg"') == 3  # hourly, amounts, latency: no rule fired, no gift
    for chart in ("hourly", "amounts", "latency", "risk", "gifts"):
        assert f'data-chart="{chart}"' in body
    assert "<title>20 · 发出: 2</title>" in body
    assert "p50 ≤ 1–5 分钟" in body
    assert "<script" not in body.split('data-chart="hourly"')[1].split("</main>")[0]
    english = ops.get("/ops/red-packets/analytics/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200


def test_english_labels() -> None:
    seed()
    ops = Client()
    ops.force_login(operator())
    ops.cookies["django_language"] = "en"
    body = ops.get("/ops/red-packets/analytics/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Amount distribution" in body and "Claim latency" in body and "1–5 min" in body
