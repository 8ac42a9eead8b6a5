"""The compiled rule set (text automaton + image hashes), cached per process.

Building the automaton costs milliseconds per thousand words, so it is built once and reused
until the rules change. The version is a fingerprint of the rule tables (row count, newest
``updated_at``) kept in the Django cache under :data:`VERSION_KEY`:

* an edit in this process (admin, service, data migration) drops the local copy and the cache
  key at once, and again when the transaction commits;
* other processes see the new fingerprint as soon as the shared cache (Redis) does; with the
  per-process local-memory cache they recompute it from the database after
  :data:`VERSION_TTL_S` seconds at the latest.

Writes that bypass ``Model.save()`` (``QuerySet.update``, raw SQL) send no signal and must set
``updated_at`` themselves so the fingerprint moves.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save

from yaji.moderation.matcher import TextMatcher
from yaji.moderation.models import ImageHashRule, WordRule

VERSION_KEY = "moderation:rules:version"
VERSION_TTL_S = 30


@dataclass(frozen=True)
class RuleSet:
    version: str
    matcher: TextMatcher
    sha256: dict[str, str]  # hex → action
    dhash: tuple[tuple[int, str], ...]  # (64-bit value, action)


_lock = threading.Lock()
_current: RuleSet | None = None


def _fingerprint() -> str:
    words = WordRule.objects.aggregate(n=Count("id"), at=Max("updated_at"), top=Max("id"))
    images = ImageHashRule.objects.aggregate(n=Count("id"), at=Max("updated_at"), top=Max("id"))
    return "w{n}:{top}:{at}|i".format(**words) + "{n}:{top}:{at}".format(**images)


def rules_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = _fingerprint()
        cache.set(VERSION_KEY, version, timeout=VERSION_TTL_S)
    return str(version)


def _build(version: str) -> RuleSet:
    words = WordRule.objects.filter(is_active=True).values_list("word", "category", "action")
    sha: dict[str, str] = {}
    dhash: list[tuple[int, str]] = []
    for algorithm, value, action in ImageHashRule.objects.filter(is_active=True).values_list(
        "algorithm", "value", "action"
    ):
        if algorithm == ImageHashRule.Algorithm.SHA256:
            key = value.lower()
            if sha.get(key) != "block":
                sha[key] = action
        else:
            dhash.append((int(value, 16), action))
    return RuleSet(version=version, matcher=TextMatcher(words), sha256=sha, dhash=tuple(dhash))


def rules_current() -> RuleSet:
    """The rule set for the current version, rebuilt only when the version moved."""
    global _current
    version = rules_version()
    current = _current
    if current is not None and current.version == version:
        return current
    with _lock:
        if _current is None or _current.version != version:
            _current = _build(version)
        return _current


def rules_invalidate() -> None:
    global _current
    _current = None
    cache.delete(VERSION_KEY)


def _on_rule_change(**kwargs: Any) -> None:
    rules_invalidate()
    # Again after commit: a process that rebuilt meanwhile saw the old rows.
    transaction.on_commit(rules_invalidate)


def connect_invalidation() -> None:
    for model in (WordRule, ImageHashRule):
        post_save.connect(
            _on_rule_change, sender=model, dispatch_uid=f"moderation.{model.__name__}.save"
        )
        post_delete.connect(
            _on_rule_change, sender=model, dispatch_uid=f"moderation.{model.__name__}.delete"
        )
