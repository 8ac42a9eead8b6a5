"""Browsing by category in a real headless Chromium: home → the category tree → a category →
a facet (swapped in by HTMX, the URL pushed so it can be shared) → a sort → a product.
Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from yaji.catalog.models import Category
from yaji.catalog.tests.test_browser_shop import _shot
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_home_tree_category_facet_sort_product(live_server, browser, settings) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from yaji.catalog.defaults import catalog_defaults_seed

    settings.YAJI_PAGE_CACHE = True  # what visitors without a session get, commits are real here
    catalog_defaults_seed()
    heritage = Category.objects.get(slug="heritage-craft")
    Category.objects.create(
        parent=heritage, slug="embroidery", name_zh="刺绣", name_en="Embroidery", position=1
    )
    reviewer = reviewer_user()
    workshop = shop_open(reviewer=reviewer, name_zh="婉清苏绣坊", shop_type="heritage_workshop")
    museum = shop_open(reviewer=reviewer, name_zh="故宫文创馆", shop_type="museum")
    listed(
        workshop,
        reviewer=reviewer,
        title_zh="苏绣团扇·宋人花鸟",
        category_slug="embroidery",
        attributes=(("craft", "苏绣"), ("era", "宋代")),
        price_fen=128000,
    )
    listed(
        workshop,
        reviewer=reviewer,
        title_zh="刺绣书签",
        category_slug="embroidery",
        attributes=(("craft", "苏绣"),),
        price_fen=6800,
    )
    listed(
        museum,
        reviewer=reviewer,
        title_zh="竹编茶篮",
        category_slug="heritage-craft",
        attributes=(("craft", "竹编"),),
        price_fen=9800,
    )
    relay()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    # The first request loads the analyser's dictionaries (the home zones search): slow once.
    page.goto(live_server.url + "/", timeout=120_000)

    # Home → the category tree, from the home page's category strip.
    expect(page.get_by_test_id("home-categories")).to_be_visible()
    page.get_by_test_id("home-all-categories").click()
    expect(page).to_have_url(re.compile(r"/categories/$"))
    expect(page.get_by_test_id("tree-total")).to_contain_text("3")
    tile = page.get_by_test_id("category-heritage-craft")
    expect(tile).to_contain_text("非遗手作")
    expect(tile).to_contain_text("3 件")
    expect(page.get_by_test_id("category-embroidery")).to_contain_text("2")
    expect(page.get_by_test_id("nav-categories")).to_have_attribute("aria-current", "page")
    _shot(page, "browse-tree-zh.png")

    # → a category: its own product and its sub-category's, with breadcrumbs.
    tile.click()
    expect(page).to_have_url(re.compile(r"/categories/heritage-craft/$"))
    expect(page.get_by_test_id("category-title")).to_contain_text("非遗手作")
    expect(page.get_by_test_id("breadcrumbs")).to_contain_text("全部分类")
    expect(page.get_by_test_id("search-hit")).to_have_count(3)
    expect(page.get_by_test_id("facet-subcategory-embroidery")).to_contain_text("2")

    # A facet: HTMX swaps the results block only (the page is not reloaded) and pushes the URL.
    page.evaluate("window.__notReloaded = true")
    page.get_by_test_id("facet-craft-苏绣").click()
    expect(page).to_have_url(re.compile(r"craft=%E8%8B%8F%E7%BB%A3"))
    expect(page.get_by_test_id("search-hit")).to_have_count(2)
    expect(page.get_by_test_id("facet-craft-苏绣")).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.__notReloaded") is True
    _shot(page, "browse-facet-zh.png")

    # A sort keeps the facet; cheapest first.
    page.get_by_test_id("sort-price_asc").click()
    expect(page).to_have_url(re.compile(r"sort=price_asc"))
    expect(page).to_have_url(re.compile(r"craft="))
    expect(page.get_by_test_id("search-hit").first).to_contain_text("刺绣书签")
    assert page.evaluate("window.__notReloaded") is True

    # The pushed URL is shareable: opened afresh it shows the same narrowed, sorted list.
    shared = context.new_page()
    shared.goto(page.url)
    expect(shared.get_by_test_id("search-hit")).to_have_count(2)
    expect(shared.get_by_test_id("sort-price_asc")).to_have_attribute("aria-current", "true")
    shared.close()

    # Back restores the previous state of the list.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"sort=price_asc"))

    # → a product.
    page.get_by_test_id("search-hit").filter(has_text="苏绣团扇").click()
    expect(page).to_have_url(re.compile(r"/products/\d+/$"))
    expect(page.locator("h1")).to_contain_text("苏绣团扇·宋人花鸟")
    _shot(page, "browse-product-zh.png")

    # The same tree in English.
    english = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    en_page = english.new_page()
    en_page.goto(live_server.url + "/categories/")
    expect(en_page.get_by_test_id("category-heritage-craft")).to_contain_text(
        "Intangible Heritage Crafts"
    )
    expect(en_page.get_by_test_id("nav-categories")).to_contain_text("Categories")
    _shot(en_page, "browse-tree-en.png")
    english.close()
    context.close()
