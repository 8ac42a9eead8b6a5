"""The classifier seam: a model scoring text and images, plugged in by setting.

``MODERATION_CLASSIFIER`` names one of :data:`CLASSIFIERS`. The only one shipped is
``"noop"``, which **classifies nothing** and always answers "visible": Yaji has no trained
model yet, and pretending otherwise would be worse than saying so. The word lists and the
image hash blocklist do all the automatic screening today. A real classifier (an in-house
model, a cloud moderation API called outside any database transaction) implements
:class:`ContentClassifier` and is added to :data:`CLASSIFIERS` by its module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Verdict:
    status: str  # "visible" | "held" | "blocked"
    reasons: tuple[str, ...] = ()


VISIBLE = Verdict(status="visible")


class ContentClassifier(Protocol):
    name: str

    def classify_text(self, text: str) -> Verdict: ...

    def classify_image(self, data: bytes) -> Verdict: ...


class NoopClassifier:
    """Says "visible" to everything. Documented as doing nothing because it does nothing."""

    name = "noop"

    def classify_text(self, text: str) -> Verdict:
        return VISIBLE

    def classify_image(self, data: bytes) -> Verdict:
        return VISIBLE


CLASSIFIERS: dict[str, type[ContentClassifier]] = {"noop": NoopClassifier}


def classifier_register(name: str, cls: type[ContentClassifier]) -> None:
    CLASSIFIERS[name] = cls


def classifier_get() -> ContentClassifier:
    name = getattr(settings, "MODERATION_CLASSIFIER", "noop")
    try:
        return CLASSIFIERS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"MODERATION_CLASSIFIER={name!r} is not one of {sorted(CLASSIFIERS)}"
        ) from None
