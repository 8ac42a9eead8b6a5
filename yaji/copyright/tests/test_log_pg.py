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


def test_leaves_sequenced_and_integrated_at_once_stay_gapless_and_each_appears_once() -> None:
    from yaji.copyright.models import PendingLeaf

    leaves = [f'{{"i":{i},"type":"probe"}}'.encode() for i in range(120)]

    def work(i: int) -> None:
        # 8 writers sequence 15 leaves each, integrating after every one (group commit)
        for leaf in leaves[i::8]:
            services.log_enqueue(leaf=leaf)
            services.log_integrate(limit=7)

    assert race(8, work) == Counter({"ok": 8})
    services.log_integrate_all()
    assert not PendingLeaf.objects.exists()
    stored = list(LogEntry.objects.order_by("index").values_list("index", "leaf"))
    assert [i for i, _leaf in stored] == list(range(120))
    assert sorted(leaf for _i, leaf in stored) == sorted(x.decode() for x in leaves)
    from yaji.copyright import merkle, selectors

    edge = merkle.CompactRange()
    for _i, leaf in stored:
        edge.append(merkle.leaf_hash(leaf.encode()))
    assert selectors.tree_root(size=120) == edge.root()


def test_two_near_identical_images_by_two_authors_at_once_cannot_both_be_logged() -> None:
    from yaji.copyright.tests.factories import design_work as work_of

    a, b = creator(), creator()
    works = [work_of(a, seed=21), work_of(b, seed=21, variant="mirrored")]
    people = [a, b]
    assert race(2, lambda i: services.work_register(user=people[i], work_id=works[i].pk)) == (
        Counter({"ok": 2})
    )
    statuses = sorted(Registration.objects.values_list("status", flat=True))
    assert statuses == ["pending_review", "registered"]
    assert LogEntry.objects.count() == 1
