"""The listing pre-check pipeline: checks a product must pass before a reviewer sees it.

A check is a function ``(product) -> str | None``: None passes, a string is the reason the
product is rejected (shown to the shop). Checks are registered explicitly, in order, with
:func:`precheck_register`; the first failure stops the pipeline. Today: prohibited words. The
copyright near-duplicate check plugs in later the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext as _

from yaji.catalog.models import ProhibitedWord

Check = Callable[["Product"], str | None]  # type: ignore[name-defined]  # noqa: F821

PRECHECKS: list[tuple[str, Check]] = []

# Used when the ``YAJI_PROHIBITED_WORDS`` setting is absent: counterfeits and protected wildlife.
DEFAULT_PROHIBITED_WORDS = ("高仿", "仿冒", "假货", "a货", "象牙", "犀牛角", "玳瑁", "穿山甲")


def precheck_register(name: str, check: Check) -> None:
    """Append ``check`` to the pipeline (a second registration under one name replaces it)."""
    for index, (existing, _check) in enumerate(PRECHECKS):
        if existing == name:
            PRECHECKS[index] = (name, check)
            return
    PRECHECKS.append((name, check))


def _normalise(text: str) -> str:
    # Full-width letters, compatibility forms and case folded away: ＡＢＣ and abc are one word.
    return unicodedata.normalize("NFKC", text).casefold()


def prohibited_words() -> list[str]:
    """The configured list (``YAJI_PROHIBITED_WORDS``) plus the active words from admin."""
    words = {
        _normalise(w)
        for w in getattr(settings, "YAJI_PROHIBITED_WORDS", DEFAULT_PROHIBITED_WORDS)
        if w.strip()
    }
    words |= {
        _normalise(w)
        for w in ProhibitedWord.objects.filter(active=True).values_list("word", flat=True)
    }
    return sorted((w.strip() for w in words if w.strip()), key=lambda w: (-len(w), w))


def prohibited_words_find(text: str, words: list[str]) -> list[str]:
    """The words found in ``text``: one regex alternation, longest words first."""
    if not words or not text:
        return []
    pattern = re.compile("|".join(re.escape(w) for w in words))
    return sorted(set(pattern.findall(_normalise(text))))


def prohibited_words_check(product) -> str | None:  # type: ignore[no-untyped-def]
    text = "\n".join(
        [
            product.title_zh,
            product.title_en,
            product.story_zh,
            product.story_en,
            product.designer_notes,
            *(tag.name for tag in product.tags.all()),
        ]
    )
    found = prohibited_words_find(text, prohibited_words())
    if found:
        return _("商品信息含有违禁词：%(words)s。请修改后重新提交。") % {"words": "、".join(found)}
    return None


def precheck_run(product) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
    """(check name, reason) of the first failing check, or None when all pass."""
    for name, check in PRECHECKS:
        reason = check(product)
        if reason:
            return name, reason
    return None


precheck_register("prohibited_words", prohibited_words_check)
