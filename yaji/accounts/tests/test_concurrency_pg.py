"""Races that only real concurrency shows (PostgreSQL, real threads, real transactions)."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.accounts import services
from yaji.accounts.models import RealNameVerification, User
from yaji.accounts.notifications import last_code_for
from yaji.accounts.tests.factories import PASSWORD, UserFactory, valid_id
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_registrations_of_one_phone_make_one_account() -> None:
    services.verification_code_send(target="13911112222")
    code = last_code_for("13911112222")

    outcomes = race(
        20,
        lambda i: services.user_register(
            identifier="13911112222", code=code, password=PASSWORD, display_name=f"t{i}"
        ),
    )

    assert outcomes["ok"] == 1, outcomes
    assert set(outcomes) <= {"ok", "code_invalid", "identifier_taken"}
    assert User.objects.count() == 1


def test_two_users_racing_to_verify_one_id() -> None:
    users = [UserFactory(), UserFactory()]
    number = valid_id()

    outcomes = race(
        2, lambda i: services.kyc_submit(user=users[i], real_name="林黛玉", id_number=number)
    )

    assert outcomes == Counter({"ok": 1, "id_already_verified": 1}), outcomes
    assert RealNameVerification.objects.filter(status="verified").count() == 1


def test_refresh_token_replayed_concurrently_yields_one_new_pair() -> None:
    user = UserFactory()
    device = services.user_authenticate(identifier=user.email, password=PASSWORD).device
    pair = services.api_token_issue(user=user, device=device)

    outcomes = race(8, lambda i: services.api_token_refresh(refresh_token=pair.refresh_token))

    # One rotation wins; every other presentation is a reuse and kills the family.
    assert outcomes["ok"] == 1, outcomes
    assert set(outcomes) <= {"ok", "token_reused"}
