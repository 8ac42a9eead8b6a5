"""The cards written by yaji.search.fragments are the card template's markup (ADR 0055)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from yaji.search.fragments import hit_cards_html
from yaji.search.selectors import Hit, HitImage, HitShop

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
