"""The community chapter of the demo world builds real content once, through the services."""

from __future__ import annotations

import io
import wave

import pytest

from yaji.community import challenges, contests, selectors
from yaji.community.demo import (
    CHALLENGE_TOPIC,
    COMMUNITY_STEPS,
    CONTEST_SLUG,
    CREATORS,
    DEMO_POSTS,
    DEMO_WORKS,
    OPERATOR,
    community_chapter,
    melody_wav,
)
from yaji.community.models import (
    Challenge,
    Comment,
    Contest,
    ContestSubmission,
    ContestVote,
    Follow,
    Like,
    Notification,
    Post,
    Topic,
    Work,
)
from yaji.community.tests.factories import UserFactory, creator_user, verified_user

pytestmark = pytest.mark.django_db


def test_melody_is_a_real_wav_of_the_expected_length() -> None:
    data = melody_wav((0, 1, 2, 3), beat_s=0.5, rate=8000)
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(2.0)


def test_chapter_builds_works_posts_follows_once() -> None:
    UserFactory(email=OPERATOR, is_staff=True)
    for email in CREATORS:
        creator_user(email=email, display_name=email.split("@")[0])
    buyers = [verified_user(email=f"buyer{i:02d}@yaji.demo") for i in range(1, 7)]
    steps = list(community_chapter())
    assert len(steps) == COMMUNITY_STEPS
    assert Work.objects.count() == len(DEMO_WORKS)
    assert all(w.duration_ms > 5_000 and w.media_format == "wav" for w in Work.objects.all())
    assert Post.objects.filter(status="visible").count() == len(DEMO_POSTS)
    assert Topic.objects.get(name="昆曲").description
    assert Comment.objects.exclude(parent=None).exists()  # authors answer in threads
    assert Like.objects.exists() and Notification.objects.exists()
    assert Follow.objects.filter(follower__in=buyers).count() >= 2 * len(buyers)
    assert selectors.feed_following(viewer=buyers[0]).items
    challenge = Challenge.objects.get(topic__name=CHALLENGE_TOPIC)
    assert challenges.challenge_state(challenge) == "running"
    assert challenges.challenge_leaderboard(challenge=challenge)  # demo posts entered it
    contest = Contest.objects.get(slug=CONTEST_SLUG)
    assert contests.contest_phase(contest) == "voting"
    assert ContestSubmission.objects.filter(contest=contest, status="visible").count() == 3
    assert ContestVote.objects.filter(contest=contest, flagged=False).count() == 3
    assert ContestVote.objects.filter(contest=contest, flagged=True).count() == 3
    counts = (Work.objects.count(), Post.objects.count(), Comment.objects.count())
    list(community_chapter())  # re-runnable
    assert (Work.objects.count(), Post.objects.count(), Comment.objects.count()) == counts
