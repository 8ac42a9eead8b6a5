"""Template helpers of the catalog pages: presentation only."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from yaji.catalog.permissions import is_shop_reviewer as _is_shop_reviewer

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
