"""The review queue in a real headless Chromium: a reviewer sees an overdue held post first,
approves it, and the queue empties. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from yaji.core import clock
from yaji.moderation.models import ModerationItem
from yaji.moderation.tests.factories import PASSWORD, UserFactory, reviewer_user, screened
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
def test_reviewer_approves_a_held_post(live_server, browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    author = UserFactory(display_name="顾绣娘")
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start - timedelta(hours=74))
    overdue = screened("周末一起玩 百 家 乐，赢了买苏绣", author=author)
    monkeypatch.setattr(clock, "now", lambda: start - timedelta(hours=60))
    screened("收 高仿 故宫 文创，量大从优", author=author)  # blocked: not in the queue
    soon = screened("红包接龙来不来？", author=author, kind="community.comment")
    monkeypatch.undo()
    fresh = screened("这个 scam 太明显了吧", author=author)
    assert {overdue.status, soon.status, fresh.status} == {"held"}

    reviewer = reviewer_user(email="reviewer@example.com", display_name="审核 · 周明心")
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)

    _log_in(page, base, reviewer.email)
    page.goto(base + "/moderation/queue/")
    expect(page.get_by_test_id("queue-count")).to_contain_text("3")
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(3)
    first = rows.nth(0)
    expect(first).to_have_attribute("data-item-id", str(overdue.pk))
    expect(first).to_have_class(re.compile("is-overdue"))
    expect(first.get_by_test_id("sla")).to_contain_text("已超时 2 小时")
    expect(rows.nth(1).get_by_test_id("sla")).to_contain_text("剩余 11 小时")
    _shot(page, "moderation-queue-zh.png")

    first.get_by_test_id("approve").click()
    expect(page.locator(".messages")).to_contain_text("已通过")
    expect(page.get_by_test_id("queue-row")).to_have_count(2)
    assert ModerationItem.objects.get(pk=overdue.pk).status == "visible"

    # The approved item's page shows the whole log.
    page.goto(base + f"/moderation/items/{overdue.pk}/")
    expect(page.get_by_test_id("item-status")).to_have_text("可见")
    expect(page.get_by_test_id("log")).to_contain_text("审核通过")
    _shot(page, "moderation-item-zh.png")

    page.goto(base + "/moderation/queue/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _shot(page, "moderation-queue-en.png")
    context.close()
