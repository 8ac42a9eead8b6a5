"""The listing pre-check pipeline: checks a product must pass before a reviewer sees it.

Contract for a check (what another app plugs in)
------------------------------------------------
A check is a function ``(product) -> None | str | PrecheckHold``, registered explicitly, in
order, with :func:`precheck_register` (``name`` is a short stable identifier, at most 40
characters, e.g. ``"copyright"``; a second registration under one name replaces the first).
It runs inside :func:`yaji.catalog.services.product_submit`'s transaction, with the product
row locked and its status ``submitted``; it must not write to the product itself.

- ``None``: the check passes.
- a ``str``: the product is **rejected** with that reason (the shop sees it, ≤ 1000
  characters; it may fix the product and submit again). The first rejection stops the pipeline.
- ``PrecheckHold(reason, check=name)``: the product goes **into review but held** by that check
  (``Product.hold_check`` = ``check`` or, when empty, the registered name; ``hold_reason`` =
  ``reason``). Later checks still run, so a later rejection wins over a hold; if several checks
  hold, the first one holds (one hold at a time). While held, a reviewer cannot approve the
  product (``product_held``, 409) but may still reject it. The held product is announced with
  the outbox event ``catalog.product_held`` ``{"product_id", "shop_id", "check", "reason"}``,
  so the owning app may finish its work asynchronously; it then calls exactly one of

  - ``services.product_hold_release(product_id=..., check=name)``: the hold is lifted and the
    product waits for a reviewer like any other;
  - ``services.product_hold_reject(product_id=..., check=name, reason=...)``: the product is
    rejected with that reason.

  Both raise ``product_not_held`` (409) when the product is not (or no longer) held by that
  check — already released, rejected by a reviewer, resubmitted — so an at-least-once consumer
  can treat that code as "already done".

An exception raised by a check propagates: the submission fails as a whole and nothing changes.
Today's checks: prohibited words (rejects). The copyright near-duplicate check plugs in the same
way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from yaji.catalog.models import ProhibitedWord

CHECK_NAME_MAX = 40
REASON_MAX = 1000


@dataclass(frozen=True)
class PrecheckHold:
    """A check's answer "not yet": the product waits in review until the check's app decides."""

    reason: str
    check: str = ""


Check = Callable[["Product"], "str | PrecheckHold | None"]  # type: ignore[name-defined]  # noqa: F821

PRECHECKS: list[tuple[str, Check]] = []

# Used when the ``YAJI_PROHIBITED_WORDS`` setting is absent: counterfeits and protected wildlife.
DEFAULT_PROHIBITED_WORDS = ("高仿", "仿冒", "假货", "a货", "象牙", "犀牛角", "玳瑁", "穿山甲")


def precheck_register(name: str, check: Check) -> None:
    """Append ``check`` to the pipeline (a second registration under one name replaces it)."""
    if not name or len(name) > CHECK_NAME_MAX:
        raise ValueError(f"a pre-check name must be 1–{CHECK_NAME_MAX} characters")
    for index, (existing, _check) in enumerate(PRECHECKS):
        if existing == name:
            PRECHECKS[index] = (name, check)
            return
    PRECHECKS.append((name, check))


def precheck_unregister(name: str) -> None:
    """Remove a check (tests; an app switching its check off)."""
    PRECHECKS[:] = [(existing, check) for existing, check in PRECHECKS if existing != name]


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


@dataclass(frozen=True)
class PrecheckOutcome:
    """What the pipeline decided: ``verdict`` is ``"pass"``, ``"reject"`` or ``"hold"``."""

    verdict: str
    check: str = ""
    reason: str = ""


PASS = PrecheckOutcome("pass")


def precheck_run(product) -> PrecheckOutcome:  # type: ignore[no-untyped-def]
    """Run every check in order: the first rejection decides; else the first hold; else pass."""
    hold: PrecheckOutcome | None = None
    for name, check in PRECHECKS:
        result = check(product)
        if result is None or result == "":
            continue
        if isinstance(result, PrecheckHold):
            if hold is None:
                hold = PrecheckOutcome(
                    "hold",
                    check=(result.check or name)[:CHECK_NAME_MAX],
                    reason=(str(result.reason) or name)[:REASON_MAX],
                )
            continue
        if isinstance(result, str):
            return PrecheckOutcome("reject", check=name, reason=result[:REASON_MAX])
        raise TypeError(f"pre-check {name!r} returned {type(result).__name__}")
    return hold or PASS


precheck_register("prohibited_words", prohibited_words_check)
