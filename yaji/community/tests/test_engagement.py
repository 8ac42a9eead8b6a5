"""Check-in streaks on China days, badges awarded once, the weekly leaderboard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from yaji.community import engagement
from yaji.community.errors import AlreadyCheckedIn
from yaji.community.models import BadgeAward, CheckIn, Post
from yaji.community.tests.factories import FakeClock, UserFactory, post_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch) -> FakeClock:  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # Monday 18:00 Beijing
    monkeypatch.setattr("yaji.core.clock.now", clock)
    return clock


def test_the_day_boundary_is_midnight_in_beijing_not_utc(fake: FakeClock) -> None:
    user = UserFactory()
    fake.current = datetime(2026, 3, 2, 15, 59, tzinfo=UTC)  # 23:59 Beijing, Monday
    first = engagement.checkin_today(user=user).checkin
    fake.current = datetime(2026, 3, 2, 16, 1, tzinfo=UTC)  # 00:01 Beijing Tuesday, same UTC day
    second = engagement.checkin_today(user=user).checkin
    assert (first.day, second.day) == (date(2026, 3, 2), date(2026, 3, 3))
    assert second.streak == 2
    with pytest.raises(AlreadyCheckedIn):
        engagement.checkin_today(user=user)
    assert CheckIn.objects.filter(user=user).count() == 2


def test_a_missed_day_restarts_the_streak_and_status_shows_it(fake: FakeClock) -> None:
    user = UserFactory()
    for _ in range(3):
        engagement.checkin_today(user=user)
        fake.advance(24 * 3600)
    assert engagement.checkin_status(user=user).streak == 3  # yesterday's streak still alive
    fake.advance(24 * 3600)  # skipped a day
    assert engagement.checkin_status(user=user).streak == 0
    assert engagement.checkin_today(user=user).checkin.streak == 1
    status = engagement.checkin_status(user=user)
    assert (status.checked_in_today, status.streak, status.total_days) == (True, 1, 4)


def test_badges_are_awarded_by_rules_and_only_once(fake: FakeClock) -> None:
    user = UserFactory()
    got: list[str] = []
    for _ in range(3):
        got += engagement.checkin_today(user=user).new_badges
        fake.advance(24 * 3600)
    assert got == ["checkin_3"]
    assert engagement.badges_evaluate(user=user) == []
    post_make(author=user)
    assert [b.code for b in engagement.badges_of(user=user)] == ["checkin_3", "first_post"]
    Post.objects.filter(author=user).update(like_count=100)
    assert engagement.badges_evaluate(user=user) == ["liked_100"]
    assert engagement.badges_evaluate(user=user) == []
    assert BadgeAward.objects.filter(user=user).count() == 3


def test_weekly_leaderboard_counts_this_china_week_only(fake: FakeClock) -> None:
    busy, quiet = UserFactory(), UserFactory()
    engagement.checkin_today(user=busy)
    engagement.checkin_today(user=quiet)
    post = post_make(author=busy)
    # created_at is set by the database clock, not the fake one: put the post in this week
    Post.objects.filter(pk=post.pk).update(like_count=4, created_at=fake.current)
    rows = engagement.weekly_leaderboard()
    assert [(r.user.pk, r.points) for r in rows] == [(busy.pk, 1 + 3 + 4), (quiet.pk, 1)]
    # Sunday 23:30 Beijing is still this week; an hour later a new week starts empty
    fake.current = datetime(2026, 3, 8, 15, 30, tzinfo=UTC)
    assert len(engagement.weekly_leaderboard()) == 2
    fake.current = datetime(2026, 3, 8, 16, 30, tzinfo=UTC)
    assert engagement.weekly_leaderboard() == []
