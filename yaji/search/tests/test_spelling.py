"""Typo tolerance and the search query plan, on whichever backend the suite runs (SQLite FTS5
by default, PostgreSQL with DATABASE_URL=postgres://...)."""

from __future__ import annotations

import pytest

from yaji.catalog import services as catalog
from yaji.search import selectors
from yaji.search.analysis import (
    edit_distance,
    latin_query_keys,
    sound_key,
    spelling_keys,
)
from yaji.search.models import SearchDocument, SearchSpellingKey, SearchVocabulary
from yaji.search.selectors import SearchParams, search_run, search_spelling
from yaji.search.services import search_index_rebuild
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open

# --- the pipeline's pieces (no database) --------------------------------------------------------


def test_edit_distance_counts_adjacent_transpositions_as_one_edit() -> None:
    assert edit_distance("scraf", "scarf") == 1
    assert edit_distance("porcelian", "porcelain") == 1
    assert edit_distance("lanten", "lantern") == 1
    assert edit_distance("kite", "kite") == 0
    assert edit_distance("bangle", "jungle") == 2
    assert edit_distance("a" * 3, "b" * 9, limit=2) == 3  # cut short past the limit


def test_a_misspelling_one_edit_away_shares_a_lookup_key() -> None:
    for typed, meant in [
        ("scraf", "scarf"),
        ("porcelian", "porcelain"),
        ("cloisone", "cloisonne"),
        ("braclet", "bracelet"),
        ("lanterns", "lantern"),
        ("qinhuaci", "qinghuaci"),
    ]:
        assert latin_query_keys(typed) & set(spelling_keys(meant)), (typed, meant)
    # Too short to correct, and nothing for one Han character.
    assert spelling_keys("tea") == []
    assert spelling_keys("瓷") == []


def test_homophones_share_a_sound_key_and_confusable_initials_too() -> None:
    assert sound_key("景泰兰") == sound_key("景泰蓝")
    assert sound_key("青花磁") == sound_key("青花瓷")
    assert sound_key("苏秀") == sound_key("苏绣")
    assert sound_key("紫沙") == sound_key("紫砂")
    # zh/z, sh/s and -ng/-n are folded: what southern speakers and hurried typists confuse.
    assert sound_key("真丝") == sound_key("枕思") == sound_key("怎丝")
    assert sound_key("丝巾") != sound_key("书签")


# --- against the index --------------------------------------------------------------------------


@pytest.fixture
def world() -> dict[str, object]:
    reviewer = reviewer_user()
    studio = shop_open(reviewer=reviewer, name_zh="云纹设计", shop_type="studio")
    museum = shop_open(reviewer=reviewer, name_zh="江南织造博物馆", shop_type="museum")
    products = {
        "bookmark": listed(
            studio,
            reviewer=reviewer,
            title_zh="景泰蓝掐丝书签",
            title_en="Cloisonné bookmark",
            category_slug="stationery",
            attributes=(("craft", "景泰蓝"),),
            price_fen=8800,
        ),
        "cup": listed(
            studio,
            reviewer=reviewer,
            title_zh="青花瓷茶杯",
            title_en="Blue and white porcelain cup",
            category_slug="ceramics",
            price_fen=12800,
        ),
        "scarf": listed(
            museum,
            reviewer=reviewer,
            title_zh="千里江山真丝丝巾",
            title_en="A Thousand Li silk scarf",
            category_slug="museum",
            price_fen=39800,
        ),
    }
    relay()  # the listed events reach the index (and its vocabulary), as the worker would
    return {"reviewer": reviewer, "studio": studio, "museum": museum, **products}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "meant", "found"),
    [
        ("景泰兰", "景泰蓝", "景泰蓝掐丝书签"),  # 同音字: lán 兰 for 蓝
        ("青花磁", "青花瓷", "青花瓷茶杯"),
        ("scraf", "scarf", "千里江山真丝丝巾"),  # transposed letters
        ("porcelian", "porcelain", "青花瓷茶杯"),
        ("bookmrak", "bookmark", "景泰蓝掐丝书签"),
        ("cloisone", "cloisonne", "景泰蓝掐丝书签"),  # a letter missing
        ("qinhuaci", "qinghuaci", "青花瓷茶杯"),  # misspelt pinyin
        ("景泰兰 书签", "景泰蓝 书签", "景泰蓝掐丝书签"),  # one word of two
    ],
)
def test_a_misspelt_query_shows_the_corrected_querys_products(
    world, typed: str, meant: str, found: str
) -> None:  # type: ignore[no-untyped-def]
    # when the query as typed matches nothing
    result = search_run(SearchParams(q=typed))

    # then the page has the correction's products and says so
    assert result.corrected and result.suggestion == meant
    assert [p.title_zh for p in result.hits] == [found]
    assert result.total == 1


@pytest.mark.django_db
def test_correctly_spelt_and_unknown_queries_are_left_alone(world) -> None:  # type: ignore[no-untyped-def]
    for q in ["景泰蓝", "scarf", "青花瓷 茶杯"]:
        result = search_run(SearchParams(q=q))
        assert result.total and not result.corrected and result.suggestion == "", q
    # Nothing in the vocabulary is near these: no suggestion, no results.
    for q in ["zzzzqqq", "恐龙化石", "helmet"]:
        result = search_run(SearchParams(q=q))
        assert (result.total, result.corrected, result.suggestion) == (0, False, ""), q


@pytest.mark.django_db
def test_exact_searches_the_words_as_typed(world) -> None:  # type: ignore[no-untyped-def]
    # "search instead for 景泰兰": no correction at all
    result = search_run(SearchParams(q="景泰兰", exact=True))
    assert (result.total, result.corrected, result.suggestion) == (0, False, "")


@pytest.mark.django_db
def test_the_vocabulary_follows_listing_and_delisting_through_the_outbox(world) -> None:  # type: ignore[no-untyped-def]
    # given a word only one product carries
    assert search_spelling("缂丝") is None
    kesi = listed(world["museum"], title_zh="缂丝团扇", category_slug="museum")
    assert search_spelling("刻丝") is None  # not indexed before its event is delivered
    relay()
    assert SearchVocabulary.objects.get(token="缂丝").documents == 1
    assert SearchSpellingKey.objects.filter(token="缂丝", key=f"s:{sound_key('缂丝')}").exists()
    # then its homophone is corrected towards it (kè sī 刻丝 → 缂丝)
    assert search_spelling("刻丝") == "缂丝"
    assert [p.title_zh for p in search_run(SearchParams(q="刻丝")).hits] == ["缂丝团扇"]

    # when it is delisted and the event delivered, nothing is corrected towards it any more
    catalog.product_delist(actor=kesi.shop.owner, product_id=kesi.pk)
    relay()
    assert SearchVocabulary.objects.get(token="缂丝").documents == 0
    assert search_spelling("刻丝") is None

    # and a rebuild recounts from the full-text index: the same counts, the dead token gone
    counts = dict(
        SearchVocabulary.objects.filter(documents__gt=0).values_list("token", "documents")
    )
    list(search_index_rebuild())
    assert dict(SearchVocabulary.objects.values_list("token", "documents")) == counts
    assert not SearchSpellingKey.objects.filter(token="缂丝").exists()


@pytest.mark.django_db
def test_a_delisted_product_is_never_returned(world) -> None:  # type: ignore[no-untyped-def]
    # given the scarf is found, its document (the searchable flag) present
    scarf = world["scarf"]
    assert [p.title_zh for p in search_run(SearchParams(q="丝巾")).hits] == ["千里江山真丝丝巾"]

    # when it is delisted, before the event reaches the index
    catalog.product_delist(actor=scarf.shop.owner, product_id=scarf.pk)
    assert SearchDocument.objects.filter(pk=scarf.pk).exists()

    # then no page shows it: not the query, not a browse page, not a typo's correction
    for params in [
        SearchParams(q="丝巾"),
        SearchParams(q="scraf"),
        SearchParams(category="museum"),
        SearchParams(sort="newest"),
        SearchParams(sort="price_desc", page_size=1),
    ]:
        assert scarf.pk not in [p.pk for p in search_run(params).hits], params
    # the page is still full: the product behind it moves up
    assert [p.title_zh for p in search_run(SearchParams(sort="price_desc", page_size=1)).hits] == [
        "青花瓷茶杯"
    ]

    # and once delivered its document is gone, so nothing counts it either
    relay()
    assert not SearchDocument.objects.filter(pk=scarf.pk).exists()
    assert search_run(SearchParams(q="丝巾")).total == 0
    assert search_run(SearchParams()).total == 2


@pytest.mark.django_db
def test_totals_are_capped_at_the_result_window(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # given a cap smaller than the matches
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)

    browse = search_run(SearchParams(page_size=1))
    assert (browse.total, browse.total_exact, browse.total_label) == (2, False, "2+")
    assert browse.pages == 2

    ranked = search_run(SearchParams(q="cloisonne OR porcelain", page_size=1))
    # Every word must match, OR too: no product has "or", so this is a partial match.
    assert ranked.partial and ranked.total == 2 and ranked.total_exact

    exact = search_run(SearchParams(q="景泰蓝"))
    assert (exact.total, exact.total_exact, exact.total_label) == (1, True, "1")


@pytest.mark.django_db
def test_the_results_page_says_what_it_corrected_and_offers_the_words_as_typed(
    world, client
) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/search/", {"q": "scraf"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = page.content.decode()
    assert page.status_code == 200
    assert "已为你显示“scarf”的结果" in body and "千里江山真丝丝巾" in body
    assert 'data-testid="search-corrected"' in body and "exact=1" in body

    # "search instead for scraf": nothing, and no correction offered as hits
    as_typed = client.get("/search/", {"q": "scraf", "exact": "1"}).content.decode()
    assert "search-corrected" not in as_typed and "千里江山真丝丝巾" not in as_typed

    english = client.get("/search/", {"q": "scraf"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Showing results for “scarf”" in english.content.decode()


@pytest.mark.django_db
def test_the_api_reports_the_correction_and_the_exact_switch(world, client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/search", {"q": "scraf"}).json()
    assert (body["corrected"], body["suggestion"], body["total"]) == (True, "scarf", 1)
    assert body["total_exact"] is True

    exact = client.get("/api/v1/search", {"q": "scraf", "exact": "true"}).json()
    assert (exact["corrected"], exact["suggestion"], exact["total"]) == (False, "", 0)


@pytest.mark.django_db
def test_the_migration_fills_an_empty_vocabulary_from_the_index(world) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from django.apps import apps
    from django.db import connection

    fill = importlib.import_module("yaji.search.migrations.0005_spelling_vocabulary_fill").fill

    class Editor:  # what RunPython hands the function: only its connection is used
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    counts = dict(SearchVocabulary.objects.values_list("token", "documents"))
    keys = set(SearchSpellingKey.objects.values_list("key", "token"))
    # given an index built before search.0003: documents, but no vocabulary
    SearchSpellingKey.objects.all().delete()
    SearchVocabulary.objects.all().delete()
    assert search_spelling("景泰兰") is None

    # when the data migration runs
    fill(apps, editor)

    # then typo tolerance works again, with the counts the outbox path keeps
    assert dict(SearchVocabulary.objects.values_list("token", "documents")) == counts
    assert set(SearchSpellingKey.objects.values_list("key", "token")) == keys
    assert search_spelling("景泰兰") == "景泰蓝"
    # and a vocabulary that has rows is left alone (running it again changes nothing)
    SearchVocabulary.objects.filter(token="景泰蓝").update(documents=7)
    fill(apps, editor)
    assert SearchVocabulary.objects.get(token="景泰蓝").documents == 7
