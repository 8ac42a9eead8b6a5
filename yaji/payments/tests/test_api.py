"""Top-up API: limits, idempotency keys, ownership of intents, the wallet statement."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.payments.models import PaymentIntent
from yaji.payments.tests.factories import Api, UserFactory, notification, signed_post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "invalid_amount"),
        (-100, "invalid_amount"),
        (5_000_001, "amount_out_of_range"),
        (10**20, "amount_out_of_range"),
    ],
)
def test_bad_amounts_are_refused(amount: int, code: str) -> None:
    api = Api(UserFactory())
    response = api.topup(amount)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert not PaymentIntent.objects.exists()


def test_limits_are_inclusive() -> None:
    api = Api(UserFactory())
    assert api.topup(1).status_code == 201
    assert api.topup(5_000_000).status_code == 201


def test_non_integer_amount_is_a_validation_error() -> None:
    api = Api(UserFactory())
    assert api.topup("ten").status_code == 422
    assert api.topup(1.5).status_code == 422


def test_idempotency_key_is_required_and_replays() -> None:
    api = Api(UserFactory())
    missing = api.post_json("/wallet/topups", {"amount_fen": 100})
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_required"

    first = api.topup(100, key="topup-1")
    replay = api.topup(100, key="topup-1")
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["intent"]["id"] == first.json()["intent"]["id"]
    assert PaymentIntent.objects.count() == 1

    other = api.topup(200, key="topup-1")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert PaymentIntent.objects.count() == 1


def test_another_users_intent_is_not_found() -> None:
    stranger_user = UserFactory()
    owner, stranger = Api(UserFactory()), Api(stranger_user)
    intent_id = owner.topup(100).json()["intent"]["id"]
    assert owner.get(f"/payments/intents/{intent_id}").status_code == 200
    response = stranger.get(f"/payments/intents/{intent_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert stranger.get("/payments/intents/not-a-uuid").status_code == 404
    site = Client()
    site.force_login(stranger_user)
    assert site.get(f"/wallet/intents/{intent_id}/status/").status_code == 404


def test_wallet_entries_paginate_with_a_cursor() -> None:
    user = UserFactory()
    api = Api(user)
    for amount in (100, 200, 300):
        intent_id = api.topup(amount).json()["intent"]["id"]
        signed_post(Client(), notification(PaymentIntent.objects.get(pk=intent_id)))
    first = api.get("/wallet/entries?limit=2").json()
    assert [e["amount_fen"] for e in first["items"]] == [300, 200]
    assert first["next_cursor"] is not None
    rest = api.get(f"/wallet/entries?limit=2&cursor={first['next_cursor']}").json()
    assert [e["amount_fen"] for e in rest["items"]] == [100]
    assert rest["next_cursor"] is None
    assert api.get("/wallet").json()["balance_fen"] == 600
