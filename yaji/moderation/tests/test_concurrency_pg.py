"""Races only real concurrency shows (PostgreSQL, real threads, real transactions)."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.core.models import OutboxEvent
from yaji.moderation import services
from yaji.moderation.models import LogEntry, ModerationItem, Report
from yaji.moderation.tests.factories import UserFactory, held_item, reviewer_user, screened
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_eight_reviewers_deciding_one_item_make_exactly_one_decision() -> None:
    item = held_item()
    reviewers = [reviewer_user() for _ in range(8)]
    outcomes = race(
        8,
        lambda i: services.moderation_decide(
            reviewer=reviewers[i],
            item_id=item.pk,
            decision="approve" if i % 2 else "block",
            reason="并发测试",
        ),
    )
    assert outcomes == Counter({"ok": 1, "moderation_not_pending": 7}), outcomes
    assert LogEntry.objects.filter(item=item, action__in=["approve", "block"]).count() == 1
    events = OutboxEvent.objects.filter(topic="moderation.decided")
    assert events.count() == 1
    item.refresh_from_db()
    assert events.get().payload["status"] == item.status


def test_simultaneous_reports_count_every_one_and_hold_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MODERATION_REPORT_HOLD_THRESHOLD = 5
    item = screened("宋代风格")
    reporters = [UserFactory() for _ in range(12)]
    outcomes = race(
        12,
        lambda i: services.moderation_report(
            reporter=reporters[i], kind=item.kind, object_id=item.object_id, reason="广告"
        ),
    )
    assert outcomes == Counter({"ok": 12}), outcomes
    item = ModerationItem.objects.get(pk=item.pk)
    assert item.report_count == Report.objects.filter(item=item).count() == 12
    assert item.status == "held"
    assert LogEntry.objects.filter(item=item, action="report_hold").count() == 1
    assert OutboxEvent.objects.filter(topic="moderation.decided").count() == 1


def test_one_author_appealing_twice_at_once_files_one_appeal() -> None:
    author = UserFactory()
    item = screened("出售高仿故宫文创", author=author)
    outcomes = race(
        6, lambda i: services.moderation_appeal(author=author, item_id=item.pk, reason=f"第{i}次")
    )
    assert outcomes == Counter({"ok": 1, "moderation_already_appealed": 5}), outcomes
