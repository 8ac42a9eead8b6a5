"""Human labels for the stable reason codes in ``ScreenResult.reasons`` (codes stay English)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from yaji.moderation.models import Category


def reason_label(code: str) -> str:
    if code.startswith("text."):
        category = code.removeprefix("text.")
        if category in Category.values:
            return _("敏感词：%(category)s") % {"category": Category(category).label}
    labels = {
        "image.sha256": _("图片黑名单（完全相同）"),
        "image.dhash": _("图片黑名单（相似图片）"),
        "image.unreadable": _("无法识别的图片"),
    }
    return str(labels.get(code, code))
