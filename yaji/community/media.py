"""What an uploaded work file really is, read from its bytes — never the client's name or type.

Audio is parsed with mutagen (the parser must accept the whole header and report a positive
duration); images are recognised by their magic bytes. A known extension on the client's file
name that disagrees with the content is rejected too: a WAV called ``song.mp3`` is not an MP3.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from yaji.community.errors import InvalidCover, InvalidMedia, MediaTooLarge

MEDIA_MAX_BYTES = 50 * 1024 * 1024
COVER_MAX_BYTES = 5 * 1024 * 1024
AUDIO_MAX_DURATION_MS = 3 * 60 * 60 * 1000

AUDIO_FORMATS = ("mp3", "ogg", "m4a", "wav", "flac")
IMAGE_FORMATS = ("jpg", "png", "webp")
# Extensions a client may use for each format we detect.
_EXTENSIONS = {
    "mp3": {"mp3"},
    "ogg": {"ogg", "oga", "opus"},
    "m4a": {"m4a", "mp4", "aac"},
    "wav": {"wav", "wave"},
    "flac": {"flac"},
    "jpg": {"jpg", "jpeg"},
    "png": {"png"},
    "webp": {"webp"},
}
_KNOWN_EXTENSIONS = {ext for exts in _EXTENSIONS.values() for ext in exts}


@dataclass(frozen=True)
class ProbedMedia:
    format: str  # one of AUDIO_FORMATS or IMAGE_FORMATS
    duration_ms: int  # 0 for images
    size: int


def media_max_bytes() -> int:
    return int(getattr(settings, "YAJI_WORK_MEDIA_MAX_BYTES", MEDIA_MAX_BYTES))


def _head(upload: UploadedFile, n: int = 16) -> bytes:
    upload.seek(0)
    head = upload.read(n)
    upload.seek(0)
    return head if isinstance(head, bytes) else b""


def image_sniff(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _audio_sniff(head: bytes) -> str | None:
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    return None


def _audio_parsers(fmt: str) -> list[Any]:
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    return {
        "mp3": [MP3],
        "ogg": [OggVorbis, OggOpus, OggFLAC],
        "m4a": [MP4],
        "wav": [WAVE],
        "flac": [FLAC],
    }[fmt]


def _audio_duration_ms(upload: UploadedFile, fmt: str) -> int:
    for parser in _audio_parsers(fmt):
        upload.seek(0)
        try:
            parsed = parser(upload.file)
            length = float(parsed.info.length)
        except Exception:  # noqa: S112 — any parser failure means "not this format"
            continue
        finally:
            upload.seek(0)
        if math.isfinite(length) and length > 0:
            return round(length * 1000)
    raise InvalidMedia(extra={"field": "media"})


def _check_extension(
    upload: UploadedFile, fmt: str, error: type[InvalidMedia | InvalidCover]
) -> None:
    ext = Path(upload.name or "").suffix.lower().lstrip(".")
    if ext in _KNOWN_EXTENSIONS and ext not in _EXTENSIONS[fmt]:
        raise error(extra={"field": "cover" if error is InvalidCover else "media", "detected": fmt})


def media_probe(*, upload: UploadedFile, audio: bool) -> ProbedMedia:
    """Format and duration of a work file. Raises media_too_large / invalid_media."""
    size = upload.size or 0
    limit = media_max_bytes()
    if size > limit:
        raise MediaTooLarge(extra={"field": "media", "max_bytes": limit})
    if size == 0:
        raise InvalidMedia(extra={"field": "media"})
    head = _head(upload)
    if audio:
        fmt = _audio_sniff(head)
        if fmt is None:
            raise InvalidMedia(extra={"field": "media"})
        _check_extension(upload, fmt, InvalidMedia)
        duration_ms = _audio_duration_ms(upload, fmt)
        if duration_ms > AUDIO_MAX_DURATION_MS:
            raise InvalidMedia(extra={"field": "media"})
        return ProbedMedia(format=fmt, duration_ms=duration_ms, size=size)
    fmt = image_sniff(head)
    if fmt is None:
        raise InvalidMedia(extra={"field": "media"})
    _check_extension(upload, fmt, InvalidMedia)
    return ProbedMedia(format=fmt, duration_ms=0, size=size)


def cover_probe(*, upload: UploadedFile) -> str:
    """The image format of a cover. Raises invalid_cover."""
    if not upload.size or upload.size > COVER_MAX_BYTES:
        raise InvalidCover(extra={"field": "cover", "max_bytes": COVER_MAX_BYTES})
    fmt = image_sniff(_head(upload))
    if fmt is None:
        raise InvalidCover(extra={"field": "cover"})
    _check_extension(upload, fmt, InvalidCover)
    return fmt


def stored_name(fmt: str) -> str:
    """A fresh file name: the client's name never reaches the disk."""
    return f"{uuid.uuid4().hex}.{fmt}"
