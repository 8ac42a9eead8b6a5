"""Template helpers of the search pages and the home page's zones: presentation only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from yaji.catalog.templatetags.catalog_tags import fen, localized, monogram
from yaji.search.selectors import FACETS, SearchParams, search_trending, zones_home

register = template.Library()

_KEYS = ("q", *FACETS, "sort")


@lru_cache(maxsize=16)
def _results_path_for(prefix: str, urlconf: Any) -> str:
    return reverse("search:results")


def _results_path() -> str:
    """``reverse("search:results")`` once per script prefix and URLconf: a results page links
    ~35 facet buckets and sorts, and reversing each was a sixth of its render (ADR 0051)."""
    return _results_path_for(get_script_prefix(), get_urlconf())


def _query(params: SearchParams, changes: dict[str, Any]) -> str:
    values = {key: getattr(params, key) for key in _KEYS}
    values.update(changes)
    if values.get("sort") == "relevance":
        values["sort"] = ""
    page = changes.get("page")
    if page and page != 1:
        values["page"] = page
    query = urlencode({k: v for k, v in values.items() if v})
    return _results_path() + (f"?{query}" if query else "")


@register.simple_tag
def search_toggle(params: SearchParams, facet: str, value: str) -> str:
    """The results URL with ``facet`` set to ``value``, or cleared when it already is."""
    return _query(params, {facet: "" if getattr(params, facet) == value else value})


@register.simple_tag
def search_with(params: SearchParams, **changes: Any) -> str:
    """The results URL with some parameters changed (and the page reset unless given)."""
    return _query(params, changes)


@register.simple_tag
def search_link(**params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return _results_path() + (f"?{query}" if query else "")


@register.inclusion_tag("search/partials/home_zones.html", takes_context=True)
def search_home_zones(context: Any, per_zone: int = 6) -> dict[str, Any]:
    """The home page's themed zones (saved searches) as product rows, and what is trending."""
    return {
        "request": context.get("request"),
        "zones": zones_home(per_zone=per_zone),
        "trending": search_trending(limit=8),
    }


# A sentinel id no real product or image has: the card URLs are reversed once per list and the
# ids put in by replacing it (reversing per card was ~60 reverse() calls a page).
_SENTINEL = 987654320123456789


@register.simple_tag
def hit_cards(products: Any) -> str:
    """The result cards (``search/partials/hit_card.html``, the same markup) for a list of
    hits in one pass: an ``{% include %}`` per card was a quarter of a list page's render."""
    products = list(products)
    if not products:
        return ""
    click = reverse("search:click", kwargs={"product_id": _SENTINEL})
    image_url = reverse(
        "catalog:product_image",
        kwargs={"product_id": _SENTINEL, "image_id": _SENTINEL + 1, "size": "400"},
    )
    sentinel, sentinel_image = str(_SENTINEL), str(_SENTINEL + 1)
    out = []
    for product in products:
        images = product.images.all()
        image = images[0] if images else None
        title_zh = product.title_zh
        if image is not None:
            src = image_url.replace(sentinel_image, str(image.pk)).replace(
                sentinel, str(image.product_id)
            )
            picture = format_html(
                '<img src="{}" alt="{}" loading="lazy">', src, image.alt or title_zh
            )
        else:
            picture = format_html(
                '<span class="product-card-empty" aria-hidden="true">{}</span>',
                monogram(title_zh),
            )
        price = product.price_from_fen
        out.append(
            format_html(
                '<li class="product-card search-hit" data-testid="search-hit"><a href="{}">{}'
                '<span class="product-card-title">{}</span><span class="search-hit-shop">{}'
                "</span>{}</a></li>",
                click.replace(sentinel, str(product.pk)),
                picture,
                localized(product, "title"),
                localized(product.shop, "name"),
                format_html('<span class="product-card-price">{}</span>', fen(price))
                if price
                else "",
            )
        )
    return mark_safe("".join(out))  # noqa: S308  # every piece above is format_html-escaped
