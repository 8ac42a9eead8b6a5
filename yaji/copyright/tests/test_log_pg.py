"""Appends under real concurrency (PostgreSQL, real threads): gapless indexes, one tree."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.copyright import services
from yaji.copyright.audit import log_audit
from yaji.copyright.log_keys import log_origin, log_public_key
from yaji.copyright.models import Checkpoint, LogEntry, LogNode, Registration
from yaji.copyright.tests.factories import creator, design_work
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_concurrent_registrations_get_gapless_indexes_and_one_consistent_tree() -> None:
    authors = [creator() for _ in range(12)]
    works = [design_work(authors[i], seed=100 + i) for i in range(12)]
    outcomes = race(12, lambda i: services.work_register(user=authors[i], work_id=works[i].pk))
    assert outcomes == Counter({"ok": 12})
    assert sorted(LogEntry.objects.values_list("index", flat=True)) == list(range(12))
    assert LogNode.objects.count() == 12 - 2  # n minus the number of set bits of n (1100)
    checkpoints = race(4, lambda i: services.checkpoint_create())
    assert checkpoints == Counter({"ok": 4})
    assert Checkpoint.objects.count() == 1
    report = log_audit(public_key=log_public_key(), origin=log_origin())
    assert report.ok, report.problems


def test_the_same_content_registered_by_two_authors_at_once_is_logged_once() -> None:
    a, b = creator(), creator()
    works = [design_work(a, seed=7), design_work(b, seed=7)]
    people = [a, b]
    outcomes = race(2, lambda i: services.work_register(user=people[i], work_id=works[i].pk))
    assert outcomes == Counter({"ok": 1, "content_registered_by_other": 1})
    assert LogEntry.objects.count() == 1 == Registration.objects.count()
