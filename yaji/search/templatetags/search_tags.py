"""Template helpers of the search pages and the home page's zones: presentation only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

from yaji.search.fragments import hit_cards_html
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


@register.simple_tag
def hit_cards(hits: Any) -> str:
    """The result cards (``search/partials/hit_card.html``, the same markup) of a list of
    hits, written by :mod:`yaji.search.fragments` in one pass (ADR 0055)."""
    return hit_cards_html(hits)
