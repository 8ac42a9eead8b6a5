"""Template helpers of the catalog pages: presentation only."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from yaji.catalog.permissions import is_shop_reviewer as _is_shop_reviewer
from yaji.catalog.presenters import product_image_url
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
