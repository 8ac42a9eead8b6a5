"""Passport scans under real concurrency (PostgreSQL, real threads)."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.copyright import passports
from yaji.copyright.models import CloneCase, Passport, PassportScan
from yaji.copyright.tests.test_passports import bought, edition_bound
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_simultaneous_scans_in_far_cities_are_judged_one_after_the_other() -> None:
    product, _design = edition_bound()
    bought(product)
    token = Passport.objects.get().token
    cities = ["beijing", "urumqi", "guangzhou", "harbin"]
    flagged: list[int] = []

    def scan(i: int) -> None:
        flagged.append(len(passports.passport_scan(token=token, city=cities[i]).flags))

    assert race(4, scan) == Counter({"ok": 4})
    # whichever came first saw no earlier scan; every later one saw a far city seconds ago
    assert sorted(flagged) == [0, 1, 1, 1]
    assert PassportScan.objects.count() == 4
    assert CloneCase.objects.count() == 1  # one open case per passport, however many signals
    assert len(CloneCase.objects.get().reasons) == 3
