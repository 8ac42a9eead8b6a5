"""Product cards of result lists rendered without the template engine (ADR 0055).

A list page shows up to 60 cards; rendering each through ``search/partials/hit_card.html``
(an include, a ``{% url %}``, three filters) was most of the page's template time, so this
module writes the same markup with plain string formatting over the plain rows the selector
reads (:class:`yaji.search.selectors.Hit`, no model instances): each URL kind is reversed once
per list with a stand-in id and split around it, every value is escaped exactly as the
template escapes it (``conditional_escape``: ``& < > " '``).

``search/partials/hit_card.html`` stays the readable reference: ``tests/test_fragments.py``
renders both over cards with and without an image, price or English title, with markup in
every text, in both languages, and requires the same HTML. Change the markup in both places.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from yaji.catalog.templatetags.catalog_tags import fen, localized, monogram
from yaji.search.selectors import Hit

# An id no row has, reversed once per list and split around (the URL patterns take <int:…>).
_STAND_IN = 987654320123456789


def _around(name: str, **kwargs: object) -> tuple[str, ...]:
    url = reverse(name, kwargs=kwargs)
    return tuple(str(escape(part)) for part in url.split(str(_STAND_IN)))


def hit_cards_html(hits: Iterable[Hit]) -> SafeString:
    """The result cards of ``hits`` as ``search/partials/hit_card.html`` renders each one."""
    hits = list(hits)
    if not hits:
        return mark_safe("")
    click_before, click_after = _around("search:click", product_id=_STAND_IN)
    # product_id and image_id both take the stand-in: [before, between, after].
    image_before, image_between, image_after = _around(
        "catalog:product_image", product_id=_STAND_IN, image_id=_STAND_IN, size="400"
    )
    out = []
    for hit in hits:
        image = hit.image
        if image is not None:
            picture = (
                f'<img src="{image_before}{int(image.product_id)}{image_between}{int(image.pk)}'
                f'{image_after}" alt="{escape(image.alt or hit.title_zh)}" loading="lazy">'
            )
        else:
            picture = (
                '<span class="product-card-empty" aria-hidden="true">'
                f"{escape(monogram(hit.title_zh))}</span>"
            )
        price = (
            f'<span class="product-card-price">{escape(fen(hit.price_from_fen))}</span>'
            if hit.price_from_fen
            else ""
        )
        out.append(
            '<li class="product-card search-hit" data-testid="search-hit">'
            f'<a href="{click_before}{int(hit.pk)}{click_after}">{picture}'
            f'<span class="product-card-title">{escape(localized(hit, "title"))}</span>'
            f'<span class="search-hit-shop">{escape(localized(hit.shop, "name"))}</span>'
            f"{price}</a></li>"
        )
    return mark_safe("".join(out))  # noqa: S308  # every value above is escaped
