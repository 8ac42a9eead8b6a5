from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from yaji.core import clock
from yaji.core.idempotency import (
    IDEMPOTENCY_HEADER,
    RECORD_TTL,
    STALE_AFTER,
    idempotency_begin,
    idempotency_request_hash,
)
from yaji.core.models import IdempotencyRecord, OutboxEvent
from yaji.core.tests.idempotency_urls import SIDE_EFFECT_TOPIC, Flaky, api

pytestmark = [pytest.mark.urls("yaji.core.tests.idempotency_urls")]


def side_effects() -> int:
    return OutboxEvent.objects.filter(topic=SIDE_EFFECT_TOPIC).count()


def post(client: Client, path: str, body: dict, key: str | None = None, **headers: str):  # type: ignore[no-untyped-def]
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        f"/api{path}", data=json.dumps(body), content_type="application/json", **headers
    )


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.mark.django_db
class TestReplay:
    def test_retry_replays_the_identical_response_without_running_the_view_again(
        self, client: Client
    ) -> None:
        first = post(client, "/things", {"name": "瓷杯"}, key="order-1")
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first

        again = post(client, "/things", {"name": "瓷杯"}, key="order-1")

        assert again.status_code == 201
        assert again.content == first.content
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
        assert side_effects() == 1
        record = IdempotencyRecord.objects.get()
        assert record.state == IdempotencyRecord.State.COMPLETED
        assert (record.scope, record.method, record.path) == ("anon", "POST", "/api/things")
        assert record.expires_at - record.created_at == pytest.approx(
            RECORD_TTL, abs=timedelta(seconds=5)
        )

    def test_without_a_key_every_request_runs(self, client: Client) -> None:
        post(client, "/things", {"name": "a"})
        post(client, "/things", {"name": "a"})
        assert side_effects() == 2
        assert not IdempotencyRecord.objects.exists()

    def test_distinct_keys_are_distinct_requests(self, client: Client) -> None:
        post(client, "/things", {"name": "a"}, key="k1")
        post(client, "/things", {"name": "a"}, key="k2")
        assert side_effects() == 2

    def test_a_stored_4xx_from_the_view_is_replayed_too(self, client: Client) -> None:
        first = post(client, "/refused-things", {"name": "a"}, key="refused")
        again = post(client, "/refused-things", {"name": "a"}, key="refused")
        assert first.status_code == again.status_code == 422
        assert again.json()["code"] == "things_exhausted"
        assert again["Idempotent-Replayed"] == "true"
        # The view's transaction-independent side effect happened once: the view ran once.
        assert side_effects() == 1


@pytest.mark.django_db
class TestRejections:
    def test_same_key_with_a_different_body_is_a_409(self, client: Client) -> None:
        post(client, "/things", {"name": "a"}, key="k")
        response = post(client, "/things", {"name": "b"}, key="k")
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "idempotency_key_reused"
        assert set(body) == {"code", "message", "extra"}
        assert side_effects() == 1

    def test_same_key_on_another_path_is_a_409(self, client: Client) -> None:
        post(client, "/things", {"name": "a"}, key="k")
        response = post(client, "/refused-things", {"name": "a"}, key="k")
        assert response.json()["code"] == "idempotency_key_reused"

    @pytest.mark.parametrize(
        "key", ["", "x" * 256, "密钥", " leading", "trailing ", "tab\tinside", "\x7f"]
    )
    def test_malformed_key_is_a_400(self, client: Client, key: str) -> None:
        response = post(client, "/things", {"name": "a"}, key=key)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_idempotency_key"
        assert side_effects() == 0

    @pytest.mark.parametrize("key", ["a", "x" * 255, "order 42/retry:1", "~!@#$%^&*()"])
    def test_well_formed_keys_are_accepted(self, client: Client, key: str) -> None:
        assert post(client, "/things", {"name": "a"}, key=key).status_code == 201

    def test_required_key_missing_is_a_400(self, client: Client) -> None:
        response = post(client, "/strict-things", {"name": "a"})
        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_required"
        assert post(client, "/strict-things", {"name": "a"}, key="s").status_code == 201
        assert (
            post(client, "/strict-things", {"name": "a"}, key="s")["Idempotent-Replayed"] == "true"
        )
        assert side_effects() == 1

    def test_invalid_payload_does_not_claim_the_key(self, client: Client) -> None:
        assert post(client, "/things", {"nope": 1}, key="k").status_code == 422
        assert not IdempotencyRecord.objects.exists()
        assert post(client, "/things", {"name": "a"}, key="k").status_code == 201

    def test_a_request_still_in_progress_is_a_409(self, client: Client) -> None:
        body = json.dumps({"name": "a"}).encode()
        idempotency_begin(
            scope="anon",
            key="busy",
            method="POST",
            path="/api/things",
            request_hash=idempotency_request_hash(method="POST", path="/api/things", body=body),
        )
        response = post(client, "/things", {"name": "a"}, key="busy")
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_request_in_progress"
        assert side_effects() == 0

    def test_a_stale_in_progress_request_is_taken_over(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        body = json.dumps({"name": "a"}).encode()
        idempotency_begin(
            scope="anon",
            key="abandoned",
            method="POST",
            path="/api/things",
            request_hash=idempotency_request_hash(method="POST", path="/api/things", body=body),
        )
        later = clock.now() + STALE_AFTER + timedelta(seconds=1)
        monkeypatch.setattr(clock, "now", lambda: later)

        response = post(client, "/things", {"name": "a"}, key="abandoned")

        assert response.status_code == 201
        assert side_effects() == 1
        assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.COMPLETED

    def test_an_expired_key_is_a_fresh_key(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        post(client, "/things", {"name": "a"}, key="old")
        later = clock.now() + RECORD_TTL + timedelta(seconds=1)
        monkeypatch.setattr(clock, "now", lambda: later)

        response = post(client, "/things", {"name": "b"}, key="old")

        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
        assert side_effects() == 2


@pytest.mark.django_db
class TestServerErrors:
    def test_5xx_is_not_stored_so_a_retry_runs_the_view_again(self, client: Client) -> None:
        Flaky.failures = 1
        first = post(client, "/flaky-things", {"name": "a"}, key="flaky")
        assert first.status_code == 503
        assert not IdempotencyRecord.objects.exists()

        again = post(client, "/flaky-things", {"name": "a"}, key="flaky")

        assert again.status_code == 201
        assert "Idempotent-Replayed" not in again
        assert side_effects() == 2
        assert (
            post(client, "/flaky-things", {"name": "a"}, key="flaky")["Idempotent-Replayed"]
            == "true"
        )

    def test_an_unhandled_exception_releases_the_key(self) -> None:
        client = Client(raise_request_exception=False)
        assert post(client, "/crashing-things", {"name": "a"}, key="crash").status_code == 500
        assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
class TestScopes:
    def test_users_keys_do_not_collide(self, client: Client) -> None:
        alice = post(client, "/user-things", {"name": "a"}, key="same", HTTP_X_TEST_USER="1")
        bob = post(client, "/user-things", {"name": "a"}, key="same", HTTP_X_TEST_USER="2")
        alice_again = post(client, "/user-things", {"name": "a"}, key="same", HTTP_X_TEST_USER="1")

        assert alice.status_code == bob.status_code == 201
        assert "Idempotent-Replayed" not in bob
        assert alice_again["Idempotent-Replayed"] == "true"
        assert alice_again.content == alice.content
        assert side_effects() == 2
        assert set(IdempotencyRecord.objects.values_list("scope", flat=True)) == {
            "user:1",
            "user:2",
        }

    def test_failed_authentication_does_not_claim_the_key(self, client: Client) -> None:
        response = post(client, "/user-things", {"name": "a"}, key="k", HTTP_X_TEST_USER="nobody")
        assert response.status_code == 401
        assert not IdempotencyRecord.objects.exists()


def test_the_header_is_documented_in_openapi() -> None:
    schema = api.get_openapi_schema()
    for route in ("/api/things", "/api/strict-things", "/api/user-things"):
        operation = schema["paths"][route]["post"]
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [p["name"] for p in headers] == [IDEMPOTENCY_HEADER], route
        assert headers[0]["schema"]["maxLength"] == 255
        responses = json.loads(json.dumps(operation["responses"]))  # as clients see it
        assert set(responses) == {"201", "409"}  # the route's own responses are kept


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_run_the_view_exactly_once() -> None:
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    outcomes: list[tuple[int, str, bytes]] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            client = Client()
            barrier.wait()
            response = post(client, "/things", {"name": "并发", "delay_ms": 300}, key="race")
            code = response.json().get("code", "") if response.status_code == 409 else ""
            kind = "replay" if response.get("Idempotent-Replayed") == "true" else code or "fresh"
            with lock:
                outcomes.append((response.status_code, kind, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    kinds = Counter(kind for _status, kind, _body in outcomes)
    assert len(outcomes) == threads_count
    assert kinds["fresh"] == 1, kinds
    assert set(kinds) <= {"fresh", "replay", "idempotency_request_in_progress"}, kinds
    assert side_effects() == 1
    fresh_body = next(body for _s, kind, body in outcomes if kind == "fresh")
    assert all(body == fresh_body for _s, kind, body in outcomes if kind == "replay")


@pytest.mark.django_db
class TestInTransactionMode:
    """``@idempotent(in_transaction=True)``: the answer is stored with the effect; refusals
    are not stored but a retry of a success still replays it."""

    def test_success_is_stored_with_the_effect_and_replayed(self, client: Client) -> None:
        first = post(client, "/tx-things", {"name": "茶盏"}, key="t-1")
        assert first.status_code == 201, first.content
        again = post(client, "/tx-things", {"name": "茶盏"}, key="t-1")
        assert again.status_code == 201 and again.content == first.content
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
        assert side_effects() == 1
        record = IdempotencyRecord.objects.get()
        assert record.state == IdempotencyRecord.State.COMPLETED
        assert record.response_status == 201

    def test_a_refusal_is_not_stored_and_a_new_key_is_refused(self, client: Client) -> None:
        post(client, "/tx-things", {"name": "a"}, key="t-1")
        refused = post(client, "/tx-things", {"name": "a"}, key="t-2")
        assert refused.status_code == 409 and refused.json()["code"] == "thing_exists"
        assert "Idempotent-Replayed" not in refused
        assert IdempotencyRecord.objects.count() == 1  # only the success
        assert side_effects() == 1

    def test_same_key_other_body_is_rejected(self, client: Client) -> None:
        post(client, "/tx-things", {"name": "a"}, key="t-1")
        reused = post(client, "/tx-things", {"name": "b"}, key="t-1")
        assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
        assert side_effects() == 1  # b rolled back with the conflicting record

    def test_required_key_and_no_write_before_the_view(self, client: Client) -> None:
        missing = post(client, "/tx-things", {"name": "a"})
        assert missing.status_code == 400
        assert missing.json()["code"] == "idempotency_key_required"
        assert not IdempotencyRecord.objects.exists() and side_effects() == 0

    def test_an_expired_record_does_not_block_its_key(self, client: Client) -> None:
        post(client, "/tx-things", {"name": "a"}, key="t-1")
        IdempotencyRecord.objects.update(expires_at=clock.now() - timedelta(seconds=1))
        fresh = post(client, "/tx-things", {"name": "b"}, key="t-1")
        assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
        assert side_effects() == 2
        record = IdempotencyRecord.objects.get()
        assert json.loads(bytes(record.response_body))["name"] == "b"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_in_transaction_mode_concurrent_retries_take_effect_once() -> None:
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    outcomes: list[tuple[int, str, bytes]] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            client = Client()
            barrier.wait()
            response = post(client, "/tx-things", {"name": "并发", "delay_ms": 200}, key="race")
            code = response.json().get("code", "") if response.status_code == 409 else ""
            kind = "replay" if response.get("Idempotent-Replayed") == "true" else code or "fresh"
            with lock:
                outcomes.append((response.status_code, kind, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    kinds = Counter(kind for _status, kind, _body in outcomes)
    assert len(outcomes) == threads_count
    assert kinds["fresh"] == 1, kinds
    assert set(kinds) <= {"fresh", "replay"}, kinds
    assert side_effects() == 1
    fresh_body = next(body for _s, kind, body in outcomes if kind == "fresh")
    assert all(body == fresh_body for _s, kind, body in outcomes if kind == "replay")
