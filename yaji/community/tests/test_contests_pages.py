"""Contests, challenges and check-ins over the API and the site: codes, pages, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from yaji.community import challenges, services
from yaji.community.models import ContestSubmission, ContestVote
from yaji.community.tests.factories import (
    PASSWORD,
    UserFactory,
    contest_make,
    image_upload,
    operator_user,
    post_make,
    submission_make,
    verified_user,
)
from yaji.community.tests.test_api_and_pages import Api
from yaji.core import clock

pytestmark = pytest.mark.django_db


def _site(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


def test_contest_api_submit_vote_and_stable_codes() -> None:
    contest = contest_make()
    author = UserFactory()
    api = Api(author)
    made = api.client.post(
        f"/api/v1/contests/{contest.slug}/submissions",
        {"title": "青花", "image": image_upload()},
        headers=api.headers,
    )
    assert made.status_code == 201, made.content
    again = api.client.post(
        f"/api/v1/contests/{contest.slug}/submissions",
        {"title": "再来", "image": image_upload()},
        headers=api.headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "contest_already_submitted")
    early = Api(verified_user()).post(
        f"/contests/{contest.slug}/votes", {"submission_id": made.json()["id"]}
    )
    assert (early.status_code, early.json()["code"]) == (409, "contest_voting_closed")
    assert Api().post(f"/contests/{contest.slug}/votes", {"submission_id": 1}).status_code == 401
    missing = Api(author).get("/contests/no-such-contest")
    assert (missing.status_code, missing.json()["code"]) == (404, "contest_not_found")
    detail = Api().get(f"/contests/{contest.slug}").json()
    assert detail["phase"] == "submissions" and len(detail["submissions"]) == 1


def test_vote_api_once_and_unverified_refused() -> None:
    contest = contest_make(phase="voting")
    design = submission_make(contest)
    voter = Api(verified_user())
    first = voter.post(f"/contests/{contest.slug}/votes", {"submission_id": design.pk})
    assert first.status_code == 201, first.content
    second = voter.post(f"/contests/{contest.slug}/votes", {"submission_id": design.pk})
    assert (second.status_code, second.json()["code"]) == (409, "contest_already_voted")
    nobody = Api(UserFactory()).post(
        f"/contests/{contest.slug}/votes", {"submission_id": design.pk}
    )
    assert (nobody.status_code, nobody.json()["code"]) == (403, "real_name_required")
    assert ContestVote.objects.count() == 1


def test_contest_page_submits_and_votes_and_refuses_a_second_vote() -> None:
    contest = contest_make()
    author = UserFactory()
    page = _site(author).get(f"/contests/{contest.slug}/")
    assert page.status_code == 200 and b"contest-submit-form" in page.content
    done = _site(author).post(
        f"/contests/{contest.slug}/submit/", {"title": "粉彩", "image": image_upload()}
    )
    assert done.status_code == 302
    late = contest_make(phase="voting", slug="late-contest")
    refused = _site(author).post(
        f"/contests/{late.slug}/submit/", {"title": "迟到", "image": image_upload()}
    )
    assert refused.status_code == 409
    assert ContestSubmission.objects.filter(contest=late).count() == 0
    design = submission_make(late)
    voter = _site(verified_user())
    assert voter.post(f"/contests/{late.slug}/vote/{design.pk}/").status_code == 302
    twice = voter.post(f"/contests/{late.slug}/vote/{design.pk}/")
    assert twice.status_code == 409
    assert "每个账号每场大赛只能投一票" in twice.content.decode()
    fragment = voter.post(
        f"/contests/{late.slug}/vote/{design.pk}/", headers={"HX-Request": "true"}
    )
    assert 'data-testid="vote-error"' in fragment.content.decode()
    assert ContestVote.objects.count() == 1


def test_challenge_page_and_topic_page_show_the_leaderboard() -> None:
    now = clock.now()
    challenge = challenges.challenge_create(
        actor=operator_user(),
        topic_name="团扇挑战",
        title="团扇绘制挑战",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        rules="手绘团扇",
        prizes="团扇一把",
    )
    post_make(text="我的团扇 #团扇挑战")
    page = Client().get(f"/challenges/{challenge.topic.slug}/")
    assert page.status_code == 200
    assert page.content.count(b'data-testid="leaderboard-row"') == 1
    topic_page = Client().get(f"/topics/{challenge.topic.slug}/")
    assert b"challenge-box" in topic_page.content
    api = Api().get(f"/challenges/{challenge.topic.slug}").json()
    assert api["state"] == "running" and api["entry_count"] == 1
    assert Client().get("/challenges/nothing/").status_code == 404


def test_check_in_on_the_profile_and_the_api() -> None:
    user = UserFactory()
    client = _site(user)
    profile = client.get(f"/people/{user.pk}/")
    assert b"checkin-button" in profile.content
    assert client.post("/checkin/").status_code == 302
    profile = client.get(f"/people/{user.pk}/")
    assert b"checkin-button" not in profile.content
    again = Api(user).post("/checkins")
    assert (again.status_code, again.json()["code"]) == (409, "already_checked_in")
    other = Api(UserFactory()).post("/checkins")
    assert other.status_code == 201 and other.json()["streak"] == 1
    board = Api().get("/leaderboards/weekly").json()
    assert {row["user_id"] for row in board} >= {user.pk}
    assert Client().get("/leaderboard/").status_code == 200


def test_report_buttons_on_post_comment_and_work_reach_moderation() -> None:
    from yaji.community.tests.factories import creator_user, wav_upload
    from yaji.moderation.models import Report

    author, reader = UserFactory(), UserFactory()
    post = post_make(author=author, text="雨前龙井")
    comment = services.comment_create(author=author, post_id=post.pk, text="好茶")
    work = services.work_publish(
        creator=creator_user(), title="采茶调", kind="audio", media=wav_upload(1.0)
    )
    client = _site(reader)
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert 'value="community.post"' in page and 'value="community.comment"' in page
    assert 'value="community.work"' in client.get(f"/works/{work.pk}/").content.decode()
    for kind, object_id in (
        ("community.post", post.pk),
        ("community.comment", comment.pk),
        ("community.work", work.pk),
    ):
        response = client.post(
            "/moderation/report/",
            {"kind": kind, "object_id": object_id, "reason": "广告", "next": "/feed/"},
        )
        assert response.status_code == 302
    assert Report.objects.filter(reporter=reader).count() == 3
    # the author sees no report button on their own post
    assert 'value="community.post"' not in _site(author).get(f"/posts/{post.pk}/").content.decode()


def test_comments_on_a_deleted_post_are_refused() -> None:
    author = UserFactory()
    post = post_make(author=author)
    services.post_delete(user=author, post_id=post.pk)
    response = Api(UserFactory()).post(f"/posts/{post.pk}/comments", {"text": "还在吗"})
    assert (response.status_code, response.json()["code"]) == (404, "post_not_found")
    assert post.comments.count() == 0
