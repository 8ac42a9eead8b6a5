"""The cards written by yaji.search.fragments are the card template's markup (ADR 0055)."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from yaji.search.fragments import browse_controls_html, hit_cards_html, results_controls_html
from yaji.search.selectors import (
    SORTS,
    Facet,
    FacetBucket,
    Hit,
    HitImage,
    HitShop,
    SearchParams,
    SearchResult,
)

NASTY = "<script>alert('x')</script> & \"引号\""


def _cards() -> list[Hit]:
    shop = HitShop(slug="tang-studio", name_zh="唐风工作室", name_en="Tang Studio")
    bare_shop = HitShop(slug="no-english", name_zh=f"店{NASTY}", name_en="")
    return [
        # An image with alt text, a price, both languages.
        Hit(
            pk=7,
            title_zh="青花瓷茶杯",
            title_en="Blue-and-white cup",
            shop=shop,
            category_slug="tea",
            price_from_fen=16800,
            image=HitImage(pk=31, product_id=7, alt="茶杯正面"),
        ),
        # An image without alt text (the title stands in), markup in every text.
        Hit(
            pk=8,
            title_zh=f"标题{NASTY}",
            title_en=f"Title {NASTY}",
            shop=bare_shop,
            category_slug=None,
            price_from_fen=99,
            image=HitImage(pk=32, product_id=8, alt=""),
        ),
        # An alt text with markup, no price.
        Hit(
            pk=9,
            title_zh="团扇",
            title_en="",
            shop=shop,
            category_slug="fans",
            price_from_fen=None,
            image=HitImage(pk=33, product_id=9, alt=NASTY),
        ),
        # No image (the monogram), no English title, a large price.
        Hit(
            pk=2**62,
            title_zh="<缂丝",
            title_en="",
            shop=bare_shop,
            category_slug=None,
            price_from_fen=123_456_789,
            image=None,
        ),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_card_fragments_are_the_card_template(language: str) -> None:
    cards = _cards()
    with translation.override(language):
        template = "".join(
            render_to_string("search/partials/hit_card.html", {"product": card}).rstrip("\n")
            for card in cards
        )
        written = hit_cards_html(cards)
    assert written == template
    assert "<script>" not in written and "&lt;script&gt;" in written


def test_no_cards_is_no_markup() -> None:
    assert hit_cards_html([]) == ""


# --- the results page's facets, sort links and pager (ADR 0056) ---------------------------------


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _facets() -> list[Facet]:
    return [
        Facet(
            "category",
            "分类",
            [
                FacetBucket("tea", "茶器", 1234567, True),
                FacetBucket(f"x{NASTY}", f"名{NASTY}", 3, False),
            ],
        ),
        Facet("price", "价格", [FacetBucket("lt100", "100 元以下", 12, False)]),
        Facet("era", f"年代{NASTY}", [FacetBucket("宋代", "Song & Yuan", 5, False)]),
        Facet("craft", "工艺", []),  # no buckets: no section
        Facet("region", "地域", [FacetBucket("苏州 & 杭州", "苏州 + 杭州?", 0, True)]),
        Facet("shop_type", "店铺类型", [FacetBucket("museum", "博物馆", 7, False)]),
    ]


PARAMS = (
    SearchParams(),
    SearchParams(category="tea", sort="price_asc", page=3),
    SearchParams(q=f"青花 {NASTY}", era="宋代", region="苏州 & 杭州", sort="sales", page=2),
    SearchParams(q="a+b=c&d", category=f"x{NASTY}", price="lt100", shop_type="museum", page=50),
    SearchParams(category="tea", sort="relevance", page=1, page_size=12),
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("total", [0, 24, 25, 999, 1200])
def test_the_results_controls_are_their_templates(
    language: str, params: SearchParams, total: int
) -> None:
    facets = _facets()
    page = min(params.page, 50)
    params = replace(params, page=page)
    result = SearchResult(params=params, hits=[], total=total, facets=facets)
    context = {"params": params, "facets": facets, "result": result, "sorts": SORTS.items()}
    with translation.override(language):
        written = results_controls_html(params, result)
        for part, template in (
            ("facets", "search/partials/results_facets.html"),
            ("sort", "search/partials/results_sort.html"),
            ("pager", "search/partials/results_pager.html"),
        ):
            assert _flat(written[part]) == _flat(render_to_string(template, context)), part
    assert "<script>" not in "".join(written.values())


def test_the_results_controls_localise_counts_as_the_template_does(settings) -> None:  # type: ignore[no-untyped-def]
    settings.USE_THOUSAND_SEPARATOR = True
    test_the_results_controls_are_their_templates("en", PARAMS[1], 1200)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("total", [0, 25, 1200])
def test_the_category_page_controls_are_their_templates(
    language: str, params: SearchParams, total: int
) -> None:
    facets = [f for f in _facets() if f.name != "category" and f.buckets]
    params = replace(params, category="tea-ware", page=min(params.page, 50))
    result = SearchResult(params=params, hits=[], total=total, facets=facets)
    context = {
        "params": params,
        "facets": facets,
        "result": result,
        "sorts": SORTS.items(),
        "category": SimpleNamespace(slug="tea-ware"),
    }
    with translation.override(language):
        written = browse_controls_html("tea-ware", params, result, facets)
        for part, template in (
            ("facets", "catalog/partials/browse_facets.html"),
            ("sort", "catalog/partials/browse_sort.html"),
            ("pager", "catalog/partials/browse_pager.html"),
        ):
            assert _flat(written[part]) == _flat(render_to_string(template, context)), part
    assert "<script>" not in "".join(written.values())
