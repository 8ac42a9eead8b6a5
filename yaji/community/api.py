"""The works API: publish, read, and verified listening (play tokens + heartbeats)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Form, Path, Router, Status, UploadedFile
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.community import selectors, services
from yaji.community.models import Work
from yaji.community.schemas import (
    ErrorOut,
    HeartbeatIn,
    HeartbeatOut,
    PlayOut,
    WorkIn,
    WorkOut,
)
from yaji.core.idempotency import idempotent

router = Router(tags=["works"], auth=api_auth)

MAX_ID = 2**63 - 1
ERRORS = {codes_4xx: ErrorOut}
HEARTBEAT_INTERVAL_MS = 5_000


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]  # set by api_auth


def work_out(work: Work) -> dict:
    return {
        "id": work.pk,
        "kind": work.kind,
        "title": work.title,
        "description": work.description,
        "tags": list(work.tags or []),
        "media_url": work.media.url,
        "media_format": work.media_format,
        "media_size": work.media_size,
        "duration_ms": work.duration_ms,
        "cover_url": work.cover.url if work.cover else None,
        "creator": {"id": work.creator.pk, "display_name": work.creator.display_name or ""},
        "published_at": work.published_at,
    }


@router.post(
    "/works",
    response={201: WorkOut, **ERRORS},
    summary="Publish a work (creators; multipart; format and duration are read from the file)",
)
@idempotent
def work_create(
    request: HttpRequest,
    payload: Form[WorkIn],
    media: File[UploadedFile],
    cover: File[UploadedFile | None] = None,
):
    work = services.work_publish(
        creator=_user(request),
        title=payload.title,
        kind=payload.kind,
        description=payload.description,
        tags=payload.tags,
        media=media,
        cover=cover,
    )
    return Status(201, work_out(work))


@router.get("/works/{work_id}", auth=None, response={200: WorkOut, **ERRORS}, summary="A work")
def work_detail(request: HttpRequest, work_id: int = Path(..., ge=1, le=MAX_ID)):
    return work_out(selectors.work_get(work_id=work_id))


@router.post(
    "/works/{work_id}/plays",
    response={201: PlayOut, **ERRORS},
    summary="Start a verified play: returns a play token for heartbeats",
)
def play_create(request: HttpRequest, work_id: int = Path(..., ge=1, le=MAX_ID)):
    work = selectors.work_get(work_id=work_id)
    session, token = services.play_start(user=_user(request), work=work)
    return Status(
        201,
        {
            "token": token,
            "session_id": session.pk,
            "duration_ms": work.duration_ms,
            "expires_at": session.expires_at,
            "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        },
    )


@router.post(
    "/plays/heartbeat",
    response={200: HeartbeatOut, **ERRORS},
    summary="Report the player's position; returns the verified progress",
)
def play_heartbeat(request: HttpRequest, payload: HeartbeatIn):
    progress = services.play_heartbeat(
        user=_user(request), token=payload.token, position_ms=payload.position_ms
    )
    return {
        "listened_ms": progress.listened_ms,
        "coverage_pct": progress.coverage_pct,
        "completed": progress.completed,
        "max_position_ms": progress.session.max_position_ms,
    }
