"""Moderation reads: the review queue (oldest deadline first), items, the log."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from yaji.accounts.models import Role
from yaji.core import clock
from yaji.core.errors import PermissionDenied, ValidationFailed
from yaji.moderation.errors import ModerationItemNotFound
from yaji.moderation.models import LogEntry, ModerationItem
from yaji.moderation.permissions import is_moderation_reviewer

MAX_PAGE = 100


def reviewer_require(user: Any) -> None:
    if not is_moderation_reviewer(user):
        raise PermissionDenied(extra={"required_role": Role.REVIEWER})


@dataclass(frozen=True)
class QueueEntry:
    item: ModerationItem
    time_left: timedelta  # negative once the SLA has passed

    @property
    def overdue(self) -> bool:
        return self.time_left <= timedelta(0)

    @property
    def hours_left(self) -> int:
        """Whole hours left before the deadline (0 once it passed)."""
        return max(0, int(self.time_left.total_seconds() // 3600))

    @property
    def hours_overdue(self) -> int:
        """Whole hours past the deadline (0 before it)."""
        return max(0, int(-self.time_left.total_seconds() // 3600))


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntry]
    next_cursor: str | None
    total: int


def _cursor_encode(item: ModerationItem) -> str:
    assert item.sla_due_at is not None
    raw = f"{item.sla_due_at.isoformat()}|{item.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, pk = raw.split("|")
        parsed = datetime.fromisoformat(due)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(code="invalid_cursor", extra={"cursor": cursor[:80]}) from exc


def _queue_qs() -> QuerySet[ModerationItem]:
    return ModerationItem.objects.filter(pending_review=True)


def moderation_queue(
    *, reviewer: Any, cursor: str | None = None, limit: int = 50, kind: str | None = None
) -> QueuePage:
    """Items waiting for a person, the nearest SLA deadline (= the oldest) first.

    Keyset-paginated on (sla_due_at, id), which the partial index covers.
    """
    reviewer_require(reviewer)
    limit = max(1, min(limit, MAX_PAGE))
    qs = _queue_qs()
    if kind:
        qs = qs.filter(kind=kind)
    total = qs.count()
    if cursor:
        due, pk = _cursor_decode(cursor)
        qs = qs.filter(Q(sla_due_at__gt=due) | Q(sla_due_at=due, pk__gt=pk))
    rows = list(qs.select_related("author", "appeal").order_by("sla_due_at", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    now = clock.now()
    entries = [QueueEntry(item=row, time_left=row.sla_due_at - now) for row in rows]  # type: ignore[operator]  # queued rows always have sla_due_at (check constraint)
    return QueuePage(
        entries=entries, next_cursor=_cursor_encode(rows[-1]) if more else None, total=total
    )


def moderation_item_for_review(*, reviewer: Any, item_id: int) -> ModerationItem:
    reviewer_require(reviewer)
    item = (
        ModerationItem.objects.select_related("author", "decided_by", "appeal")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise ModerationItemNotFound()
    return item


def moderation_item_log(*, reviewer: Any, item_id: int) -> list[LogEntry]:
    reviewer_require(reviewer)
    return list(
        LogEntry.objects.filter(item_id=item_id)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def moderation_items_mine(*, author: Any, limit: int = 50) -> list[ModerationItem]:
    """The author's own held or blocked items (what they may appeal), newest first."""
    return list(
        ModerationItem.objects.filter(author=author)
        .exclude(status="visible")
        .select_related("appeal")
        .order_by("-created_at", "-id")[: max(1, min(limit, MAX_PAGE))]
    )


def moderation_status(*, kind: str, object_id: int) -> str:
    """The current status of one object ("visible" when it was never screened)."""
    status = (
        ModerationItem.objects.filter(kind=kind, object_id=object_id)
        .values_list("status", flat=True)
        .first()
    )
    return status or "visible"


def moderation_statuses(*, kind: str, object_ids: list[int]) -> dict[int, str]:
    """Statuses for many objects in one query; unscreened ones are "visible"."""
    found = dict(
        ModerationItem.objects.filter(kind=kind, object_id__in=object_ids).values_list(
            "object_id", "status"
        )
    )
    return {object_id: found.get(object_id, "visible") for object_id in object_ids}
