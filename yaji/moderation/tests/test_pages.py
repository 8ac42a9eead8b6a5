"""The queue, item and "mine" pages: 404 for non-reviewers, decisions, appeals, reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from yaji.core import clock
from yaji.moderation.models import Appeal, ModerationItem
from yaji.moderation.tests.factories import (
    UserFactory,
    blocked_item,
    held_item,
    reviewer_user,
    screened,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_queue_page_is_404_for_non_reviewers_and_login_for_anonymous() -> None:
    item = held_item()
    assert Client().get("/moderation/queue/").status_code == 302
    user = client_for(UserFactory())
    assert user.get("/moderation/queue/").status_code == 404
    assert user.get(f"/moderation/items/{item.pk}/").status_code == 404
    assert user.post(f"/moderation/items/{item.pk}/", {"decision": "approve"}).status_code == 404
    item.refresh_from_db()
    assert item.status == "held"


def test_queue_page_shows_time_left_and_overdue(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start - timedelta(hours=75))
    old = held_item()
    monkeypatch.setattr(clock, "now", lambda: start)
    new = held_item()
    html = client_for(reviewer_user()).get("/moderation/queue/").content.decode()
    assert html.index(f'data-item-id="{old.pk}"') < html.index(f'data-item-id="{new.pk}"')
    assert "已超时 3 小时" in html and "is-overdue" in html
    assert "剩余 71 小时" in html or "剩余 72 小时" in html
    assert "<mark>百家乐</mark>" in html
    assert "敏感词：赌博" in html


def test_reviewer_approves_and_blocks_from_the_page() -> None:
    reviewer = client_for(reviewer_user())
    first, second = held_item(), held_item()
    response = reviewer.post(f"/moderation/items/{first.pk}/", {"decision": "approve"})
    assert response.status_code == 302 and response["Location"] == "/moderation/queue/"
    # Block without a reason re-renders the item page with the error.
    response = reviewer.post(f"/moderation/items/{second.pk}/", {"decision": "block"})
    assert response.status_code == 200 and "请填写原因" in response.content.decode()
    reviewer.post(f"/moderation/items/{second.pk}/", {"decision": "block", "reason": "赌博"})
    statuses = dict(ModerationItem.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk]) == ("visible", "blocked")
    page = reviewer.get(f"/moderation/items/{second.pk}/").content.decode()
    assert "审核屏蔽" in page and "赌博" in page


def test_author_appeals_from_my_page() -> None:
    author = UserFactory()
    item = blocked_item(author=author)
    client = client_for(author)
    assert "申诉" in client.get("/moderation/mine/").content.decode()
    response = client.post("/moderation/mine/", {"item_id": item.pk, "reason": "原创"})
    assert response.status_code == 302
    assert Appeal.objects.get(item=item).reason == "原创"
    # Someone else's item: 404, nothing recorded.
    other = blocked_item()
    assert client.post("/moderation/mine/", {"item_id": other.pk, "reason": "x"}).status_code == 404
    assert not Appeal.objects.filter(item=other).exists()


def test_report_form_redirects_back_safely(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MODERATION_REPORT_HOLD_THRESHOLD = 1
    item = screened("宋代风格")
    client = client_for(UserFactory())
    response = client.post(
        "/moderation/report/",
        {"kind": item.kind, "object_id": item.object_id, "reason": "广告", "next": "/shops/"},
    )
    assert response["Location"] == "/shops/"
    item.refresh_from_db()
    assert item.status == "held"
    evil = client.post(
        "/moderation/report/",
        {
            "kind": item.kind,
            "object_id": item.object_id,
            "reason": "x",
            "next": "https://evil.example/",
        },
    )
    assert evil["Location"] == "/"
