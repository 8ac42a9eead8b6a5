"""Model → response dict conversions shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from yaji.core import clock
from yaji.moderation.models import Appeal, LogEntry, ModerationItem


def _appeal(item: ModerationItem) -> Appeal | None:
    try:
        return item.appeal
    except Appeal.DoesNotExist:
        return None


def item_author_dict(item: ModerationItem) -> dict[str, Any]:
    appeal = _appeal(item)
    return {
        "id": item.pk,
        "kind": item.kind,
        "object_id": item.object_id,
        "status": item.status,
        "reasons": list(item.reasons),
        "appeal_state": appeal.state if appeal else None,
        "can_appeal": item.status == "blocked" and appeal is None,
        "created_at": item.created_at,
    }


def item_review_dict(item: ModerationItem) -> dict[str, Any]:
    appeal = _appeal(item)
    seconds_left = None
    if item.pending_review and item.sla_due_at is not None:
        seconds_left = int((item.sla_due_at - clock.now()).total_seconds())
    return {
        "id": item.pk,
        "kind": item.kind,
        "object_id": item.object_id,
        "status": item.status,
        "reasons": list(item.reasons),
        "matches": list(item.matches),
        "excerpt": item.excerpt,
        "author_id": item.author_id,
        "queue_reason": item.queue_reason,
        "report_count": item.report_count,
        "pending_review": item.pending_review,
        "sla_due_at": item.sla_due_at,
        "seconds_left": seconds_left,
        "overdue": seconds_left is not None and seconds_left <= 0,
        "appeal_reason": appeal.reason if appeal else None,
        "decided_at": item.decided_at,
        "created_at": item.created_at,
    }


def log_entry_dict(entry: LogEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "reason": entry.reason,
        "created_at": entry.created_at,
    }
