"""Template helpers of the search pages and the home page's zones: presentation only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.safestring import SafeString

from yaji.search.fragments import RESULTS_KEYS as _KEYS
from yaji.search.fragments import hit_cards_html, results_controls_html, results_path
from yaji.search.fragments import search_link as _search_link
from yaji.search.selectors import SearchParams, SearchResult, search_trending, zones_home

register = template.Library()


def _query(params: SearchParams, changes: dict[str, Any]) -> str:
    values = {key: getattr(params, key) for key in _KEYS}
    values.update(changes)
    if values.get("sort") == "relevance":
        values["sort"] = ""
    page = changes.get("page")
    if page and page != 1:
        values["page"] = page
    query = urlencode({k: v for k, v in values.items() if v})
    return results_path() + (f"?{query}" if query else "")


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
    return _search_link(**params)


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


@register.simple_tag
def search_controls(params: SearchParams, result: SearchResult) -> dict[str, SafeString]:
    """The facets, sort links and pager of a results page (``facets``, ``sort``, ``pager``),
    written by :mod:`yaji.search.fragments` from plain data; their reference templates are
    ``search/partials/results_facets.html``, ``results_sort.html``, ``results_pager.html``
    (ADR 0056)."""
    return results_controls_html(params, result)
