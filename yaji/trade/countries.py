"""ISO 3166-1 alpha-2 countries and territories, and the few rules an international address needs.

The list is ``data/iso3166_1.json`` (codes with English and Chinese names, source and licence in
``data/README.md``). The postal-code and region rules are deliberately coarse: a courier abroad
reads the address as written, so Yaji only refuses what is certainly wrong — an unknown country, a
missing postal code where the country has postal codes, a missing state where addresses cannot
do without one, and a code whose shape is wrong in the countries listed in ``POSTAL_PATTERNS``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language

DATA_PATH = Path(__file__).resolve().parent / "data" / "iso3166_1.json"

CHINA = "CN"

# Countries and territories whose addresses carry no postal code (UPU list, abridged to those
# that still have none in 2026); everywhere else the postal code is required.
NO_POSTAL_CODE = frozenset(
    [
        "AE",
        "AG",
        "AO",
        "AW",
        "BF",
        "BI",
        "BJ",
        "BO",
        "BS",
        "BW",
        "BZ",
        "CD",
        "CF",
        "CG",
        "CI",
        "CK",
        "CM",
        "DJ",
        "DM",
        "ER",
        "FJ",
        "GA",
        "GD",
        "GH",
        "GM",
        "GQ",
        "GY",
        "HK",
        "KI",
        "KM",
        "KN",
        "KP",
        "LY",
        "ML",
        "MO",
        "MR",
        "MW",
        "NR",
        "NU",
        "QA",
        "RW",
        "SB",
        "SC",
        "SL",
        "SR",
        "ST",
        "SY",
        "TD",
        "TF",
        "TG",
        "TK",
        "TL",
        "TO",
        "TV",
        "UG",
        "VU",
        "YE",
        "ZW",
    ]
)

# Where a state / province / region is part of every deliverable address.
REGION_REQUIRED = frozenset(["US", "CA", "AU", "BR", "MX", "IN"])

POSTAL_PATTERNS = {
    "US": re.compile(r"\d{5}(-\d{4})?"),
    "CA": re.compile(r"[A-Z]\d[A-Z] ?\d[A-Z]\d"),
    "JP": re.compile(r"\d{3}-?\d{4}"),
    "GB": re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"),
    "DE": re.compile(r"\d{5}"),
    "FR": re.compile(r"\d{5}"),
    "AU": re.compile(r"\d{4}"),
    "KR": re.compile(r"\d{5}"),
    "SG": re.compile(r"\d{6}"),
    "TW": re.compile(r"\d{3}(\d{2,3})?"),
}
# Any postal code: letters, digits, spaces and hyphens, starting with a letter or digit.
POSTAL_ANY = re.compile(r"[A-Z0-9][A-Z0-9 \-]{1,11}")


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, str, str], ...]:
    data = json.loads(DATA_PATH.read_text(encoding="utf-8"))
    return tuple((code, en, zh) for code, en, zh in data)


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(code for code, _en, _zh in _rows())


def is_country(code: str) -> bool:
    return code in _codes()


def country_name(code: str, *, language: str | None = None) -> str:
    """The country's name in the language of the request (Chinese unless English)."""
    english = (language or get_language() or "zh-hans").startswith("en")
    for row_code, en, zh in _rows():
        if row_code == code:
            return en if english else zh
    return code


def choices(*, language: str | None = None, abroad_only: bool = True) -> list[tuple[str, str]]:
    """(code, name) pairs for a select, by name in the language of the request."""
    english = (language or get_language() or "zh-hans").startswith("en")
    rows = [
        (code, en if english else zh)
        for code, en, zh in _rows()
        if not (abroad_only and code == CHINA)
    ]
    return sorted(rows, key=lambda row: row[1]) if english else rows


def postal_code_problem(country: str, postal_code: str) -> str | None:
    """Why this postal code cannot be right for the country (None: acceptable)."""
    if not postal_code:
        return None if country in NO_POSTAL_CODE else "required"
    pattern = POSTAL_PATTERNS.get(country, POSTAL_ANY)
    return None if pattern.fullmatch(postal_code) else "format"
