from __future__ import annotations

from django import template

from yaji.moderation.reasons import reason_label as _reason_label

register = template.Library()


@register.filter
def reason_labels(codes: list[str]) -> str:
    return "、".join(_reason_label(code) for code in codes or ())
