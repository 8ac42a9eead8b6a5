"""Where a passport was scanned, coarsely: a city, never coordinates.

The scanning page sends the city its visitor chose or the app's coarse location gave; failing
that the address is looked up in :data:`SANDBOX_PREFIXES` — the sandbox of a GeoIP adapter (the
documentation ranges of RFC 5737 / RFC 3849 mapped to cities, so tests and the demo can scan
from "Beijing" and "Ürümqi"). A real deployment puts a GeoIP database behind
:func:`city_of_ip`. Distances are great-circle between city centres.
"""

from __future__ import annotations

import ipaddress
import math

from django.utils.translation import gettext_lazy as _

# code → (name, latitude, longitude)
CITIES: dict[str, tuple[object, float, float]] = {
    "beijing": (_("北京"), 39.904, 116.407),
    "shanghai": (_("上海"), 31.230, 121.474),
    "guangzhou": (_("广州"), 23.129, 113.264),
    "shenzhen": (_("深圳"), 22.543, 114.058),
    "hangzhou": (_("杭州"), 30.274, 120.155),
    "suzhou": (_("苏州"), 31.299, 120.585),
    "nanjing": (_("南京"), 32.060, 118.797),
    "chengdu": (_("成都"), 30.573, 104.066),
    "chongqing": (_("重庆"), 29.563, 106.551),
    "xian": (_("西安"), 34.342, 108.940),
    "wuhan": (_("武汉"), 30.593, 114.305),
    "jingdezhen": (_("景德镇"), 29.269, 117.178),
    "kunming": (_("昆明"), 25.039, 102.718),
    "harbin": (_("哈尔滨"), 45.803, 126.535),
    "urumqi": (_("乌鲁木齐"), 43.826, 87.617),
    "lhasa": (_("拉萨"), 29.652, 91.172),
    "hongkong": (_("香港"), 22.319, 114.169),
    "taipei": (_("台北"), 25.033, 121.565),
}

SANDBOX_PREFIXES: dict[str, str] = {
    "192.0.2.0/24": "beijing",
    "198.51.100.0/24": "shanghai",
    "203.0.113.0/24": "urumqi",
    "2001:db8::/32": "guangzhou",
}
_NETWORKS = [(ipaddress.ip_network(net), city) for net, city in SANDBOX_PREFIXES.items()]
EARTH_RADIUS_KM = 6371.0


def city_name(code: str) -> str:
    entry = CITIES.get(code)
    return str(entry[0]) if entry else ""


def city_of_ip(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    return next((city for net, city in _NETWORKS if address in net), "")


def ip_prefix(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) the address is in: enough to tell places apart."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def distance_km(a: str, b: str) -> float | None:
    if a not in CITIES or b not in CITIES:
        return None
    _n1, lat1, lng1 = CITIES[a]
    _n2, lat2, lng2 = CITIES[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
