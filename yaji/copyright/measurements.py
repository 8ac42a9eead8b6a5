"""The near-duplicate measurement behind the thresholds: generated originals, their edited
copies and unrelated pictures, and the Hamming distances between their fingerprints.

Originals are drawn deterministically (seeded shapes, gradients, strokes — the kind of flat
design art a shop lists). For each: resized, JPEG-recompressed (q 40), cropped 5 % per side,
mirrored, brightened, watermarked (text stamped in a corner); the unrelated set is every other
original. ``yaji copyright-measure`` prints the table quoted in ADR 0023.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from yaji.copyright.perceptual import Fingerprint, combined_distance, distance, fingerprint


def original(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(rng.randrange(6, 14)):
        colour = tuple(rng.randrange(256) for _ in range(3))
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(40, w // 2), y0 + rng.randrange(40, h // 2)
        shape = rng.choice(("rect", "ellipse", "line"))
        if shape == "rect":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randrange(4, 20))
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _crop(image: Image.Image, fraction: float) -> Image.Image:
    w, h = image.size
    dx, dy = int(w * fraction), int(h * fraction)
    return image.crop((dx, dy, w - dx, h - dy))


def _watermark(image: Image.Image) -> Image.Image:
    copy = image.copy()
    draw = ImageDraw.Draw(copy)
    w, h = copy.size
    draw.rectangle((w - 200, h - 50, w - 10, h - 10), fill=(255, 255, 255))
    draw.text((w - 190, h - 40), "COPY @shop", fill=(0, 0, 0))
    return copy


VARIANTS: dict[str, Callable[[Image.Image], bytes]] = {
    "resized_50%": lambda im: png(im.resize((im.width // 2, im.height // 2))),
    "jpeg_q40": lambda im: jpeg(im, 40),
    "cropped_5%": lambda im: png(_crop(im, 0.05)),
    "mirrored": lambda im: png(ImageOps.mirror(im)),
    "brighter_15%": lambda im: png(ImageEnhance.Brightness(im).enhance(1.15)),
    "watermarked": lambda im: png(_watermark(im)),
}


@dataclass(frozen=True)
class Pair:
    variant: str  # a VARIANTS key, or "unrelated"
    dhash: int  # min distance over (hash, mirror hash)
    phash: int
    combined: int  # dHash + pHash distance in the closer orientation (what the check uses)


def _best(kind: str, a: Fingerprint, b: Fingerprint) -> int:
    if kind == "dhash":
        return min(distance(a.dhash, b.dhash), distance(a.dhash_mirror, b.dhash))
    return min(distance(a.phash, b.phash), distance(a.phash_mirror, b.phash))


def _pair(variant: str, a: Fingerprint, b: Fingerprint) -> Pair:
    return Pair(variant, _best("dhash", a, b), _best("phash", a, b), combined_distance(a, b))


def measure(originals: int = 12) -> list[Pair]:
    images = [original(seed) for seed in range(originals)]
    prints = [fingerprint(png(im)) for im in images]
    pairs: list[Pair] = []
    for im, registered in zip(images, prints, strict=True):
        for name, make in VARIANTS.items():
            copy = fingerprint(make(im))
            pairs.append(_pair(name, registered, copy))
    for i, a in enumerate(prints):
        for b in prints[i + 1 :]:
            pairs.append(_pair("unrelated", a, b))
    return pairs


def summary(pairs: list[Pair]) -> dict[str, dict[str, tuple[int, int, int]]]:
    """variant → hash kind → (min, median, max) distance."""
    out: dict[str, dict[str, tuple[int, int, int]]] = {}
    for variant in [*VARIANTS, "unrelated"]:
        rows = [p for p in pairs if p.variant == variant]
        out[variant] = {}
        for kind in ("dhash", "phash", "combined"):
            values = sorted(getattr(p, kind) for p in rows)
            out[variant][kind] = (values[0], values[len(values) // 2], values[-1])
    return out


def rates(pairs: list[Pair], kind: str, threshold: int) -> tuple[float, float]:
    """(share of edited copies caught, share of unrelated pairs flagged) at ``threshold``."""
    copies = [getattr(p, kind) for p in pairs if p.variant != "unrelated"]
    unrelated = [getattr(p, kind) for p in pairs if p.variant == "unrelated"]
    caught = sum(d <= threshold for d in copies) / len(copies)
    flagged = sum(d <= threshold for d in unrelated) / len(unrelated)
    return caught, flagged
