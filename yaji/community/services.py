"""Writes of the community app: publishing works and verified listening."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import require_role
from yaji.community.errors import (
    InvalidWork,
    PlayExpired,
    PlayNotFound,
    UnsupportedKind,
    WorkNotPlayable,
)
from yaji.community.listening import PlayState, heartbeat_apply
from yaji.community.media import cover_probe, media_probe, stored_name
from yaji.community.models import PlaySession, Work, WorkKind, WorkStatus
from yaji.core import clock

TITLE_MAX = 120
DESCRIPTION_MAX = 10_000
TAGS_MAX = 10
TAG_MAX_CHARS = 20
# A token lives twice the track's length plus ten minutes: pauses are fine, replays take a new one.
PLAY_GRACE = timedelta(minutes=10)


def tags_normalize(tags: list[str] | str | None) -> list[str]:
    """Trimmed, '#'-less, de-duplicated (case-insensitively) tags; commas split a string."""
    if tags is None:
        return []
    raw = tags.replace("，", ",").split(",") if isinstance(tags, str) else tags
    seen: set[str] = set()
    out: list[str] = []
    for tag in raw:
        clean = " ".join(str(tag).strip().lstrip("#").split())
        if not clean or clean.casefold() in seen:
            continue
        if len(clean) > TAG_MAX_CHARS:
            raise InvalidWork(
                _("每个标签不超过 20 个字。"), extra={"field": "tags", "tag": clean[:40]}
            )
        seen.add(clean.casefold())
        out.append(clean)
    if len(out) > TAGS_MAX:
        raise InvalidWork(_("最多 10 个标签。"), extra={"field": "tags"})
    return out


@transaction.atomic(durable=True)
def work_publish(
    *,
    creator: User,
    title: str,
    kind: str,
    media: UploadedFile,
    description: str = "",
    tags: list[str] | str | None = None,
    cover: UploadedFile | None = None,
) -> Work:
    """Publish a work. Only creators; format and duration are read from the file itself."""
    require_role(creator, Role.CREATOR)
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise InvalidWork(_("标题须为 1 到 120 个字。"), extra={"field": "title"})
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidWork(_("简介不超过 10000 个字。"), extra={"field": "description"})
    if kind not in WorkKind.values:
        raise UnsupportedKind(extra={"field": "kind"})
    if kind == WorkKind.VIDEO:
        # No video parser yet: rather than trust a client's duration, video waits.
        raise UnsupportedKind(_("视频作品暂未开放上传。"), extra={"field": "kind"})
    clean_tags = tags_normalize(tags)
    probed = media_probe(upload=media, audio=kind == WorkKind.AUDIO)
    cover_format = cover_probe(upload=cover) if cover is not None else None

    work = Work(
        creator=creator,
        kind=kind,
        title=title,
        description=description,
        tags=clean_tags,
        media_format=probed.format,
        media_size=probed.size,
        duration_ms=probed.duration_ms,
        status=WorkStatus.PUBLISHED,
        published_at=clock.now(),
    )
    media.seek(0)
    work.media.save(stored_name(probed.format), media, save=False)
    if cover is not None and cover_format is not None:
        cover.seek(0)
        work.cover.save(stored_name(cover_format), cover, save=False)
    # Files written but the row not committed are removed again.
    names = [f.name for f in (work.media, work.cover) if f]
    storage = work.media.storage
    try:
        work.save()
    except Exception:
        for name in names:
            storage.delete(name)
        raise
    return work


def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


@transaction.atomic(durable=True)
def play_start(*, user: User, work: Work) -> tuple[PlaySession, str]:
    """Issue a play token for ``work``. The raw token is returned once; only its hash is kept."""
    if work.status != WorkStatus.PUBLISHED:
        raise PlayNotFound()
    if not work.playable:
        raise WorkNotPlayable()
    raw_token = secrets.token_urlsafe(32)
    now = clock.now()
    session = PlaySession.objects.create(
        user=user,
        work=work,
        token_hash=_token_hash(raw_token),
        issued_at=now,
        expires_at=now + timedelta(milliseconds=work.duration_ms * 2) + PLAY_GRACE,
        last_heartbeat_at=now,
    )
    return session, raw_token


@dataclass(frozen=True)
class PlayProgress:
    session: PlaySession
    listened_ms: int
    coverage_pct: float
    completed: bool


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


@transaction.atomic(durable=True)
def play_heartbeat(*, user: User, token: str, position_ms: int) -> PlayProgress:
    """Record where the player of ``user`` is. Credits only plausible, real-time progress.

    Raises play_not_found (unknown token, or another user's) and play_expired.
    """
    session = (
        PlaySession.objects.select_for_update()
        .select_related("work")
        .filter(token_hash=_token_hash(token or ""), user=user)
        .first()
    )
    if session is None:
        raise PlayNotFound()
    now = clock.now()
    if now >= session.expires_at:
        raise PlayExpired()
    work = session.work
    before = PlayState(
        duration_ms=work.duration_ms,
        last_at_ms=_ms(session.last_heartbeat_at - session.issued_at),
        last_position_ms=session.last_position_ms,
        max_position_ms=session.max_position_ms,
        coverage=tuple((int(s), int(e)) for s, e in session.coverage),
    )
    after = heartbeat_apply(before, at_ms=_ms(now - session.issued_at), position_ms=position_ms)
    session.last_heartbeat_at = max(now, session.last_heartbeat_at)
    session.last_position_ms = after.last_position_ms
    session.max_position_ms = after.max_position_ms
    session.coverage = [list(interval) for interval in after.coverage]
    session.listened_ms = after.listened_ms
    session.heartbeats += 1
    if after.complete and session.completed_at is None:
        session.completed_at = now
    session.save()
    return PlayProgress(
        session=session,
        listened_ms=after.listened_ms,
        coverage_pct=after.coverage_pct,
        completed=session.completed_at is not None,
    )
