"""Same-city packets: geohash cells and great-circle distance, no dependency.

The sender's position is kept only as a geohash cell (precision 7: about 153 m × 153 m) —
enough for a radius of a few kilometres, not a precise location. The claimer's coordinates are
checked against the cell's centre and never stored.
"""

from __future__ import annotations

import math

from yaji.redpackets.errors import LocationInvalid

_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
PRECISION = 7
EARTH_RADIUS_M = 6_371_000
# The cell's half-diagonal at precision 7 (≈ 153 m × 153 m cells at the equator, smaller
# north of it): added to the radius so nobody inside it is turned away because of the cell.
CELL_SLACK_M = 110


def location_validate(lat: object, lng: object) -> tuple[float, float]:
    try:
        la, lo = float(lat), float(lng)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise LocationInvalid() from exc
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise LocationInvalid()
    return la, lo


def geohash_encode(lat: float, lng: float, precision: int = PRECISION) -> str:
    lat_lo, lat_hi, lng_lo, lng_hi = -90.0, 90.0, -180.0, 180.0
    out: list[str] = []
    bit, ch, even = 0, 0, True
    while len(out) < precision:
        if even:
            mid = (lng_lo + lng_hi) / 2
            if lng >= mid:
                ch, lng_lo = ch * 2 + 1, mid
            else:
                ch, lng_hi = ch * 2, mid
        else:
            mid = (lat_lo + lat_hi) / 2
            if lat >= mid:
                ch, lat_lo = ch * 2 + 1, mid
            else:
                ch, lat_hi = ch * 2, mid
        even = not even
        bit += 1
        if bit == 5:
            out.append(_BASE32[ch])
            bit, ch = 0, 0
    return "".join(out)


def geohash_decode(cell: str) -> tuple[float, float]:
    """The centre (lat, lng) of a geohash cell."""
    lat_lo, lat_hi, lng_lo, lng_hi = -90.0, 90.0, -180.0, 180.0
    even = True
    for char in cell:
        value = _BASE32.index(char)
        for shift in range(4, -1, -1):
            bit = (value >> shift) & 1
            if even:
                mid = (lng_lo + lng_hi) / 2
                lng_lo, lng_hi = (mid, lng_hi) if bit else (lng_lo, mid)
            else:
                mid = (lat_lo + lat_hi) / 2
                lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
            even = not even
    return (lat_lo + lat_hi) / 2, (lng_lo + lng_hi) / 2


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def within_radius(cell: str, radius_m: int, lat: float, lng: float) -> bool:
    centre_lat, centre_lng = geohash_decode(cell)
    return distance_m(centre_lat, centre_lng, lat, lng) <= radius_m + CELL_SLACK_M
