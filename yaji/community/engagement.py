"""Engagement: daily check-in streaks, badges awarded by rules, weekly leaderboards.

Days are China calendar days (``DAY_TZ`` = Asia/Shanghai) whatever the server's clock zone: a
check-in at 23:59 and one at 00:01 Beijing time are two days and one streak, although both fall
on the same UTC day. Weeks start on Monday 00:00 in that zone.

Badges are rules over what the person did (``BADGES``); :func:`badges_evaluate` awards what is
due and never twice (the ``badge_once`` unique constraint decides, so concurrent evaluations are
harmless). Evaluations run after a check-in, a contest submission and a contest's results.

The weekly leaderboard ranks people by points earned in the week:
``WEEK_POINTS`` = 1 per check-in + 3 per visible post published + 1 per like those posts got
(counters move with their rows) — computed from the rows, nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum
from django.utils.translation import gettext_lazy as _

from yaji.accounts.models import User
from yaji.community.errors import AlreadyCheckedIn
from yaji.community.models import (
    BadgeAward,
    CheckIn,
    Contest,
    ContestSubmission,
    Post,
    Visibility,
)
from yaji.core import clock

DAY_TZ = ZoneInfo("Asia/Shanghai")
CHECKIN_POINTS = 1
POST_POINTS = 3
LIKE_POINTS = 1


def china_day(moment: datetime | None = None) -> date:
    return (moment or clock.now()).astimezone(DAY_TZ).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day_bounds(first: date, days: int) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, tzinfo=DAY_TZ)
    return start, start + timedelta(days=days)


# --- badges --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    code: str
    name: Any  # a lazy translation
    rule: Callable[[User], bool]


def _streak(user: User) -> int:
    best = CheckIn.objects.filter(user=user).aggregate(best=Max("streak"))["best"]
    return int(best or 0)


def _visible_posts(user: User) -> int:
    return Post.objects.filter(
        author=user, status=Visibility.VISIBLE, deleted_at__isnull=True
    ).count()


def _likes_received(user: User) -> int:
    return int(
        Post.objects.filter(author=user, deleted_at__isnull=True).aggregate(n=Sum("like_count"))[
            "n"
        ]
        or 0
    )


BADGES: tuple[Badge, ...] = (
    Badge("checkin_3", _("连续签到 3 天"), lambda u: _streak(u) >= 3),
    Badge("checkin_7", _("连续签到 7 天"), lambda u: _streak(u) >= 7),
    Badge("checkin_30", _("连续签到 30 天"), lambda u: _streak(u) >= 30),
    Badge("first_post", _("初露锋芒"), lambda u: _visible_posts(u) >= 1),
    Badge("liked_100", _("百赞达人"), lambda u: _likes_received(u) >= 100),
    Badge(
        "contest_entrant",
        _("设计参赛者"),
        lambda u: ContestSubmission.objects.filter(author=u, status=Visibility.VISIBLE).exists(),
    ),
    Badge(
        "contest_winner",
        _("设计大赛冠军"),
        lambda u: Contest.objects.filter(winner__author=u).exists(),
    ),
)
BADGE_BY_CODE = {badge.code: badge for badge in BADGES}


def badges_evaluate(*, user: User) -> list[str]:
    """Award every badge whose rule now holds and that ``user`` lacks; returns the new codes.

    Safe inside or outside a transaction; a concurrent twin award is simply skipped.
    """
    have = set(BadgeAward.objects.filter(user=user).values_list("code", flat=True))
    new: list[str] = []
    for badge in BADGES:
        if badge.code in have or not badge.rule(user):
            continue
        try:
            with transaction.atomic():
                BadgeAward.objects.create(user=user, code=badge.code, awarded_at=clock.now())
        except IntegrityError:
            continue  # awarded by a concurrent evaluation
        new.append(badge.code)
    return new


@dataclass(frozen=True)
class BadgeView:
    code: str
    name: Any
    awarded_at: datetime


def badges_of(*, user: User) -> list[BadgeView]:
    return [
        BadgeView(code=row.code, name=BADGE_BY_CODE[row.code].name, awarded_at=row.awarded_at)
        for row in BadgeAward.objects.filter(user=user).order_by("awarded_at", "pk")
        if row.code in BADGE_BY_CODE
    ]


# --- check-ins -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    new_badges: list[str]


@transaction.atomic(durable=True)
def checkin_today(*, user: User) -> CheckInResult:
    """Check in for today (China day). A second time the same day: already_checked_in."""
    today = china_day()
    yesterday = CheckIn.objects.filter(user=user, day=today - timedelta(days=1)).first()
    streak = yesterday.streak + 1 if yesterday is not None else 1
    try:
        with transaction.atomic():
            checkin = CheckIn.objects.create(user=user, day=today, streak=streak)
    except IntegrityError:
        raise AlreadyCheckedIn(extra={"day": today.isoformat()}) from None
    return CheckInResult(checkin=checkin, new_badges=badges_evaluate(user=user))


@dataclass(frozen=True)
class CheckInStatus:
    today: date
    checked_in_today: bool
    streak: int  # the current streak: alive if the last check-in was today or yesterday
    total_days: int


def checkin_status(*, user: User) -> CheckInStatus:
    today = china_day()
    last = CheckIn.objects.filter(user=user).order_by("-day").first()
    alive = last is not None and last.day >= today - timedelta(days=1)
    return CheckInStatus(
        today=today,
        checked_in_today=last is not None and last.day == today,
        streak=last.streak if alive and last is not None else 0,
        total_days=CheckIn.objects.filter(user=user).count(),
    )


# --- weekly leaderboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklyRow:
    rank: int
    user: User
    points: int
    checkins: int
    posts: int
    likes: int


def weekly_leaderboard(*, week_of: date | None = None, limit: int = 20) -> list[WeeklyRow]:
    """The week's (Monday–Sunday, China time) most engaged people, by ``WEEK_POINTS``."""
    first = week_start(week_of or china_day())
    start, end = _day_bounds(first, 7)
    checkins = dict(
        CheckIn.objects.filter(day__gte=first, day__lt=first + timedelta(days=7))
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    posts = {
        row["author_id"]: (row["n"], row["likes"] or 0)
        for row in Post.objects.filter(
            status=Visibility.VISIBLE,
            deleted_at__isnull=True,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("author_id")
        .annotate(n=Count("pk"), likes=Sum("like_count"))
    }
    scores: list[tuple[int, int, int, int, int]] = []
    for user_id in set(checkins) | set(posts):
        c = checkins.get(user_id, 0)
        p, likes = posts.get(user_id, (0, 0))
        points = CHECKIN_POINTS * c + POST_POINTS * p + LIKE_POINTS * likes
        scores.append((points, user_id, c, p, likes))
    scores.sort(key=lambda s: (-s[0], s[1]))
    top = scores[: max(1, min(limit, 100))]
    users = User.objects.in_bulk([s[1] for s in top])
    return [
        WeeklyRow(rank=i, user=users[s[1]], points=s[0], checkins=s[2], posts=s[3], likes=s[4])
        for i, s in enumerate(top, start=1)
        if s[1] in users
    ]
