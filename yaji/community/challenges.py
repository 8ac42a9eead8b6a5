"""Challenges: a topic with a deadline, rules and prizes, and its leaderboard.

An entry is a visible, not deleted post in the challenge's topic made between its start and its
deadline (a post may carry a work, so works enter through the post that shows them). Entries are
ranked by ``ENTRY_SCORE`` = likes + 2 × comments + 3 × shares — the engagement weights of the
trending feed without its time decay, because a challenge compares entries of one period —
ties going to the earlier post. Counters on a post move with their rows, so the score is what
the post page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import has_role
from yaji.community.cards import cards_by_id
from yaji.community.errors import ChallengeNotFound, InvalidChallenge
from yaji.community.models import Challenge, Post, Topic, Visibility
from yaji.community.selectors import topic_get
from yaji.community.services import _has_control_chars, topic_upsert
from yaji.core import clock
from yaji.core.errors import PermissionDenied

ENTRY_SCORE = F("like_count") + 2 * F("comment_count") + 3 * F("share_count")
LEADERBOARD_MAX = 50


def _operator(actor: User) -> None:
    if not (actor.is_staff or has_role(actor, Role.OPERATOR)):
        raise PermissionDenied()


def challenge_create(
    *,
    actor: User,
    topic_name: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    rules: str = "",
    prizes: str = "",
    description: str = "",
) -> Challenge:
    """Operators turn a topic (made if new) into a challenge; one challenge per topic."""
    _operator(actor)
    title = (title or "").strip()
    rules, prizes = (rules or "").strip(), (prizes or "").strip()
    if not title or len(title) > 80 or _has_control_chars(title + rules + prizes):
        raise InvalidChallenge(extra={"field": "title"})
    if len(rules) > 5000 or len(prizes) > 2000:
        raise InvalidChallenge(extra={"field": "rules"})
    if ends_at <= starts_at or ends_at <= clock.now():
        raise InvalidChallenge(extra={"field": "ends_at"})
    topic = topic_upsert(actor=actor, name=topic_name, description=description)
    return _challenge_save(
        actor=actor,
        topic=topic,
        title=title,
        rules=rules,
        prizes=prizes,
        starts_at=starts_at,
        ends_at=ends_at,
    )


@transaction.atomic(durable=True)
def _challenge_save(
    *,
    actor: User,
    topic: Topic,
    title: str,
    rules: str,
    prizes: str,
    starts_at: datetime,
    ends_at: datetime,
) -> Challenge:
    challenge, _ = Challenge.objects.update_or_create(
        topic=topic,
        defaults={
            "title": title,
            "rules": rules,
            "prizes": prizes,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "created_by": actor,
        },
    )
    return challenge


# --- reads ---------------------------------------------------------------------------------------


def challenge_of_topic(*, topic: Topic) -> Challenge | None:
    return Challenge.objects.filter(topic=topic).first()


def challenge_get(*, slug: str) -> Challenge:
    """The challenge of the topic ``slug``. Raises challenge_not_found."""
    try:
        topic = topic_get(slug=slug)
    except Exception as exc:  # topic_not_found: the challenge is what was asked for
        raise ChallengeNotFound() from exc
    challenge = Challenge.objects.select_related("topic").filter(topic=topic).first()
    if challenge is None:
        raise ChallengeNotFound()
    return challenge


def challenges_running(*, limit: int = 10) -> list[Challenge]:
    now = clock.now()
    return list(
        Challenge.objects.select_related("topic")
        .filter(starts_at__lte=now, ends_at__gt=now)
        .order_by("ends_at", "pk")[: max(1, min(limit, 50))]
    )


def challenge_state(challenge: Challenge, *, now: datetime | None = None) -> str:
    now = now or clock.now()
    if now < challenge.starts_at:
        return "upcoming"
    return "running" if now < challenge.ends_at else "ended"


def _entries(challenge: Challenge) -> QuerySet[Post]:
    return Post.objects.filter(
        topics=challenge.topic_id,
        status=Visibility.VISIBLE,
        deleted_at__isnull=True,
        created_at__gte=challenge.starts_at,
        created_at__lt=challenge.ends_at,
    )


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    score: int
    post: Post


def challenge_leaderboard(
    *, challenge: Challenge, limit: int = 20, viewer: Any = None
) -> list[LeaderboardRow]:
    """The best entries, by score then earliest (a constant number of queries)."""
    limit = max(1, min(int(limit), LEADERBOARD_MAX))
    ranked = list(
        _entries(challenge)
        .annotate(score=ENTRY_SCORE)
        .order_by("-score", "pk")
        .values_list("pk", "score")[:limit]
    )
    scores = dict(ranked)
    posts = cards_by_id([pk for pk, _ in ranked], viewer=viewer)
    return [
        LeaderboardRow(rank=i, score=int(scores[post.pk]), post=post)
        for i, post in enumerate(posts, start=1)
    ]


def challenge_entry_count(*, challenge: Challenge) -> int:
    return _entries(challenge).count()
