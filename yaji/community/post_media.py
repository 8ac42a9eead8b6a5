"""Pictures and videos attached to posts, judged by their bytes.

Images are decoded and re-encoded with Pillow (as WebP, at most 2000 px on the longer side):
only the pixels survive — EXIF with GPS positions, XMP, and anything appended after the image
data are dropped; EXIF orientation is applied first so photos stay upright. A decompression bomb
(too many pixels) is refused before decoding.

Videos are not transcoded (no video toolchain on the platform yet): an MP4 must parse as an ISO
media file with a positive duration (mutagen), a WebM must start with the EBML magic bytes.
"""

from __future__ import annotations

import io
import math
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

from yaji.community.errors import InvalidPost, InvalidPostImage, InvalidPostVideo
from yaji.community.media import image_sniff

IMAGES_PER_POST_MAX = 9
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_MIN_SIDE = 8
STORED_MAX_SIDE = 2000
VIDEO_MAX_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class PostPicture:
    original: bytes  # what the client sent, for moderation's hash blocklist
    webp: bytes
    width: int
    height: int


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data if isinstance(data, bytes) else b""


def picture_process(upload: UploadedFile, *, index: int = 0) -> PostPicture:
    """Check and re-encode one post image. Raises invalid_post_image."""
    extra = {"field": "images", "index": index, "name": Path(upload.name or "").name[:100]}
    if not upload.size or upload.size > IMAGE_MAX_BYTES:
        raise InvalidPostImage(extra={**extra, "max_bytes": IMAGE_MAX_BYTES})
    data = _read(upload)
    if image_sniff(data[:16]) is None:
        raise InvalidPostImage(extra=extra)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if probe.format not in ("JPEG", "PNG", "WEBP") or width * height > IMAGE_MAX_PIXELS:
                raise InvalidPostImage(extra=extra)
            if min(width, height) < IMAGE_MIN_SIDE:
                raise InvalidPostImage(extra={**extra, "reason": "too_small"})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = ImageOps.exif_transpose(image)
            if picture.mode not in ("RGB", "RGBA"):
                alpha = picture.mode in ("LA", "PA") or "transparency" in picture.info
                picture = picture.convert("RGBA" if alpha else "RGB")
            picture.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            picture.save(out, format="WEBP", quality=85, method=4)
            width, height = picture.size
    except InvalidPostImage:
        raise
    except Exception as exc:  # whatever a decoder trips on, it is not an image
        raise InvalidPostImage(extra={**extra, "reason": "undecodable"}) from exc
    return PostPicture(original=data, webp=out.getvalue(), width=width, height=height)


def pictures_process(uploads: list[UploadedFile]) -> list[PostPicture]:
    if len(uploads) > IMAGES_PER_POST_MAX:
        raise InvalidPost(
            InvalidPostImage.default_message,
            extra={"field": "images", "max": IMAGES_PER_POST_MAX},
        )
    return [picture_process(upload, index=i) for i, upload in enumerate(uploads)]


def video_probe(upload: UploadedFile) -> str:
    """``mp4`` or ``webm`` for a real video file. Raises invalid_post_video."""
    extra = {"field": "video"}
    if not upload.size or upload.size > VIDEO_MAX_BYTES:
        raise InvalidPostVideo(extra={**extra, "max_bytes": VIDEO_MAX_BYTES})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] != b"ftyp":
        raise InvalidPostVideo(extra=extra)
    from mutagen.mp4 import MP4

    try:
        length = float(MP4(upload.file).info.length)
    except Exception as exc:  # a broken container is not a video
        raise InvalidPostVideo(extra=extra) from exc
    finally:
        upload.seek(0)
    if not math.isfinite(length) or length <= 0:
        raise InvalidPostVideo(extra=extra)
    return "mp4"


def stored_name(fmt: str) -> str:
    return f"{uuid.uuid4().hex}.{fmt}"
