"""Product images: judged by their bytes, decoded and re-encoded with Pillow.

Re-encoding drops every byte the client sent except the pixels: EXIF (GPS positions, camera
serials), XMP, ICC comments and anything smuggled after the image data. Orientation from EXIF is
applied first so the picture still stands upright. The stored original is capped at 2400 px;
thumbnails are 400 px and 1200 px on the longer side. Everything is stored as WebP.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

from yaji.catalog.errors import ImageTooLarge, InvalidProductImage
from yaji.catalog.uploads import _JPEG, _PNG, _WEBP, file_sniff

IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
IMAGE_MIN_SIDE = 16
STORED_MAX_SIDE = 2400
THUMB_SIZES = (400, 1200)
IMAGES_PER_PRODUCT_MAX = 12


@dataclass(frozen=True)
class ProcessedImage:
    full: bytes
    thumbs: dict[int, bytes]
    width: int
    height: int
    sha256: str


def _encode(image: Image.Image, max_side: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


def image_process(upload: UploadedFile) -> ProcessedImage:
    """Check (type by content, ≤ 8 MB, sane dimensions) and re-encode one product image."""
    name = Path(upload.name or "").name
    if (upload.size or 0) > IMAGE_MAX_BYTES:
        raise ImageTooLarge(extra={"name": name, "max_bytes": IMAGE_MAX_BYTES})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if file_sniff(head) not in (_JPEG, _PNG, _WEBP):
        raise InvalidProductImage(extra={"name": name})
    data = upload.read()
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("JPEG", "PNG", "WEBP"):
                raise InvalidProductImage(extra={"name": name})
            width, height = probe.size
            if width * height > IMAGE_MAX_PIXELS:
                raise InvalidProductImage(extra={"name": name, "reason": "too_many_pixels"})
            if min(width, height) < IMAGE_MIN_SIDE:
                raise InvalidProductImage(extra={"name": name, "reason": "too_small"})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "RGBA"):
                has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha else "RGB")
            full = _encode(image, STORED_MAX_SIDE)
            thumbs = {size: _encode(image, size) for size in THUMB_SIZES}
            width, height = image.size
    except InvalidProductImage:
        raise
    except Exception as exc:  # whatever a decoder trips on, it is not an image
        raise InvalidProductImage(extra={"name": name, "reason": "undecodable"}) from exc
    scale = min(1.0, STORED_MAX_SIDE / max(width, height))
    return ProcessedImage(
        full=full,
        thumbs=thumbs,
        width=round(width * scale),
        height=round(height * scale),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def image_files(product_id: int, processed: ProcessedImage) -> dict[str, ContentFile[bytes]]:
    """Storage names → contents of one processed image (random names, never the client's)."""
    stem = f"products/{product_id}/{uuid.uuid4().hex}"
    files = {f"{stem}.webp": ContentFile(processed.full)}
    for size, content in processed.thumbs.items():
        files[f"{stem}_{size}.webp"] = ContentFile(content)
    return files
