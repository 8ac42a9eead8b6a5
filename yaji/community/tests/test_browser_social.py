"""The social main path in a real headless Chromium: a creator composes a post with a topic and
a picture, it shows in the feed; a fan likes and comments; the creator finds both in the inbox.
And the play page's player reaching "listened in full" on a short synthesised tone.
Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from yaji.community import services
from yaji.community.tests.factories import (
    PASSWORD,
    UserFactory,
    creator_user,
    image_bytes,
    wav_upload,
)
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))


@pytest.mark.django_db(transaction=True)
def test_post_with_topic_then_like_comment_and_notification(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    author = creator_user(email="qingyin@example.com", display_name="周清音")
    fan = UserFactory(email="fan@example.com", display_name="阿朵")
    services.follow_add(follower=fan, followee_id=author.pk)
    base = live_server.url

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # The author composes a post with a topic and a picture.
    _log_in(page, base, author.email)
    page.goto(base + "/feed/")
    page.get_by_role("link", name="发动态").click()
    page.get_by_label("说点什么").fill("今晚在园子里唱《游园惊梦》，第一次穿新做的戏服 #昆曲")
    page.get_by_label("话题").fill("戏服")
    page.get_by_label("图片", exact=True).set_input_files(
        [{"name": "戏服.png", "mimeType": "image/png", "buffer": image_bytes(320, 240)}]
    )
    _shot(page, "community-compose-zh.png")
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page).to_have_url(re.compile(r"/posts/\d+/$"))
    post_url = page.url
    expect(page.locator(".post-body")).to_contain_text("游园惊梦")
    expect(page.locator(".post-images img")).to_have_count(1)

    # It is in the feed, with its topic linked to the topic page.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="动态").click()
    expect(page.get_by_test_id("post").first).to_contain_text("游园惊梦")
    page.get_by_test_id("post").first.get_by_role("link", name="#昆曲").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("#昆曲")
    expect(page.get_by_test_id("post")).to_have_count(1)
    context.clear_cookies()

    # A fan sees it in the following feed, likes it (HTMX) and comments.
    _log_in(page, base, fan.email)
    page.goto(base + "/feed/")
    card = page.get_by_test_id("post").first
    expect(card).to_contain_text("游园惊梦")
    card.get_by_test_id("like").click()
    expect(card.get_by_test_id("like-count")).to_have_text("1")
    expect(card.get_by_test_id("like")).to_have_attribute("aria-pressed", "true")
    page.goto(post_url)
    page.get_by_role("textbox", name="评论").fill("好美的水袖！@周清音 什么时候再演？")
    page.get_by_role("button", name="发表评论").click()
    expect(page.get_by_test_id("comment")).to_contain_text("好美的水袖")
    _shot(page, "community-post-zh.png")
    context.clear_cookies()

    # The author finds the like, the comment and the mention in the inbox.
    _log_in(page, base, author.email)
    page.goto(base + "/notifications/")
    inbox = page.get_by_test_id("inbox")
    expect(inbox).to_contain_text("赞了你的动态")
    expect(inbox).to_contain_text("评论了你的动态")
    expect(page.get_by_test_id("unread-summary")).to_contain_text(
        "3 条未读"
    )  # the follow, the like, the comment
    _shot(page, "community-notifications-zh.png")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_test_id("unread-summary")).to_contain_text("0 条未读")

    # The profile shows the post and the fan's follow.
    page.goto(base + f"/people/{author.pk}/")
    expect(page.get_by_test_id("followers")).to_have_text("1")
    expect(page.get_by_test_id("post").first).to_contain_text("游园惊梦")
    _shot(page, "community-profile-zh.png")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_player_reaches_listened_in_full(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    creator = creator_user(email="song@example.com", display_name="沈墨")
    work = services.work_publish(
        creator=creator, title="宫调小品", kind="audio", media=wav_upload(3.0)
    )
    listener = UserFactory(email="ear@example.com")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    _log_in(page, live_server.url, listener.email)
    page.goto(live_server.url + f"/works/{work.pk}/")
    expect(page.locator("[data-complete]")).to_be_hidden()
    page.evaluate("document.querySelector('audio').muted = true")
    page.evaluate("document.querySelector('audio').play()")
    expect(page.locator("[data-complete]")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-coverage-pct]")).to_have_text(re.compile(r"^(9[5-9]|100)%$"))
    from yaji.community import selectors

    assert selectors.play_completed(user=listener, work=work)
    context.close()
