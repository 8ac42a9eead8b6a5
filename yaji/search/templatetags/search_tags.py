"""Template helpers of the search pages and the home page's zones: presentation only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from yaji.search.selectors import FACETS, SearchParams, search_trending, zones_home

register = template.Library()

_KEYS = ("q", *FACETS, "sort")


def _query(params: SearchParams, changes: dict[str, Any]) -> str:
    values = {key: getattr(params, key) for key in _KEYS}
    values.update(changes)
    if values.get("sort") == "relevance":
        values["sort"] = ""
    page = changes.get("page")
    if page and page != 1:
        values["page"] = page
    query = urlencode({k: v for k, v in values.items() if v})
    return reverse("search:results") + (f"?{query}" if query else "")


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
    return reverse("search:results") + (f"?{query}" if query else "")


@register.inclusion_tag("search/partials/home_zones.html", takes_context=True)
def search_home_zones(context: Any, per_zone: int = 6) -> dict[str, Any]:
    """The home page's themed zones (saved searches) as product rows, and what is trending."""
    return {
        "request": context.get("request"),
        "zones": zones_home(per_zone=per_zone),
        "trending": search_trending(limit=8),
    }
