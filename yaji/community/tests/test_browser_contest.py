"""Contests and engagement in a real headless Chromium: a designer submits a design during the
submission window; in the voting window a real-name-verified voter votes (HTMX) and a second
vote is not offered; the challenge page shows its leaderboard; a check-in on the profile; the
contest page in English. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from yaji.community import challenges
from yaji.community.models import Contest, ContestVote
from yaji.community.tests.factories import (
    UserFactory,
    contest_make,
    image_bytes,
    operator_user,
    post_make,
    verified_user,
)
from yaji.community.tests.test_browser_social import _log_in, _shot
from yaji.core import clock
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_submit_a_design_vote_for_it_and_check_in(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    designer = UserFactory(email="designer@example.com", display_name="沈青")
    voter = verified_user(email="voter@example.com", display_name="林溪")
    contest = contest_make()
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # The designer finds the contest from the navigation and submits a design.
    _log_in(page, base, designer.email)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="大赛").click()
    page.get_by_role("link", name=contest.title).click()
    expect(page.get_by_test_id("contest-phase")).to_contain_text("投稿中")
    form = page.get_by_test_id("contest-submit-form")
    form.get_by_label("作品名称").fill("青花缠枝茶罐")
    form.get_by_label("设计图").set_input_files(
        [{"name": "茶罐.png", "mimeType": "image/png", "buffer": image_bytes(320, 240)}]
    )
    form.get_by_role("button", name="提交作品").click()
    expect(page.get_by_test_id("contest-entry")).to_have_count(1)
    expect(page.get_by_test_id("contest-entry")).to_contain_text("青花缠枝茶罐")
    _shot(page, "community-contest-submitted-zh.png")
    context.clear_cookies()

    # Voting opens: the verified voter votes; the page swaps in "voted" and offers no 2nd vote.
    now = clock.now()
    Contest.objects.filter(pk=contest.pk).update(
        submissions_open_at=now - timedelta(hours=3),
        submissions_close_at=now - timedelta(hours=1),
        voting_open_at=now - timedelta(hours=1),
        voting_close_at=now + timedelta(hours=1),
    )
    _log_in(page, base, voter.email)
    page.goto(f"{base}/contests/{contest.slug}/")
    expect(page.get_by_test_id("contest-phase")).to_contain_text("投票中")
    page.get_by_test_id("contest-entry").get_by_role("button", name="投票").click()
    expect(page.get_by_test_id("my-vote")).to_be_visible()
    expect(page.get_by_test_id("contest-entry").get_by_role("button", name="投票")).to_have_count(0)
    assert ContestVote.objects.filter(voter=voter).count() == 1
    _shot(page, "community-contest-voted-zh.png")

    # The same page in English.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("contest-phase")).to_contain_text("Voting open")
    expect(page.get_by_test_id("my-vote")).to_contain_text("Voted")
    _shot(page, "community-contest-voted-en.png")
    page.get_by_role("button", name="中文").click()

    # A running challenge: its page shows the leaderboard of the topic's posts.
    challenge = challenges.challenge_create(
        actor=operator_user(),
        topic_name="茶器挑战",
        title="七日茶器挑战",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=7),
        rules="每天一张茶器照片",
        prizes="建盏一只",
    )
    post_make(author=designer, text="今日茶器：建盏 #茶器挑战")
    page.goto(f"{base}/topics/{challenge.topic.slug}/")
    page.get_by_test_id("challenge-box").get_by_role("link", name="七日茶器挑战").click()
    expect(page.get_by_test_id("leaderboard-row")).to_have_count(1)
    expect(page.get_by_test_id("leaderboard-row")).to_contain_text("建盏")

    # Check in on the profile.
    page.goto(f"{base}/people/{voter.pk}/")
    page.get_by_test_id("checkin-button").click()
    expect(page.get_by_test_id("checkin-card")).to_contain_text("今天已签到")
    expect(page.get_by_test_id("checkin-card")).to_contain_text("已连续签到 1 天")
    _shot(page, "community-checkin-zh.png")
    assert re.search(r"/people/\d+/$", page.url)
    context.close()
