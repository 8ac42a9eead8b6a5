from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any]


class WorkIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)
    kind: str = Field(..., description="audio, image or design (video is not open yet)")
    description: str = Field("", max_length=10_000)
    tags: str = Field("", max_length=400, description="Comma-separated tags, at most 10")


class CreatorOut(Schema):
    id: int
    display_name: str


class WorkOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    tags: list[str]
    media_url: str
    media_format: str
    media_size: int
    duration_ms: int
    cover_url: str | None
    creator: CreatorOut
    published_at: datetime


class PlayOut(Schema):
    token: str = Field(..., description="Send it back with every heartbeat; shown only once")
    session_id: int
    duration_ms: int
    expires_at: datetime
    heartbeat_interval_ms: int


class HeartbeatIn(Schema):
    token: str = Field(..., min_length=1, max_length=200)
    position_ms: int = Field(..., ge=0, le=2**31 - 1)


class HeartbeatOut(Schema):
    listened_ms: int
    coverage_pct: float
    completed: bool
    max_position_ms: int
