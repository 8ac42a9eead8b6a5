"""The works API and the site pages: status codes, error codes, idempotency, the player page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from yaji.community.models import PlaySession, Work
from yaji.community.tests.factories import (
    PASSWORD,
    FakeClock,
    UserFactory,
    audio_work,
    creator_user,
    fake_mp3_upload,
    wav_upload,
)
from yaji.core import clock

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, user: Any = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            response = self.client.post(
                "/api/v1/auth/login",
                {"identifier": user.email, "password": PASSWORD, "device_id": "t-1"},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def post(self, path: str, data: Any = None, *, json: bool = True, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **headers}}
        if json:
            kwargs["content_type"] = "application/json"
        return self.client.post(f"/api/v1{path}", data or {}, **kwargs)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers)


def work_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "牡丹亭·皂罗袍",
        "kind": "audio",
        "description": "原来姹紫嫣红开遍",
        "tags": "昆曲",
    }
    data["media"] = wav_upload(1.5)
    data.update(overrides)
    return data


def test_creator_publishes_over_api_idempotently() -> None:
    api = Api(creator_user())
    first = api.post("/works", work_form(), json=False, **{"Idempotency-Key": "w-1"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["media_format"] == "wav" and body["duration_ms"] == 1_500
    assert body["tags"] == ["昆曲"]
    again = api.post("/works", work_form(), json=False, **{"Idempotency-Key": "w-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == body["id"]
    assert Work.objects.count() == 1
    shown = Api().get(f"/works/{body['id']}")
    assert shown.status_code == 200 and shown.json()["title"] == "牡丹亭·皂罗袍"


def test_api_rejects_bad_uploads_with_codes() -> None:
    api = Api(creator_user())
    fake = api.post("/works", work_form(media=fake_mp3_upload()), json=False)
    assert (fake.status_code, fake.json()["code"]) == (422, "invalid_media")
    missing = api.post("/works", {"title": "x", "kind": "audio"}, json=False)
    assert (missing.status_code, missing.json()["code"]) == (422, "validation_error")
    bad_kind = api.post("/works", work_form(kind="poem"), json=False)
    assert (bad_kind.status_code, bad_kind.json()["code"]) == (422, "unsupported_work_kind")
    assert not Work.objects.exists()


def test_non_creator_gets_403_and_anonymous_401() -> None:
    response = Api(UserFactory()).post("/works", work_form(), json=False)
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    anonymous = Api().post("/works", work_form(), json=False)
    assert anonymous.status_code == 401
    assert not Work.objects.exists()


def test_unknown_work_is_404() -> None:
    response = Api().get("/works/999999")
    assert (response.status_code, response.json()["code"]) == (404, "work_not_found")
    assert Api(UserFactory()).post("/works/999999/plays").status_code == 404


def test_play_and_heartbeat_over_api(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeClock(datetime(2026, 5, 1, 20, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    work = audio_work(duration_ms=10_000)
    listener = UserFactory()
    api = Api(listener)
    started = api.post(f"/works/{work.pk}/plays")
    assert started.status_code == 201, started.content
    token = started.json()["token"]
    fake.advance(5)
    half = api.post("/plays/heartbeat", {"token": token, "position_ms": 5_000})
    assert half.json() == {
        "listened_ms": 5_000,
        "coverage_pct": 50.0,
        "completed": False,
        "max_position_ms": 5_000,
    }
    fake.advance(5)
    done = api.post("/plays/heartbeat", {"token": token, "position_ms": 10_000})
    assert done.status_code == 200 and done.json()["completed"] is True

    # another user's token, a negative position, a missing token
    other = Api(UserFactory())
    stolen = other.post("/plays/heartbeat", {"token": token, "position_ms": 1_000})
    assert (stolen.status_code, stolen.json()["code"]) == (404, "play_not_found")
    negative = api.post("/plays/heartbeat", {"token": token, "position_ms": -5})
    assert (negative.status_code, negative.json()["code"]) == (422, "validation_error")
    assert api.post("/plays/heartbeat", {"position_ms": 5}).status_code == 422
    fake.advance(2 * 10 + 10 * 60 + 1)  # duration × 2 + 10 min
    expired = api.post("/plays/heartbeat", {"token": token, "position_ms": 10_000})
    assert (expired.status_code, expired.json()["code"]) == (410, "play_expired")
    assert PlaySession.objects.count() == 1


def test_play_page_has_the_player(client: Client) -> None:
    work = audio_work()
    client.force_login(UserFactory())
    response = client.get(f"/works/{work.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<audio" in html and "community/player.js" in html
    assert f"/api/v1/works/{work.pk}/plays" in html
    assert "已完整收听 ✓" in html  # hidden until complete
    assert client.get("/works/999999/").status_code == 404


def test_upload_page(client: Client) -> None:
    assert client.get("/works/new/").status_code == 302  # to login
    client.force_login(UserFactory())
    assert client.get("/works/new/").status_code == 403
    client.force_login(creator_user())
    assert client.get("/works/new/").status_code == 200
    bad = client.post("/works/new/", work_form(media=fake_mp3_upload()))
    assert bad.status_code == 200 and "作品文件无法识别" in bad.content.decode()
    response = client.post("/works/new/", work_form())
    work = Work.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/works/{work.pk}/"


def test_play_page_in_english(client: Client) -> None:
    work = audio_work()
    client.cookies["django_language"] = "en"
    response = client.get(f"/works/{work.pk}/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Listened in full" in response.content.decode()
