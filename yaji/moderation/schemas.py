"""Request and response bodies of the moderation API (shape only; rules live in services)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from yaji.accounts.schemas import ErrorOut

__all__ = [
    "AppealIn",
    "AppealOut",
    "DecisionIn",
    "ErrorOut",
    "ItemOut",
    "ItemReviewOut",
    "LogEntryOut",
    "QueuePageOut",
    "ReportIn",
    "ReportOut",
]

NO_NUL = r"^[^\x00]*$"
StatusName = Literal["visible", "held", "blocked"]


class ReportIn(Schema):
    kind: str = Field(
        ...,
        min_length=3,
        max_length=50,
        pattern=r"^[a-z][a-z0-9_]{0,23}\.[a-z][a-z0-9_]{0,24}$",
        examples=["community.post", "community.comment", "redpackets.blessing"],
    )
    object_id: int = Field(..., ge=1, le=2**63 - 1)
    reason: str = Field(..., min_length=1, max_length=500, pattern=NO_NUL)


class ReportOut(Schema):
    id: int
    kind: str
    object_id: int
    created_at: datetime


class AppealIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500, pattern=NO_NUL)


class AppealOut(Schema):
    id: int
    item_id: int
    state: Literal["pending", "granted", "rejected"]
    created_at: datetime


class DecisionIn(Schema):
    decision: Literal["approve", "block"]
    reason: str = Field("", max_length=500, pattern=NO_NUL)


class ItemOut(Schema):
    """What an author sees of their own item: no matched words, no reporters."""

    id: int
    kind: str
    object_id: int
    status: StatusName
    reasons: list[str]
    appeal_state: str | None
    can_appeal: bool
    created_at: datetime


class ItemReviewOut(Schema):
    id: int
    kind: str
    object_id: int
    status: StatusName
    reasons: list[str]
    matches: list[str]
    excerpt: str
    author_id: int | None
    queue_reason: str
    report_count: int
    pending_review: bool
    sla_due_at: datetime | None
    seconds_left: int | None
    overdue: bool
    appeal_reason: str | None
    decided_at: datetime | None
    created_at: datetime


class QueuePageOut(Schema):
    items: list[ItemReviewOut]
    next_cursor: str | None
    total: int


class LogEntryOut(Schema):
    id: int
    action: str
    actor_id: int | None
    from_status: StatusName
    to_status: StatusName
    reason: str
    created_at: datetime


class ItemDetailOut(ItemReviewOut):
    log: list[LogEntryOut]
