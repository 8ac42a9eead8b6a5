"""Category browsing: the tree with counts, a category page with its descendants' products,
facets, sorting, paging, HTMX partials; both languages; bad input; query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.catalog.models import Category
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, object]:
    """Heritage crafts with two sub-categories (one nested deeper), products in each level."""
    heritage = Category.objects.get(slug="heritage-craft")
    embroidery = Category.objects.create(
        parent=heritage, slug="embroidery", name_zh="刺绣", name_en="Embroidery", position=1
    )
    suzhou = Category.objects.create(
        parent=embroidery, slug="suzhou-embroidery", name_zh="苏绣", name_en="Suzhou", position=1
    )
    Category.objects.create(
        parent=heritage, slug="bamboo", name_zh="竹编", name_en="Bamboo weaving", position=2
    )
    reviewer = reviewer_user()
    workshop = shop_open(reviewer=reviewer, name_zh="婉清苏绣坊", shop_type="heritage_workshop")
    museum = shop_open(reviewer=reviewer, name_zh="故宫文创馆", shop_type="museum")
    items = {
        "fan": listed(
            workshop,
            reviewer=reviewer,
            title_zh="苏绣团扇·宋人花鸟",
            title_en="Suzhou embroidered fan",
            category_slug="suzhou-embroidery",
            attributes=(("craft", "苏绣"), ("era", "宋代")),
            price_fen=128000,
        ),
        "hanging": listed(
            workshop,
            reviewer=reviewer,
            title_zh="刺绣挂屏",
            title_en="Embroidered hanging screen",
            category_slug="embroidery",
            attributes=(("craft", "苏绣"),),
            price_fen=36000,
        ),
        "basket": listed(
            museum,
            reviewer=reviewer,
            title_zh="竹编茶篮",
            title_en="Bamboo tea basket",
            category_slug="heritage-craft",
            attributes=(("craft", "竹编"),),
            price_fen=9800,
        ),
        "cup": listed(
            museum,
            reviewer=reviewer,
            title_zh="青花瓷茶杯",
            title_en="Blue and white cup",
            category_slug="ceramics",
            price_fen=6800,
        ),
    }
    relay()
    return {"items": items, "embroidery": embroidery, "suzhou": suzhou}


def _titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.title_zh for p in response.context["result"].hits]


def test_tree_counts_each_category_with_its_descendants(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/categories/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    nodes = {n.category.slug: n for n in response.context["nodes"]}
    heritage = nodes["heritage-craft"]
    assert heritage.count == 3  # its own basket + the embroidery subtree's two
    children = {c.category.slug: c for c in heritage.children}
    assert (children["embroidery"].count, children["bamboo"].count) == (2, 0)
    assert children["embroidery"].children[0].count == 1  # 苏绣 holds the fan
    assert nodes["ceramics"].count == 1 and nodes["apparel"].count == 0
    html = response.content.decode()
    assert "非遗手作" in html and "Intangible Heritage Crafts" in html  # both names shown
    assert 'href="/categories/suzhou-embroidery/"' in html
    assert response.context["total"] == 4


def test_category_page_lists_descendants_with_breadcrumbs_and_subcategory_facet(
    client: Client, world
) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/categories/heritage-craft/", {"sort": "price_asc"})
    assert response.status_code == 200
    assert _titles(response) == ["竹编茶篮", "刺绣挂屏", "苏绣团扇·宋人花鸟"]
    children = {n.category.slug: n.count for n in response.context["children"]}
    assert children == {"embroidery": 2, "bamboo": 0}
    facets = {f.name: {b.value: b.count for b in f.buckets} for f in response.context["facets"]}
    assert facets["craft"] == {"苏绣": 2, "竹编": 1}
    assert facets["shop_type"] == {"heritage_workshop": 2, "museum": 1}
    assert facets["price"] == {"0-100": 1, "300-1000": 1, "1000-3000": 1}
    assert "category" not in facets  # the page is the category; sub-categories are links

    deep = client.get("/categories/suzhou-embroidery/")
    crumbs = deep.content.decode().split('data-testid="breadcrumbs"')[1].split("</nav>")[0]
    assert crumbs.index("全部分类") < crumbs.index("非遗手作") < crumbs.index("刺绣")
    assert _titles(deep) == ["苏绣团扇·宋人花鸟"]


def test_facet_narrows_and_counts_follow(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/categories/heritage-craft/", {"craft": "苏绣", "sort": "price_desc"})
    assert _titles(response) == ["苏绣团扇·宋人花鸟", "刺绣挂屏"]
    facets = {f.name: f for f in response.context["facets"]}
    craft = {b.value: (b.count, b.selected) for b in facets["craft"].buckets}
    assert craft == {"苏绣": (2, True), "竹编": (1, False)}  # own facet counts without itself
    assert {b.value: b.count for b in facets["shop_type"].buckets} == {"heritage_workshop": 2}
    children = {n.category.slug: n.count for n in response.context["children"]}
    assert children == {"embroidery": 2, "bamboo": 0}
    html = response.content.decode()
    # Toggling the selected value off keeps the sort; links swap the results block via HTMX.
    assert 'hx-get="/categories/heritage-craft/?sort=price_desc"' in html
    assert 'hx-push-url="true"' in html and 'hx-target="#browse-results"' in html


def test_htmx_facet_click_gets_the_results_block_only(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/categories/heritage-craft/",
        {"shop_type": "museum"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="browse-results",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="browse-results"')
    assert "<html" not in html and "竹编茶篮" in html and "刺绣挂屏" not in html
    assert "HX-Request" in response["Vary"]
    # A history restore (the browser's back button into an evicted page) gets the whole page.
    full = client.get(
        "/categories/heritage-craft/",
        {"shop_type": "museum"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="browse-results",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in full.content.decode()


def test_english_page(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    client.cookies["django_language"] = "en"
    response = client.get("/categories/heritage-craft/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Intangible Heritage Crafts" in html and "Embroidery" in html
    assert "Suzhou embroidery" in html  # the craft facet's English value
    assert "Sub-categories" in html and "Newest" in html
    assert "3 works" in html
    tree = client.get("/categories/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "All categories" in tree and "Browse by category" in tree


def test_empty_category(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/categories/apparel/")
    assert response.status_code == 200
    assert response.context["result"].total == 0
    assert 'data-testid="browse-empty"' in response.content.decode()
    narrowed = client.get("/categories/ceramics/", {"craft": "苏绣"})
    assert narrowed.status_code == 200 and narrowed.context["result"].total == 0
    assert "试试去掉一个" in narrowed.content.decode()


def test_unknown_slug_is_404(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/categories/no-such-thing/").status_code == 404
    assert client.get("/categories/no-such-thing/", {"craft": "苏绣"}).status_code == 404


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"craft": "塑料"}, "search_unknown_facet_value"),
        ({"price": "1-2"}, "search_unknown_facet_value"),
        ({"shop_type": "bank"}, "search_unknown_facet_value"),
        ({"era": "<script>"}, "search_unknown_facet_value"),
        ({"sort": "cheapest"}, "search_unknown_sort"),
        ({"page": "abc"}, "search_invalid_page"),
        ({"page": "9999"}, "search_invalid_page"),
        ({"page_size": "100000"}, "search_invalid_page"),
    ],
)
def test_bad_facet_sort_or_page_is_a_clear_422(client: Client, world, query, code) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/categories/heritage-craft/", query)
    assert response.status_code == 422  # the project's status for invalid input, as on /search/
    assert response.context["error_code"] == code
    html = response.content.decode()
    error = html.split('data-testid="browse-error"')[1].split("</div>")[0]
    assert "<script>" not in error  # the value is never echoed unescaped
    assert 'href="/categories/heritage-craft/"' in html  # a way out: the unfiltered page


def test_unknown_parameters_are_ignored(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/categories/heritage-craft/", {"colour": "red", "q": "x"})
    assert response.status_code == 200 and response.context["result"].total == 3


def test_paging(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/categories/heritage-craft/", {"sort": "price_asc", "page_size": 2})
    assert _titles(first) == ["竹编茶篮", "刺绣挂屏"]
    assert 'href="/categories/heritage-craft/?sort=price_asc&amp;page=2&amp;page_size=2"' in (
        first.content.decode()
    )
    second = client.get(
        "/categories/heritage-craft/", {"sort": "price_asc", "page_size": 2, "page": 2}
    )
    assert _titles(second) == ["苏绣团扇·宋人花鸟"]


def test_query_count_is_small_and_constant_in_page_size(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    path = "/categories/heritage-craft/"
    client.get(
        path, {"sort": "newest", "craft": "苏绣"}
    )  # the facet counts are cached per filter set
    counts = []
    for size in (1, 2, 3):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"sort": "newest", "craft": "苏绣", "page_size": size})
        assert response.status_code == 200 and len(response.context["result"].hits) == min(size, 2)
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2] <= 12, counts
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/categories/").status_code == 200
    assert len(captured) <= 12


def test_nav_and_home_link_to_the_tree(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").content.decode()
    assert 'data-testid="nav-categories"' in html and 'href="/categories/"' in html
    assert 'href="/categories/heritage-craft/"' in html  # the home page's category strip
