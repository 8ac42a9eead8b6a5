"""Uploaded files: what they really are (magic bytes, never the client's name or type) and
where private ones live.

Qualification documents hold licences and ID scans, so they are kept out of ``MEDIA_ROOT``,
which ``yaji.urls`` serves publicly in DEBUG: :class:`PrivateStorage` writes under
``YAJI_PRIVATE_MEDIA_ROOT`` (default ``<data dir>/private-media``) and has no URL; the only way
out is the permission-checked download view.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import cached_property

from yaji.catalog.errors import DocumentTooLarge, InvalidDocument, InvalidImage, LogoTooLarge

DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
DOCUMENTS_MAX = 6
LOGO_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


_PDF = Sniffed("application/pdf", "pdf")
_PNG = Sniffed("image/png", "png")
_JPEG = Sniffed("image/jpeg", "jpg")
_WEBP = Sniffed("image/webp", "webp")


def file_sniff(head: bytes) -> Sniffed | None:
    """The type the first bytes of a file prove, or None for anything we do not accept."""
    if head.startswith(b"%PDF-"):
        return _PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _WEBP
    return None


def _head(upload: UploadedFile | IO[bytes]) -> bytes:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return head if isinstance(head, bytes) else b""


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    sniffed: Sniffed
    size: int
    original_name: str
    sha256: str


def _checked(upload: UploadedFile, sniffed: Sniffed) -> CheckedUpload:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = Path(upload.name or "").name[:200]
    return CheckedUpload(
        upload=upload,
        sniffed=sniffed,
        size=upload.size or 0,
        original_name=name,
        sha256=digest.hexdigest(),
    )


def document_check(upload: UploadedFile) -> CheckedUpload:
    """A qualification document: PDF, JPEG or PNG by content, at most 5 MB."""
    if (upload.size or 0) > DOCUMENT_MAX_BYTES:
        raise DocumentTooLarge(
            extra={"name": Path(upload.name or "").name, "max_bytes": DOCUMENT_MAX_BYTES}
        )
    sniffed = file_sniff(_head(upload))
    if sniffed is None or sniffed is _WEBP:
        raise InvalidDocument(extra={"name": Path(upload.name or "").name})
    return _checked(upload, sniffed)


def logo_check(upload: UploadedFile) -> CheckedUpload:
    """A shop logo: JPEG, PNG or WebP by content, at most 2 MB (served publicly)."""
    if (upload.size or 0) > LOGO_MAX_BYTES:
        raise LogoTooLarge(
            extra={"name": Path(upload.name or "").name, "max_bytes": LOGO_MAX_BYTES}
        )
    sniffed = file_sniff(_head(upload))
    if sniffed is None or sniffed is _PDF:
        raise InvalidImage(extra={"name": Path(upload.name or "").name})
    return _checked(upload, sniffed)


def stored_name(*, prefix: str, sniffed: Sniffed) -> str:
    """A random file name with the extension the content proved (the client's name is ignored)."""
    return f"{prefix}/{uuid.uuid4().hex}.{sniffed.extension}"


class PrivateStorage(FileSystemStorage):
    """Files with no public URL; read only through views that check who is asking."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @cached_property
    def base_location(self) -> str:  # type: ignore[override]  # a str path like the parent's
        configured = getattr(settings, "YAJI_PRIVATE_MEDIA_ROOT", None)
        return str(configured or Path(settings.MEDIA_ROOT).parent / "private-media")

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no URL; use the permission-checked download view")


private_storage = PrivateStorage()


def private_storage_get() -> PrivateStorage:
    # A callable keeps the storage out of migrations (no path frozen into them).
    return private_storage
