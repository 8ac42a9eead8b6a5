"""Search over real listed products, on whichever backend the test database selects (SQLite
FTS5 by default, PostgreSQL full-text with DATABASE_URL=postgres://...)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yaji.catalog import services as catalog
from yaji.core import clock
from yaji.search import services
from yaji.search.errors import InvalidPage, QueryTooLong, UnknownFacetValue, UnknownSort
from yaji.search.models import SearchDocument
from yaji.search.selectors import SearchParams, search_run, search_suggest
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open

pytestmark = pytest.mark.django_db


def titles(params: SearchParams) -> list[str]:
    return [p.title_zh for p in search_run(params).hits]


@pytest.fixture
def world() -> dict[str, object]:
    reviewer = reviewer_user()
    heritage = shop_open(reviewer=reviewer, name_zh="婉清苏绣坊", shop_type="heritage_workshop")
    museum = shop_open(reviewer=reviewer, name_zh="江南织造博物馆", shop_type="museum")
    studio = shop_open(reviewer=reviewer, name_zh="云纹设计", shop_type="studio")
    products = {
        "fan": listed(
            heritage,
            reviewer=reviewer,
            title_zh="双面绣团扇·宋人花鸟",
            title_en="Double-sided embroidered fan",
            story_zh="苏绣第四代传人以宋画花鸟为稿。",
            category_slug="heritage-craft",
            attributes=(("craft", "苏绣"), ("era", "宋代"), ("region", "江南")),
            price_fen=128000,
        ),
        "scarf": listed(
            museum,
            reviewer=reviewer,
            title_zh="千里江山真丝丝巾",
            title_en="A Thousand Li silk scarf",
            story_zh="馆藏青绿山水局部，印在真丝上。",
            category_slug="museum",
            attributes=(("series", "千里江山"), ("material", "丝绸")),
            price_fen=39800,
        ),
        "porcelain": listed(
            studio,
            reviewer=reviewer,
            title_zh="青花瓷茶具四件套",
            title_en="Blue and white tea set",
            story_zh="景德镇手绘青花，一壶三杯。",
            category_slug="ceramics",
            attributes=(("craft", "青花瓷"), ("region", "景德镇"), ("era", "明清")),
            price_fen=58000,
        ),
        "bookmark": listed(
            studio,
            reviewer=reviewer,
            title_zh="景泰蓝掐丝书签",
            title_en="Cloisonné bookmark",
            category_slug="stationery",
            attributes=(("craft", "景泰蓝"),),
            price_fen=8800,
        ),
    }
    relay()  # the listed events reach the index, as the worker would deliver them
    return {"reviewer": reviewer, "shops": (heritage, museum, studio), **products}


def test_outbox_events_index_listed_products(world) -> None:  # type: ignore[no-untyped-def]
    assert SearchDocument.objects.count() == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("丝巾", "千里江山真丝丝巾"),  # a two-character word
        ("scarf", "千里江山真丝丝巾"),  # English
        ("scarves", "千里江山真丝丝巾"),  # an English plural
        ("围巾", "千里江山真丝丝巾"),  # a Chinese synonym
        ("青花瓷", "青花瓷茶具四件套"),
        ("qinghuaci", "青花瓷茶具四件套"),  # full pinyin
        ("qhc", "青花瓷茶具四件套"),  # pinyin initials
        ("蘇繡", "双面绣团扇·宋人花鸟"),  # traditional characters
        ("tea set", "青花瓷茶具四件套"),
        ("porcelain", "青花瓷茶具四件套"),  # 瓷器 ↔ porcelain through 青花瓷's story? no: title
        ("cloisonne", "景泰蓝掐丝书签"),  # accents folded
        ("景泰藍", "景泰蓝掐丝书签"),
        ("宋代 团扇", "双面绣团扇·宋人花鸟"),
    ],
)
def test_queries_find_the_product(world, query: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    found = titles(SearchParams(q=query))
    assert found and found[0] == expected, (query, found)


def test_every_word_must_match_or_the_result_says_it_is_partial(world) -> None:  # type: ignore[no-untyped-def]
    full = search_run(SearchParams(q="书签 景泰蓝"))
    assert [p.title_zh for p in full.hits] == ["景泰蓝掐丝书签"] and not full.partial
    # No product has both: the one with the last word (the phrase's head) first, then the one
    # with the other word, said to be partial.
    partial = search_run(SearchParams(q="丝巾 景泰蓝"))
    assert partial.partial
    assert [p.title_zh for p in partial.hits] == ["景泰蓝掐丝书签", "千里江山真丝丝巾"]


def test_relaxed_pass_when_no_product_has_the_whole_word(world) -> None:  # type: ignore[no-untyped-def]
    result = search_run(SearchParams(q="千里江山图"))
    assert result.relaxed
    assert [p.title_zh for p in result.hits] == ["千里江山真丝丝巾"]


def test_facet_counts_and_filters(world) -> None:  # type: ignore[no-untyped-def]
    result = search_run(SearchParams())
    facets = {f.name: {b.value: b.count for b in f.buckets} for f in result.facets}
    assert result.total == 4
    assert facets["category"] == {
        "heritage-craft": 1,
        "museum": 1,
        "ceramics": 1,
        "stationery": 1,
    }
    assert facets["price"] == {"0-100": 1, "300-1000": 2, "1000-3000": 1}
    assert facets["craft"] == {"苏绣": 1, "青花瓷": 1, "景泰蓝": 1}
    assert facets["era"] == {"宋代": 1, "明清": 1}
    assert facets["region"] == {"江南": 1, "景德镇": 1}
    assert facets["shop_type"] == {"heritage_workshop": 1, "museum": 1, "studio": 2}

    studio = search_run(SearchParams(shop_type="studio"))
    assert studio.total == 2
    studio_facets = {f.name: {b.value: b.count for b in f.buckets} for f in studio.facets}
    # A facet's own filter is not applied to its counts, the others are.
    assert studio_facets["shop_type"] == {"heritage_workshop": 1, "museum": 1, "studio": 2}
    assert studio_facets["craft"] == {"青花瓷": 1, "景泰蓝": 1}
    assert next(b for b in studio.facets[-1].buckets if b.selected).value == "studio"

    assert titles(SearchParams(price="0-100")) == ["景泰蓝掐丝书签"]
    assert titles(SearchParams(era="宋代")) == ["双面绣团扇·宋人花鸟"]
    assert titles(SearchParams(craft="青花瓷", region="景德镇")) == ["青花瓷茶具四件套"]
    assert titles(SearchParams(category="museum", q="丝巾")) == ["千里江山真丝丝巾"]
    assert titles(SearchParams(category="museum", q="书签")) == []


def test_sorting(world) -> None:  # type: ignore[no-untyped-def]
    assert titles(SearchParams(sort="price_asc")) == [
        "景泰蓝掐丝书签",
        "千里江山真丝丝巾",
        "青花瓷茶具四件套",
        "双面绣团扇·宋人花鸟",
    ]
    assert titles(SearchParams(sort="price_desc"))[0] == "双面绣团扇·宋人花鸟"
    assert titles(SearchParams(sort="newest"))[0] == "景泰蓝掐丝书签"
    services.search_signals_update(product_id=world["scarf"].pk, sales_count=30)
    assert titles(SearchParams(sort="sales"))[0] == "千里江山真丝丝巾"


def test_pagination(world) -> None:  # type: ignore[no-untyped-def]
    first = search_run(SearchParams(sort="price_asc", page_size=3))
    second = search_run(SearchParams(sort="price_asc", page_size=3, page=2))
    assert first.pages == 2 and first.next_page == 2 and second.next_page is None
    assert [p.title_zh for p in second.hits] == ["双面绣团扇·宋人花鸟"]


def test_business_signals_change_the_order(world) -> None:  # type: ignore[no-untyped-def]
    reviewer, (_h, museum, _s) = world["reviewer"], world["shops"]
    twin = listed(museum, reviewer=reviewer, title_zh="真丝丝巾·青绿", price_fen=29800)
    relay()
    # Same text relevance in the title; equal age (listed_at aligned), no sales: id breaks ties.
    SearchDocument.objects.filter(pk__in=[twin.pk, world["scarf"].pk]).update(
        listed_at=clock.now() - timedelta(days=3)
    )
    before = titles(SearchParams(q="丝巾"))
    loser = before[-1]
    loser_id = twin.pk if loser == twin.title_zh else world["scarf"].pk
    services.search_signals_update(
        product_id=loser_id, sales_count=500, rating_centi=480, rating_count=40
    )
    after = titles(SearchParams(q="丝巾"))
    assert after[0] == loser and after != before

    # Freshness: the same product listed long ago falls behind again.
    services.search_signals_update(
        product_id=loser_id, sales_count=0, rating_centi=0, rating_count=0
    )
    SearchDocument.objects.filter(pk=loser_id).update(listed_at=clock.now() - timedelta(days=365))
    assert titles(SearchParams(q="丝巾"))[-1] == loser


def test_delist_removes_and_relist_is_idempotent(world) -> None:  # type: ignore[no-untyped-def]
    scarf = world["scarf"]
    catalog.product_delist(actor=scarf.shop.owner, product_id=scarf.pk)
    # Invisible at once (the query joins the catalog's status) ...
    assert titles(SearchParams(q="丝巾")) == []
    assert SearchDocument.objects.filter(pk=scarf.pk).exists()
    # ... and gone from the index once the event is delivered.
    relay()
    assert not SearchDocument.objects.filter(pk=scarf.pk).exists()
    # Redelivery converges to the same state.
    assert services.search_document_refresh(product_id=scarf.pk) is False
    assert services.search_document_refresh(product_id=world["fan"].pk) is True
    assert services.search_document_refresh(product_id=world["fan"].pk) is True
    assert titles(SearchParams(q="团扇")) == ["双面绣团扇·宋人花鸟"]


def test_suspended_shop_leaves_search_and_comes_back_on_reinstatement(world) -> None:  # type: ignore[no-untyped-def]
    reviewer, scarf = world["reviewer"], world["scarf"]
    museum = scarf.shop
    catalog.shop_suspend(reviewer=reviewer, shop_id=museum.pk, reason="资质到期，待补交")
    # Invisible at once (the page checks the live status) ...
    assert titles(SearchParams(q="丝巾")) == []
    # ... and its documents leave the index (counts, facets, spelling) once the event arrives.
    relay()
    assert not SearchDocument.objects.filter(product__shop=museum).exists()
    assert search_run(SearchParams(q="丝巾")).total == 0
    assert SearchDocument.objects.count() == 3  # the other shops' products stay
    assert services.search_shop_refresh(shop_id=museum.pk) == 0  # redelivery: same state

    catalog.shop_reinstate(reviewer=reviewer, shop_id=museum.pk)
    relay()
    assert titles(SearchParams(q="丝巾")) == ["千里江山真丝丝巾"]
    assert SearchDocument.objects.count() == 4


def test_shop_suspension_needs_a_reviewer_a_reason_and_a_change(world) -> None:  # type: ignore[no-untyped-def]
    from yaji.catalog.errors import ShopReasonRequired, ShopStatusUnchanged
    from yaji.core.errors import NotFound, PermissionDenied

    reviewer, museum = world["reviewer"], world["scarf"].shop
    with pytest.raises(PermissionDenied):
        catalog.shop_suspend(reviewer=museum.owner, shop_id=museum.pk, reason="x")
    with pytest.raises(ShopReasonRequired):
        catalog.shop_suspend(reviewer=reviewer, shop_id=museum.pk, reason="  ")
    with pytest.raises(ShopStatusUnchanged):
        catalog.shop_reinstate(reviewer=reviewer, shop_id=museum.pk)
    with pytest.raises(NotFound):
        catalog.shop_suspend(reviewer=reviewer, shop_id=10**9, reason="x")
    museum.refresh_from_db()
    assert museum.status == "active"  # nothing half-done
    assert relay() == 0  # and no event


def test_suggestions_by_prefix_and_pinyin(world) -> None:  # type: ignore[no-untyped-def]
    list(services.search_index_rebuild())
    texts = [s.text for s in search_suggest(q="qhc")]
    assert "青花瓷" in texts and "青花瓷茶具四件套" in texts
    assert [s.text for s in search_suggest(q="qinghua")][:1] == ["青花瓷"]
    assert "景泰蓝掐丝书签" in [s.text for s in search_suggest(q="景泰")]
    assert "千里江山真丝丝巾" in [s.text for s in search_suggest(q="a thousand")]
    assert search_suggest(q="   ") == []
    assert search_suggest(q="zzzzq") == []


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(QueryTooLong):
        search_run(SearchParams(q="瓷" * 101))
    with pytest.raises(UnknownSort):
        search_run(SearchParams(sort="cheapest"))
    with pytest.raises(InvalidPage):
        search_run(SearchParams(page=0))
    with pytest.raises(InvalidPage):
        search_run(SearchParams(page_size=500))
    with pytest.raises(InvalidPage):
        search_run(SearchParams(page=1000))
    for facet, value in [
        ("category", "no-such"),
        ("price", "1-2"),
        ("era", "侏罗纪"),
        ("shop_type", "pirate"),
    ]:
        with pytest.raises(UnknownFacetValue):
            search_run(SearchParams(**{facet: value}))


def test_query_syntax_is_not_interpreted(world) -> None:  # type: ignore[no-untyped-def]
    for query in [
        '"',
        "丝巾 OR 书签",
        "NOT 丝巾",
        "丝巾*",
        "a:*",
        "(丝巾",
        "&|!",
        "NEAR(丝巾)",
        "'",
    ]:
        search_run(SearchParams(q=query))  # no syntax error from either backend
    # OR is just a word here, one no product has: the match is partial, not an OR.
    result = search_run(SearchParams(q="丝巾 OR 书签"))
    assert result.partial
    assert [p.title_zh for p in result.hits] == ["景泰蓝掐丝书签", "千里江山真丝丝巾"]


def test_cached_facet_counts_follow_every_index_write(world) -> None:  # type: ignore[no-untyped-def]
    # given facet counts computed (and cached) for a browse page
    first = {
        f.name: {b.value: b.count for b in f.buckets} for f in search_run(SearchParams()).facets
    }
    assert first["shop_type"]["museum"] == 1
    museum = world["shops"][1]  # type: ignore[index]

    # when another museum product is listed and indexed
    listed(museum, title_zh="故宫瑞兽冰箱贴", category_slug="museum", price_fen=3800)
    relay()

    # then the same page counts it at once (the index write retired the cached counts)
    again = {
        f.name: {b.value: b.count for b in f.buckets} for f in search_run(SearchParams()).facets
    }
    assert again["shop_type"]["museum"] == 2
    assert again["price"]["0-100"] == first["price"]["0-100"] + 1


def test_a_phrase_no_product_has_in_full_finds_the_products_with_most_of_its_words(world) -> None:  # type: ignore[no-untyped-def]
    # 送给 / 妈妈 are in no product and 的 is a particle: the product with what is left (真丝,
    # 丝巾) comes first; fewer than three have those, so products with one of them (silk,
    # scarf and their synonyms) follow, all marked partial.
    result = search_run(SearchParams(q="送给妈妈的真丝丝巾"))
    assert result.partial and not result.relaxed
    assert [p.title_zh for p in result.hits][:1] == ["千里江山真丝丝巾"]
    assert result.scores[result.hits[0].pk] > max(result.scores[p.pk] for p in result.hits[1:])
    # Every word found in one product: an ordinary match, not partial.
    full = search_run(SearchParams(q="青花瓷茶具"))
    assert not full.partial and [p.title_zh for p in full.hits] == ["青花瓷茶具四件套"]
    # Unknown words only: still nothing (no partial match of nothing).
    assert search_run(SearchParams(q="恐龙 化石")).total == 0


def test_a_partial_match_ranks_products_by_the_words_they_have(world) -> None:  # type: ignore[no-untyped-def]
    # No product has all of 景泰蓝 / 书签 / 团扇. The phrase's head word (团扇, the last) counts
    # first: the fan has it; then the products with most of the words without it: the
    # bookmark has two.
    result = search_run(SearchParams(q="景泰蓝 书签 团扇"))
    assert result.partial and result.total == 2
    assert [p.title_zh for p in result.hits] == ["双面绣团扇·宋人花鸟", "景泰蓝掐丝书签"]
    # Sorted by price the same set comes back, cheapest first.
    by_price = search_run(SearchParams(q="景泰蓝 书签 团扇", sort="price_asc"))
    assert [p.title_zh for p in by_price.hits] == ["景泰蓝掐丝书签", "双面绣团扇·宋人花鸟"]


def test_browsing_a_second_category_reuses_the_category_facet_count(world) -> None:  # type: ignore[no-untyped-def]
    # given the first category's browse page counted its facets
    first = search_run(SearchParams(category="heritage-craft"))
    by_category = {
        b.value: b.count for f in first.facets if f.name == "category" for b in f.buckets
    }

    # when another category is browsed
    with CaptureQueriesContext(connection) as captured:
        second = search_run(SearchParams(category="museum"))

    # then its category facet (which counts under no filter) comes from the first page's count,
    # with the same numbers; only the facets under the category filter are counted again
    grouped = [q["sql"] for q in captured if "GROUP BY" in q["sql"]]
    assert not any('"category_id"' in sql.split("FROM")[0] for sql in grouped)
    assert grouped  # price, shop type and attributes under the museum filter
    assert {b.value: b.count for f in second.facets if f.name == "category" for b in f.buckets} == (
        by_category
    )
    museum_docs = SearchDocument.objects.filter(category__slug="museum").count()
    shop_types = next(f for f in second.facets if f.name == "shop_type")
    assert sum(b.count for b in shop_types.buckets) == museum_docs


def test_the_cached_category_tree_follows_category_changes(
    world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from yaji.catalog.models import Category

    # given a browse read (and cached) the category tree
    search_run(SearchParams(category="heritage-craft"))
    with CaptureQueriesContext(connection) as captured:
        search_run(SearchParams(category="heritage-craft"))
    assert not any('"catalog_category"' in q["sql"].split("WHERE")[0] for q in captured)

    # when a category is renamed and a new one added
    with django_capture_on_commit_callbacks(execute=True):
        category = Category.objects.get(slug="heritage-craft")
        category.name_zh = "非遗手作（新）"
        category.save()
        Category.objects.create(slug="brand-new", name_zh="新分类", position=99)

    # then the next page shows the new name and can filter by the new category
    result = search_run(SearchParams(category="heritage-craft"))
    labels = {b.value: b.label for f in result.facets if f.name == "category" for b in f.buckets}
    assert labels["heritage-craft"] == "非遗手作（新）"
    assert search_run(SearchParams(category="brand-new")).total == 0
