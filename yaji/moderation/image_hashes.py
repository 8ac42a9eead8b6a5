"""Image fingerprints for the blocklist: exact SHA-256 and a 64-bit difference hash (dHash).

dHash: the image in greyscale shrunk to 9×8, one bit per pixel saying "brighter than its
right-hand neighbour". Re-encoding, resizing or slight colour changes flip few bits, so a
Hamming distance ≤ a small threshold (``MODERATION_DHASH_MAX_DISTANCE``, default 6 of 64)
means "the same picture". It does not survive crops, rotations or mirroring — a perceptual
hash blocklist is a first line, not a classifier.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Refuse decompression bombs before decoding pixels.
MAX_PIXELS = 50_000_000


class UnreadableImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageFingerprint:
    sha256: str
    dhash: str | None  # None when the bytes are not a decodable image


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dhash_hex(data: bytes) -> str:
    """The 64-bit dHash of an encoded image as 16 hex digits; UnreadableImage if not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadableImage("image too large")
            image.draft("L", (64, 64))  # JPEG: decode at reduced size, much faster
            small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
            pixels = small.tobytes()  # mode "L": one byte per pixel, row by row
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc)) from exc
    bits = 0
    for row in range(8):
        for col in range(8):
            left = pixels[row * 9 + col]
            right = pixels[row * 9 + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return f"{bits:016x}"


def fingerprint(data: bytes) -> ImageFingerprint:
    try:
        perceptual: str | None = dhash_hex(data)
    except UnreadableImage:
        perceptual = None
    return ImageFingerprint(sha256=sha256_hex(data), dhash=perceptual)


def hamming(a_hex: str, b_hex: str) -> int:
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()
