"""Template helpers of the catalog pages: presentation only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.translation import get_language

from yaji.catalog.permissions import is_shop_reviewer as _is_shop_reviewer
from yaji.catalog.presenters import product_image_url
from yaji.catalog.selectors import categories_top
from yaji.core.money import Money, format_money

register = template.Library()


@register.filter
def is_shop_reviewer(user: Any) -> bool:
    return _is_shop_reviewer(user)


@register.filter
def localized(obj: Any, field: str) -> str:
    """``obj.<field>_en`` on English pages when it is filled in, else ``obj.<field>_zh``/``<field>``."""
    zh = getattr(obj, f"{field}_zh", None)
    if zh is None:
        zh = getattr(obj, field, "")
    if (get_language() or "").startswith("en"):
        return getattr(obj, f"{field}_en", "") or zh
    return zh


@register.filter
def monogram(name: str) -> str:
    """The first character of a name, for a seal-like placeholder when there is no logo."""
    return (name or "雅").strip()[:1]


@register.filter
def fen(amount: int | None) -> str:
    """An amount in fen as renminbi in the page's language (``¥168.00``)."""
    if amount is None:
        return ""
    return format_money(Money(int(amount), "CNY"))


@register.filter
def product_image(image: Any, size: str = "400") -> str:
    return product_image_url(image, str(size))


_BROWSE_KEYS = ("price", "era", "craft", "region", "shop_type", "sort")


def _browse_query(slug: str, params: Any, changes: dict[str, Any]) -> str:
    values = {key: getattr(params, key, "") for key in _BROWSE_KEYS}
    values.update(changes)
    if values.get("sort") == "relevance":
        values["sort"] = ""
    page = changes.get("page")
    if page and page != 1:
        values["page"] = page
    if getattr(params, "page_size", 24) != 24:
        values["page_size"] = params.page_size
    query = urlencode({k: v for k, v in values.items() if v})
    path = reverse("catalog:category_detail", kwargs={"slug": slug})
    return path + (f"?{query}" if query else "")


@register.simple_tag
def browse_with(slug: str, params: Any, **changes: Any) -> str:
    """A category page's URL keeping the current facets and sort, with some changed (the page
    is reset to the first unless given)."""
    return _browse_query(slug, params, changes)


@register.simple_tag
def browse_toggle(slug: str, params: Any, facet: str, value: str) -> str:
    """The category page with ``facet`` set to ``value``, or cleared when it already is."""
    return _browse_query(slug, params, {facet: "" if getattr(params, facet) == value else value})


@register.inclusion_tag("catalog/partials/category_strip.html")
def category_strip() -> dict[str, Any]:
    """The home page's row of top-level categories, each a link to its browse page."""
    return {"categories": categories_top()}
