"""Reports, appeals, reviewer decisions, the queue and the log (services and selectors)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yaji.accounts.models import Role
from yaji.core import clock
from yaji.core.errors import PermissionDenied
from yaji.core.models import OutboxEvent
from yaji.moderation import selectors, services
from yaji.moderation.errors import (
    AlreadyAppealed,
    AlreadyReported,
    CannotReportOwn,
    InvalidDecision,
    ModerationItemNotFound,
    NotBlocked,
    NotPendingReview,
    ReasonRequired,
)
from yaji.moderation.models import Appeal, AppendOnly, LogEntry, ModerationItem
from yaji.moderation.tests.factories import (
    UserFactory,
    blocked_item,
    held_item,
    reviewer_user,
    screened,
)

pytestmark = pytest.mark.django_db


def decided_events() -> list[dict]:
    return list(
        OutboxEvent.objects.filter(topic="moderation.decided")
        .order_by("created_at", "id")
        .values_list("payload", flat=True)
    )


# --- reports ----------------------------------------------------------------------------------


def report(item: ModerationItem, reporter=None, reason: str = "广告"):  # type: ignore[no-untyped-def]
    return services.moderation_report(
        reporter=reporter or UserFactory(),
        kind=item.kind,
        object_id=item.object_id,
        reason=reason,
    )


def test_reports_hold_the_item_at_the_threshold(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MODERATION_REPORT_HOLD_THRESHOLD = 3
    item = screened("一幅很美的苏绣")
    report(item)
    report(item)
    item.refresh_from_db()
    assert (item.status, item.report_count, item.pending_review) == ("visible", 2, False)
    assert decided_events() == []

    report(item)
    item.refresh_from_db()
    assert (item.status, item.pending_review, item.queue_reason) == ("held", True, "reports")
    assert item.sla_due_at is not None
    assert decided_events() == [{"kind": item.kind, "object_id": item.object_id, "status": "held"}]
    assert item.log.get().action == "report_hold"

    report(item)  # a fourth report changes nothing more
    item.refresh_from_db()
    assert item.report_count == 4 and len(decided_events()) == 1


def test_report_threshold_is_configurable(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MODERATION_REPORT_HOLD_THRESHOLD = 1
    item = screened("宋代风格")
    report(item)
    item.refresh_from_db()
    assert item.status == "held"


def test_report_once_per_person_and_not_own_content() -> None:
    author = UserFactory()
    item = screened("宋代风格", author=author)
    reporter = UserFactory()
    report(item, reporter)
    with pytest.raises(AlreadyReported):
        report(item, reporter)
    with pytest.raises(CannotReportOwn):
        report(item, author)
    item.refresh_from_db()
    assert item.report_count == 1


def test_report_unknown_content_and_bad_input() -> None:
    with pytest.raises(ModerationItemNotFound):
        services.moderation_report(
            reporter=UserFactory(), kind="community.post", object_id=999_999, reason="x"
        )
    item = screened("宋代风格")
    with pytest.raises(ReasonRequired):
        report(item, reason="   ")
    with pytest.raises(ReasonRequired):
        report(item, reason="长" * 501)


# --- decisions --------------------------------------------------------------------------------


def test_reviewer_approves_a_held_item_and_the_outbox_says_so() -> None:
    reviewer = reviewer_user()
    item = held_item()
    decided = services.moderation_decide(reviewer=reviewer, item_id=item.pk, decision="approve")
    assert (decided.status, decided.pending_review, decided.decided_by) == (
        "visible",
        False,
        reviewer,
    )
    assert decided_events() == [
        {"kind": item.kind, "object_id": item.object_id, "status": "visible"}
    ]
    entry = LogEntry.objects.filter(item=item).order_by("-id").first()
    assert (entry.action, entry.actor, entry.from_status, entry.to_status) == (
        "approve",
        reviewer,
        "held",
        "visible",
    )


def test_block_needs_a_reason_and_is_logged() -> None:
    reviewer = reviewer_user(role=Role.OPERATOR)
    item = held_item()
    with pytest.raises(ReasonRequired):
        services.moderation_decide(reviewer=reviewer, item_id=item.pk, decision="block")
    services.moderation_decide(
        reviewer=reviewer, item_id=item.pk, decision="block", reason="赌博引流"
    )
    item.refresh_from_db()
    assert item.status == "blocked"
    assert item.log.filter(action="block", reason="赌博引流", actor=reviewer).exists()
    assert decided_events()[-1]["status"] == "blocked"


def test_an_item_is_decided_once() -> None:
    reviewer = reviewer_user()
    item = held_item()
    services.moderation_decide(reviewer=reviewer, item_id=item.pk, decision="approve")
    with pytest.raises(NotPendingReview):
        services.moderation_decide(reviewer=reviewer, item_id=item.pk, decision="block", reason="x")
    assert len(decided_events()) == 1


def test_only_reviewers_and_operators_decide() -> None:
    item = held_item()
    for user in (UserFactory(), reviewer_user(role=Role.FINANCE), item.author):
        with pytest.raises(PermissionDenied):
            services.moderation_decide(reviewer=user, item_id=item.pk, decision="approve")
    with pytest.raises(InvalidDecision):
        services.moderation_decide(reviewer=reviewer_user(), item_id=item.pk, decision="maybe")
    with pytest.raises(ModerationItemNotFound):
        services.moderation_decide(reviewer=reviewer_user(), item_id=10**9, decision="approve")
    item.refresh_from_db()
    assert item.status == "held"


# --- appeals ----------------------------------------------------------------------------------


def test_author_appeals_a_blocked_item_once_and_it_goes_to_the_queue() -> None:
    author = UserFactory()
    item = blocked_item(author=author)
    reviewer = reviewer_user()
    assert selectors.moderation_queue(reviewer=reviewer).total == 0

    appeal = services.moderation_appeal(author=author, item_id=item.pk, reason="这是正品，有证书")
    assert appeal.state == "pending"
    page = selectors.moderation_queue(reviewer=reviewer)
    assert [e.item.pk for e in page.entries] == [item.pk]
    assert page.entries[0].item.queue_reason == "appeal"

    with pytest.raises(AlreadyAppealed):
        services.moderation_appeal(author=author, item_id=item.pk, reason="再申诉一次")

    services.moderation_decide(reviewer=reviewer, item_id=item.pk, decision="approve")
    appeal.refresh_from_db()
    item.refresh_from_db()
    assert (appeal.state, item.status) == ("granted", "visible")
    with pytest.raises(AlreadyAppealed):  # once, ever — even after the decision
        services.moderation_appeal(author=author, item_id=item.pk, reason="again")


def test_rejected_appeal_keeps_the_block() -> None:
    author = UserFactory()
    item = blocked_item(author=author)
    services.moderation_appeal(author=author, item_id=item.pk, reason="误判")
    services.moderation_decide(
        reviewer=reviewer_user(), item_id=item.pk, decision="block", reason="确为高仿"
    )
    item.refresh_from_db()
    assert item.status == "blocked" and not item.pending_review
    assert Appeal.objects.get(item=item).state == "rejected"


def test_appeal_rules() -> None:
    author = UserFactory()
    blocked = blocked_item(author=author)
    with pytest.raises(ModerationItemNotFound):  # someone else's item does not exist for you
        services.moderation_appeal(author=UserFactory(), item_id=blocked.pk, reason="x")
    with pytest.raises(NotBlocked):
        services.moderation_appeal(author=author, item_id=held_item(author=author).pk, reason="x")
    with pytest.raises(ReasonRequired):
        services.moderation_appeal(author=author, item_id=blocked.pk, reason="")
    assert not Appeal.objects.exists()


# --- queue ------------------------------------------------------------------------------------


def test_queue_is_ordered_by_sla_deadline_with_time_left(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    items = []
    for hours_ago in (10, 80, 30):  # created at different times
        monkeypatch.setattr(clock, "now", lambda h=hours_ago: start - timedelta(hours=h))
        items.append(held_item())
    monkeypatch.setattr(clock, "now", lambda: start)
    screened("宋代风格")  # visible: never in the queue
    blocked_item()  # blocked without appeal: not in the queue

    page = selectors.moderation_queue(reviewer=reviewer_user())
    assert [e.item.pk for e in page.entries] == [items[1].pk, items[2].pk, items[0].pk]
    overdue, soon, fresh = page.entries
    assert overdue.overdue and overdue.hours_overdue == 8
    assert not soon.overdue and soon.hours_left == 42
    assert fresh.hours_left == 62
    assert page.total == 3 and page.next_cursor is None


def test_queue_cursor_pages_through_everything() -> None:
    items = [held_item() for _ in range(5)]
    reviewer = reviewer_user()
    seen = []
    cursor = None
    while True:
        page = selectors.moderation_queue(reviewer=reviewer, cursor=cursor, limit=2)
        seen.extend(e.item.pk for e in page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [item.pk for item in items]


def test_queue_query_count_does_not_grow(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    reviewer = reviewer_user()
    for _ in range(3):
        held_item()
    selectors.moderation_queue(reviewer=reviewer)
    with django_assert_max_num_queries(3):  # role check, count, page
        selectors.moderation_queue(reviewer=reviewer)
    for _ in range(10):
        held_item()
    with django_assert_max_num_queries(3):
        page = selectors.moderation_queue(reviewer=reviewer)
        for entry in page.entries:
            _ = entry.item.author, getattr(entry.item, "appeal", None)


def test_queue_is_for_reviewers_only() -> None:
    for user in (UserFactory(), reviewer_user(role=Role.CREATOR)):
        with pytest.raises(PermissionDenied):
            selectors.moderation_queue(reviewer=user)
    assert selectors.moderation_queue(reviewer=reviewer_user(role=Role.OPERATOR)).total == 0


# --- log --------------------------------------------------------------------------------------


def test_log_is_append_only() -> None:
    item = held_item()
    entry = item.log.get()
    entry.reason = "rewritten"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()


def test_statuses_for_content_apps() -> None:
    held = held_item()
    assert selectors.moderation_status(kind=held.kind, object_id=held.object_id) == "held"
    assert selectors.moderation_status(kind="community.post", object_id=1) == "visible"
    assert selectors.moderation_statuses(kind=held.kind, object_ids=[held.object_id, 1]) == {
        held.object_id: "held",
        1: "visible",
    }
