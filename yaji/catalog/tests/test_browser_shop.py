"""A shop opens in a real headless Chromium: a verified creator applies with a document, a
reviewer approves, and the public shop page is shown. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from yaji.catalog import services
from yaji.catalog.tests.factories import PASSWORD, PDF_BYTES, reviewer_user, verified_user
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser

STORY = (
    "镇湖的绣娘家里，针线是传家的东西。婉清从外婆手里接过第一根针，至今已是苏绣第四代。\n\n"
    "工坊专做双面绣：一幅宋人花鸟，正反两面同样精细，一根丝线劈成六十四分之一。"
    "每件作品从描稿、配色到落针，都在苏州完成。"
)


STORY_EN = (
    "In Zhenhu, the embroidery village outside Suzhou, needles are heirlooms. Wanqing took her "
    "first from her grandmother and is the fourth generation at the frame.\n\n"
    "The workshop makes double-sided embroidery: Song-dynasty birds and flowers, equally fine "
    "on both faces, stitched with silk split into sixty-four strands."
)


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of the image
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))


@pytest.mark.django_db(transaction=True)
def test_apply_approve_and_visit_the_shop(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    creator = verified_user(email="wanqing@example.com", display_name="林婉清")
    services.creator_profile_update(
        user=creator,
        bio="苏绣第四代传人，以双面绣再现宋画花鸟。二十年来只做一件事：让针脚比画笔更细。",
    )
    reviewer = reviewer_user(email="reviewer@example.com", display_name="审核 · 周明心")
    base = live_server.url

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # The creator applies, with a licence scan.
    _log_in(page, base, creator.email)
    page.goto(base + "/shops/apply/")
    page.get_by_label("店铺名称（中文）").fill("婉清苏绣坊")
    page.get_by_label("店铺名称（英文，可选）").fill("Wanqing Suzhou Embroidery")
    page.get_by_label("店铺地址").fill("wanqing-embroidery")
    page.get_by_label("店铺类型").select_option("heritage_workshop")
    page.get_by_label("所在地区").fill("江苏 · 苏州")
    page.get_by_label("店铺故事（中文）").fill(STORY)
    page.get_by_label("店铺故事（英文，可选）").fill(STORY_EN)
    page.get_by_label("资质文件").set_input_files(
        [{"name": "非遗传承人证书.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    _shot(page, "shop-apply-zh.png")
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/shops/mine/$"))
    expect(page.get_by_test_id("application-status")).to_contain_text("正在审核")
    _shot(page, "shop-mine-zh.png")
    context.clear_cookies()

    # The reviewer sees it in the queue, opens it and approves.
    _log_in(page, base, reviewer.email)
    page.goto(base + "/review/shops/")
    expect(page.get_by_test_id("queue-count")).to_contain_text("1")
    page.get_by_role("link", name="审核", exact=True).click()
    expect(page.locator(".doc-list")).to_contain_text("非遗传承人证书.pdf")
    _shot(page, "shop-review-zh.png")
    page.get_by_role("button", name="通过并开店").click()
    expect(page.locator(".messages")).to_contain_text("店铺已开张")
    context.clear_cookies()

    # Anyone can now visit the shop.
    page.goto(base + "/shops/wanqing-embroidery/")
    expect(page.get_by_role("heading", level=1)).to_have_text("婉清苏绣坊")
    expect(page.locator(".type-badge")).to_have_text("非遗工坊")
    expect(page.get_by_test_id("owner-card")).to_contain_text("林婉清")
    _shot(page, "shop-zh.png")

    # The same page in English: the English story, the type in English.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".type-badge")).to_have_text("Intangible-heritage workshop")
    expect(page.locator(".story")).to_contain_text("fourth generation")
    _shot(page, "shop-en.png")
    page.get_by_role("button", name="中文").click()

    page.get_by_role("link", name="创作者主页").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("林婉清")
    _shot(page, "creator-zh.png")
    context.close()
