"""Challenges: a topic with a deadline, rules and prizes, and a leaderboard of its entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yaji.community import challenges, services
from yaji.community.errors import ChallengeNotFound, InvalidChallenge
from yaji.community.models import Post
from yaji.community.tests.factories import UserFactory, operator_user, post_make
from yaji.core import clock
from yaji.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def _challenge(**kw):  # type: ignore[no-untyped-def]
    now = clock.now()
    return challenges.challenge_create(
        actor=operator_user(),
        topic_name="茶器挑战",
        title="七日茶器挑战",
        starts_at=kw.get("starts_at", now - timedelta(hours=1)),
        ends_at=kw.get("ends_at", now + timedelta(days=7)),
        rules="每天一张茶器照片",
        prizes="一等奖：建盏一只",
    )


def test_only_operators_make_challenges_with_a_deadline_after_the_start() -> None:
    now = clock.now()
    with pytest.raises(PermissionDenied):
        challenges.challenge_create(
            actor=UserFactory(),
            topic_name="x",
            title="x",
            starts_at=now,
            ends_at=now + timedelta(days=1),
        )
    with pytest.raises(InvalidChallenge):
        _challenge(starts_at=now, ends_at=now - timedelta(hours=1))
    challenge = _challenge()
    assert challenges.challenge_get(slug=challenge.topic.slug) == challenge
    assert challenges.challenge_state(challenge) == "running"
    assert challenges.challenges_running() == [challenge]
    with pytest.raises(ChallengeNotFound):
        challenges.challenge_get(slug="no-such")


def test_leaderboard_ranks_entries_of_the_period_by_score_then_age() -> None:
    challenge = _challenge()
    fan = UserFactory()
    first = post_make(text="建盏 #茶器挑战")
    second = post_make(text="汝窑 #茶器挑战")
    third = post_make(text="紫砂 #茶器挑战")
    post_make(text="与挑战无关 #别的")
    services.like_add(user=fan, post_id=second.pk)
    Post.objects.filter(pk=third.pk).update(comment_count=1)  # 2 points
    before = post_make(text="太早 #茶器挑战")
    Post.objects.filter(pk=before.pk).update(
        created_at=challenge.starts_at - timedelta(minutes=1), like_count=50
    )
    rows = challenges.challenge_leaderboard(challenge=challenge)
    assert [(r.rank, r.post.pk, r.score) for r in rows] == [
        (1, third.pk, 2),
        (2, second.pk, 1),
        (3, first.pk, 0),
    ]
    assert challenges.challenge_entry_count(challenge=challenge) == 3
    services.post_delete(user=third.author, post_id=third.pk)
    assert [r.post.pk for r in challenges.challenge_leaderboard(challenge=challenge)] == [
        second.pk,
        first.pk,
    ]


def test_leaderboard_query_count_does_not_grow_with_entries() -> None:
    challenge = _challenge()
    for i in range(3):
        post_make(text=f"第{i} #茶器挑战")
    with CaptureQueriesContext(connection) as few:
        challenges.challenge_leaderboard(challenge=challenge)
    for i in range(8):
        post_make(text=f"更多{i} #茶器挑战")
    with CaptureQueriesContext(connection) as many:
        assert len(challenges.challenge_leaderboard(challenge=challenge)) == 11
    assert len(many) == len(few)
