"""Races only real concurrency shows (PostgreSQL, real threads, real transactions)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from yaji.catalog import services
from yaji.catalog.models import Shop, ShopApplication, ShopDocument, ShopMembership
from yaji.catalog.tests.factories import (
    application_submit,
    reviewer_user,
    upload,
    verified_user,
)
from yaji.catalog.uploads import private_storage
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_eight_reviewers_approving_at_once_open_one_shop() -> None:
    application = application_submit(verified_user())
    reviewers = [reviewer_user() for _ in range(8)]
    outcomes = race(
        8,
        lambda i: services.shop_application_approve(
            reviewer=reviewers[i], application_id=application.pk
        ),
    )
    assert outcomes == Counter({"ok": 1, "shop_application_not_open": 7}), outcomes
    assert Shop.objects.count() == 1 and ShopMembership.objects.count() == 1


def test_one_applicant_racing_themselves_gets_one_open_application() -> None:
    applicant = verified_user()
    outcomes = race(
        6,
        lambda i: application_submit(applicant, slug=f"race-{i}", documents=[upload()]),
    )
    assert outcomes["ok"] == 1 and set(outcomes) <= {"ok", "shop_application_open"}, outcomes
    assert ShopApplication.objects.count() == 1
    # Losers left no documents behind, in the database or on disk.
    assert ShopDocument.objects.count() == 1
    assert len([p for p in Path(private_storage.location).rglob("*") if p.is_file()]) == 1


def test_two_applicants_racing_for_one_slug() -> None:
    applicants = [verified_user() for _ in range(6)]
    outcomes = race(6, lambda i: application_submit(applicants[i], slug="one-slug"))
    assert outcomes == Counter({"ok": 1, "shop_slug_taken": 5}), outcomes
