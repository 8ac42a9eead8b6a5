"""The moderation API: stable error codes and who may call what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yaji.accounts.models import Role
from yaji.core.models import OutboxEvent
from yaji.moderation.models import ModerationItem
from yaji.moderation.tests.factories import (
    PASSWORD,
    UserFactory,
    blocked_item,
    held_item,
    reviewer_user,
    screened,
)

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

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path: str, data: dict | None = None) -> Any:
        return self.client.post(
            f"/api/v1{path}", data or {}, content_type="application/json", headers=self.headers
        )


def test_anonymous_gets_401_everywhere() -> None:
    api = Api()
    item = held_item()
    for response in (
        api.get("/moderation/queue"),
        api.get("/moderation/items/mine"),
        api.get(f"/moderation/items/{item.pk}"),
        api.post(
            "/moderation/reports", {"kind": item.kind, "object_id": item.object_id, "reason": "x"}
        ),
        api.post(f"/moderation/items/{item.pk}/decision", {"decision": "approve"}),
        api.post(f"/moderation/items/{item.pk}/appeal", {"reason": "x"}),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_non_reviewers_get_403_on_queue_item_and_decision() -> None:
    item = held_item()
    api = Api(UserFactory())
    for response in (
        api.get("/moderation/queue"),
        api.get(f"/moderation/items/{item.pk}"),
        api.post(f"/moderation/items/{item.pk}/decision", {"decision": "approve"}),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
    item.refresh_from_db()
    assert item.status == "held"


def test_reviewer_reads_the_queue_and_decides() -> None:
    item = held_item()
    api = Api(reviewer_user())
    body = api.get("/moderation/queue").json()
    assert body["total"] == 1 and body["next_cursor"] is None
    row = body["items"][0]
    assert (row["id"], row["status"], row["matches"], row["overdue"]) == (
        item.pk,
        "held",
        ["百家乐"],
        False,
    )
    assert 71 * 3600 < row["seconds_left"] <= 72 * 3600

    detail = api.get(f"/moderation/items/{item.pk}").json()
    assert [entry["action"] for entry in detail["log"]] == ["screen"]

    response = api.post(f"/moderation/items/{item.pk}/decision", {"decision": "approve"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "visible"
    assert OutboxEvent.objects.filter(
        topic="moderation.decided",
        payload={"kind": item.kind, "object_id": item.object_id, "status": "visible"},
    ).exists()

    again = api.post(f"/moderation/items/{item.pk}/decision", {"decision": "block", "reason": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "moderation_not_pending")


def test_decision_errors() -> None:
    item = held_item()
    api = Api(reviewer_user(role=Role.OPERATOR))
    no_reason = api.post(f"/moderation/items/{item.pk}/decision", {"decision": "block"})
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "moderation_reason_required")
    bad = api.post(f"/moderation/items/{item.pk}/decision", {"decision": "delete"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    missing = api.post("/moderation/items/999999999/decision", {"decision": "approve"})
    assert (missing.status_code, missing.json()["code"]) == (404, "moderation_item_not_found")
    cursor = api.get("/moderation/queue?cursor=garbage")
    assert (cursor.status_code, cursor.json()["code"]) == (422, "invalid_cursor")


def test_report_endpoint(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MODERATION_REPORT_HOLD_THRESHOLD = 2
    author = UserFactory()
    item = screened("宋代风格", author=author)
    body = {"kind": item.kind, "object_id": item.object_id, "reason": "疑似广告"}

    first = Api(UserFactory()).post("/moderation/reports", body)
    assert first.status_code == 201, first.content
    assert first.json()["object_id"] == item.object_id

    reporter = Api(UserFactory())
    assert reporter.post("/moderation/reports", body).status_code == 201
    item.refresh_from_db()
    assert item.status == "held"
    twice = reporter.post("/moderation/reports", body)
    assert (twice.status_code, twice.json()["code"]) == (409, "moderation_already_reported")

    own = Api(author).post("/moderation/reports", body)
    assert (own.status_code, own.json()["code"]) == (400, "moderation_cannot_report_own")
    unknown = reporter.post("/moderation/reports", {**body, "object_id": 123456789})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "moderation_item_not_found")
    bad_kind = reporter.post("/moderation/reports", {**body, "kind": "no dots here"})
    assert (bad_kind.status_code, bad_kind.json()["code"]) == (422, "validation_error")
    empty = reporter.post("/moderation/reports", {**body, "reason": ""})
    assert (empty.status_code, empty.json()["code"]) == (422, "validation_error")


def test_appeal_endpoint_and_my_items() -> None:
    author = UserFactory()
    item = blocked_item(author=author)
    held = held_item(author=author)
    screened("宋代风格", author=author)
    api = Api(author)

    mine = api.get("/moderation/items/mine").json()
    assert [(row["id"], row["can_appeal"]) for row in mine] == [(held.pk, False), (item.pk, True)]
    assert "matches" not in mine[0]  # authors do not see which word matched

    stranger = Api(UserFactory()).post(f"/moderation/items/{item.pk}/appeal", {"reason": "x"})
    assert (stranger.status_code, stranger.json()["code"]) == (404, "moderation_item_not_found")

    response = api.post(f"/moderation/items/{item.pk}/appeal", {"reason": "这是原创作品"})
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "pending"
    again = api.post(f"/moderation/items/{item.pk}/appeal", {"reason": "再来"})
    assert (again.status_code, again.json()["code"]) == (409, "moderation_already_appealed")
    not_blocked = api.post(f"/moderation/items/{held.pk}/appeal", {"reason": "x"})
    assert (not_blocked.status_code, not_blocked.json()["code"]) == (409, "moderation_not_blocked")

    queue = Api(reviewer_user()).get("/moderation/queue").json()
    assert {row["id"] for row in queue["items"]} == {item.pk, held.pk}
    appealed = next(row for row in queue["items"] if row["id"] == item.pk)
    assert (appealed["queue_reason"], appealed["appeal_reason"]) == ("appeal", "这是原创作品")
    assert ModerationItem.objects.get(pk=item.pk).status == "blocked"
