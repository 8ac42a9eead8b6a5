"""Searching in a real headless Chromium: type in the header box, see suggestions, get results,
narrow them with a facet. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from yaji.search.services import search_index_rebuild
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_type_a_query_see_results_and_narrow_by_facet(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    reviewer = reviewer_user()
    heritage = shop_open(reviewer=reviewer, name_zh="婉清苏绣坊", shop_type="heritage_workshop")
    museum = shop_open(reviewer=reviewer, name_zh="江南织造博物馆", shop_type="museum")
    listed(
        heritage,
        reviewer=reviewer,
        title_zh="苏绣真丝丝巾·宋人花鸟",
        title_en="Suzhou-embroidered silk scarf",
        category_slug="heritage-craft",
        attributes=(("craft", "苏绣"), ("era", "宋代")),
        price_fen=88000,
    )
    listed(
        museum,
        reviewer=reviewer,
        title_zh="千里江山真丝丝巾",
        title_en="A Thousand Li silk scarf",
        category_slug="museum",
        attributes=(("series", "千里江山"),),
        price_fen=39800,
    )
    listed(
        museum,
        reviewer=reviewer,
        title_zh="青花瓷茶具四件套",
        title_en="Blue and white tea set",
        category_slug="ceramics",
        attributes=(("craft", "青花瓷"),),
        price_fen=58000,
    )
    relay()
    list(search_index_rebuild())

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/")

    # Pinyin initials in the header box suggest 青花瓷.
    box = page.get_by_test_id("site-search")
    box.press_sequentially("qhc", delay=60)
    suggestions = page.get_by_test_id("search-suggestions")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option").first).to_contain_text("青花瓷")
    _shot(page, "search-suggest-zh.png")

    # An English word finds both silk scarves.
    box.fill("")
    box.press_sequentially("scarf", delay=40)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=scarf"))
    expect(page.get_by_test_id("search-summary")).to_contain_text("2")
    expect(page.get_by_test_id("search-hit")).to_have_count(2)
    _shot(page, "search-results-zh.png")

    # A facet narrows the results (HTMX swaps the results in place and updates the URL).
    page.get_by_test_id("facet-shop_type-museum").click()
    expect(page).to_have_url(re.compile(r"shop_type=museum"))
    expect(page.get_by_test_id("search-hit")).to_have_count(1)
    expect(page.get_by_test_id("search-hit")).to_contain_text("千里江山真丝丝巾")
    expect(page.get_by_test_id("facet-shop_type-museum")).to_have_attribute("aria-current", "true")
    _shot(page, "search-facet-zh.png")

    # Sorting by price keeps the facet.
    page.get_by_test_id("sort-price_asc").click()
    expect(page).to_have_url(re.compile(r"sort=price_asc"))
    expect(page).to_have_url(re.compile(r"shop_type=museum"))

    # Traditional characters find the simplified product; the click-through opens it.
    page.goto(live_server.url + "/search/?q=蘇繡")
    expect(page.get_by_test_id("search-hit")).to_have_count(1)
    page.get_by_test_id("search-hit").click()
    expect(page).to_have_url(re.compile(r"/products/\d+/$"))
    context.close()
