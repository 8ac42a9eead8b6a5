"""Perceptual hashes of images: 64-bit fingerprints that survive re-encoding and resizing.

Two are computed with Pillow alone (no NumPy):

* **dHash** — the picture shrunk to 9×8 grey pixels; bit = "is this pixel brighter than its
  right neighbour". Cheap and robust to scaling and recompression.
* **pHash** — the picture shrunk to 32×32 grey pixels, a 2-D DCT-II, the 8×8 lowest
  frequencies (DC excluded from the median); bit = "above the median". More robust to small
  crops and brightness changes.

Each is also taken of the mirrored picture, so a flipped copy is found by comparing the
candidate's hashes with the registered *mirror* hashes. Two pictures are near-duplicates when
the sum of both Hamming distances (0–128) is at most :data:`NEAR_DUPLICATE_MAX_DISTANCE`,
chosen from measurements recorded in ADR 0023 (``yaji copyright-measure`` repeats them).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
HASH_BITS = 64


class NotAnImage(ValueError):
    """The bytes do not decode as a still image we can fingerprint."""


@dataclass(frozen=True)
class Fingerprint:
    dhash: int
    dhash_mirror: int
    phash: int
    phash_mirror: int


def image_open(data: bytes) -> Image.Image:
    """Decode ``data`` into a greyscale image (alpha flattened onto white)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS or min(width, height) < 8:
                raise NotAnImage("image too large or too small")
        image = Image.open(io.BytesIO(data))
        image.load()
    except NotAnImage:
        raise
    except Exception as exc:  # whatever a decoder trips on, it is not an image
        raise NotAnImage("undecodable image") from exc
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L")


def _bits(values: list[bool]) -> int:
    out = 0
    for bit in values:
        out = (out << 1) | int(bit)
    return out


def dhash(image: Image.Image) -> int:
    small = image.resize((9, 8), Image.Resampling.LANCZOS)
    px = list(small.tobytes())  # mode L: one byte per pixel
    return _bits(
        [px[row * 9 + col] > px[row * 9 + col + 1] for row in range(8) for col in range(8)]
    )


@lru_cache(maxsize=1)
def _dct_table() -> tuple[tuple[float, ...], ...]:
    # cos((2x + 1)·u·π / 64) for the 8 lowest frequencies u over 32 samples x
    return tuple(
        tuple(math.cos((2 * x + 1) * u * math.pi / 64) for x in range(32)) for u in range(8)
    )


def phash(image: Image.Image) -> int:
    small = image.resize((32, 32), Image.Resampling.LANCZOS)
    px = list(small.tobytes())  # mode L: one byte per pixel
    table = _dct_table()
    rows = [
        [sum(c * px[r * 32 + x] for x, c in enumerate(table[u])) for u in range(8)]
        for r in range(32)
    ]
    coeffs = [sum(table[v][r] * rows[r][u] for r in range(32)) for v in range(8) for u in range(8)]
    ac = sorted(coeffs[1:])
    median = (ac[31] + ac[32]) / 2
    return _bits([c > median for c in coeffs])


def fingerprint(data: bytes) -> Fingerprint:
    image = image_open(data)
    mirrored = ImageOps.mirror(image)
    return Fingerprint(
        dhash=dhash(image),
        dhash_mirror=dhash(mirrored),
        phash=phash(image),
        phash_mirror=phash(mirrored),
    )


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def combined_distance(registered: Fingerprint, candidate: Fingerprint) -> int:
    """dHash + pHash distance (0–128), in whichever orientation of the registered picture is
    closer — a mirrored copy matches the registered mirror hashes."""
    straight = distance(registered.dhash, candidate.dhash) + distance(
        registered.phash, candidate.phash
    )
    flipped = distance(registered.dhash_mirror, candidate.dhash) + distance(
        registered.phash_mirror, candidate.phash
    )
    return min(straight, flipped)


# Chosen from `yaji copyright-measure` (ADR 0023): edited copies measured ≤ 29, unrelated
# pictures ≥ 46; 36 sits between them with room on both sides.
NEAR_DUPLICATE_MAX_DISTANCE = 36


def to_signed(value: int) -> int:
    """A 64-bit hash as a signed BIGINT (databases have no unsigned 64-bit column)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def from_signed(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def hex64(value: int) -> str:
    return f"{from_signed(value):016x}"
