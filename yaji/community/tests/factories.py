"""Test data for the community app: real audio files synthesised with the stdlib."""

from __future__ import annotations

import io
import math
import struct
import wave
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.accounts.models import Role, RoleAssignment, User
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.community.models import Work, WorkKind
from yaji.core import clock

__all__ = ["PASSWORD", "UserFactory"]

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\xa5\xf4"
    b"\x0c\xc6\x00\x00\x00\x00IEND\xaeB`\x82"
)


def wav_bytes(seconds: float = 2.0, *, rate: int = 8000, freq: float = 440.0) -> bytes:
    """A real mono 16-bit PCM WAV holding a sine tone (宫 A4)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = int(seconds * rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
                for i in range(frames)
            )
        )
    return buffer.getvalue()


def wav_upload(seconds: float = 2.0, name: str = "song.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(seconds), content_type="audio/wav")


def fake_mp3_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("song.mp3", b"this is not music, just text\n" * 50, "audio/mpeg")


def creator_user(**kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=Role.CREATOR)
    return user


def audio_work(*, duration_ms: int = 60_000, creator: User | None = None) -> Work:
    """A published audio work made directly (the file itself is not needed for listening)."""
    return Work.objects.create(
        creator=creator or creator_user(),
        kind=WorkKind.AUDIO,
        title="茉莉花",
        media="works/media/test.wav",
        media_format="wav",
        media_size=1,
        duration_ms=duration_ms,
        published_at=clock.now(),
    )


class FakeClock:
    """Monkeypatched over ``yaji.core.clock.now``; tests move it with ``advance``."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def image_bytes(
    width: int = 64, height: int = 48, *, fmt: str = "PNG", exif: bytes | None = None
) -> bytes:
    """A real picture made with Pillow (a gradient, so encoders have something to do)."""
    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 4 % 256, y * 5 % 256, 120) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    if exif is not None:
        image.save(out, format=fmt, exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def image_upload(name: str = "photo.png", **kwargs: Any) -> SimpleUploadedFile:
    fmt = "JPEG" if name.endswith((".jpg", ".jpeg")) else "PNG"
    return SimpleUploadedFile(name, image_bytes(fmt=fmt, **kwargs), content_type=f"image/{fmt}")


def post_make(author: User | None = None, text: str = "今日开绣 #苏绣", **kwargs: Any) -> Any:
    from yaji.community import services

    return services.post_create(author=author or UserFactory(), text=text, **kwargs)


class Screen:
    """Stands in for moderation: every screened item gets ``status``; calls are recorded."""

    def __init__(self, status: str = "visible") -> None:
        self.status = status
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        from types import SimpleNamespace

        self.calls.append(kwargs)
        return SimpleNamespace(status=self.status, reasons=[])


def verified_user(**kwargs: Any) -> User:
    """An account with a verified real name (what contest voting requires)."""
    from yaji.accounts.models import KycStatus, RealNameVerification

    user = UserFactory(**kwargs)
    RealNameVerification.objects.create(
        user=user,
        real_name="张三",
        id_number="110101199003070000",
        status=KycStatus.VERIFIED,
        provider="sandbox",
        verified_at=clock.now(),
    )
    return user


def operator_user() -> User:
    user = UserFactory()
    RoleAssignment.objects.create(user=user, role=Role.OPERATOR)
    return user


def contest_make(*, phase: str = "submissions", slug: str = "jasmine-tea-tin") -> Any:
    """A contest whose windows put ``clock.now()`` in ``phase`` (submissions|voting|over)."""
    from yaji.community.models import Contest

    now = clock.now()
    hour = timedelta(hours=1)
    if phase == "submissions":
        opens = now - hour
    elif phase == "voting":
        opens = now - 3 * hour
    else:
        opens = now - 5 * hour
    return Contest.objects.create(
        slug=slug,
        title="茉莉花茶罐设计大赛",
        brief="为茉莉花茶设计一款茶罐。",
        submissions_open_at=opens,
        submissions_close_at=opens + 2 * hour,
        voting_open_at=opens + 2 * hour,
        voting_close_at=opens + 4 * hour,
    )


def submission_make(contest: Any, author: User | None = None, title: str = "青花") -> Any:
    from yaji.community.models import ContestSubmission

    return ContestSubmission.objects.create(
        contest=contest,
        author=author or UserFactory(),
        title=title,
        image="contests/designs/x.webp",
        width=64,
        height=48,
    )
