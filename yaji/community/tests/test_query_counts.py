"""The post page and the post API answer in a number of queries that does not grow with the
post's comments, replies, pictures or reactions (N+1 regressions fail here)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.community import services
from yaji.community.tests.factories import PASSWORD, UserFactory, image_upload, post_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_cache_off")]


def _count(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(captured)


def _busy(post_id: int, people: int) -> None:
    for i in range(people):
        fan = UserFactory()
        top = services.comment_create(author=fan, post_id=post_id, text=f"第 {i} 条评论")
        services.comment_create(
            author=UserFactory(), post_id=post_id, text="回复", parent_id=top.pk
        )
        services.like_add(user=fan, post_id=post_id)


@pytest.mark.parametrize("signed_in", [False, True])
def test_post_page_query_count_is_constant(signed_in: bool) -> None:
    quiet = post_make(text="安静的一条 #苏绣", images=[image_upload()])
    busy = post_make(text="热闹的一条 #苏绣", images=[image_upload(), image_upload()])
    _busy(busy.pk, 2)
    client = Client()
    if signed_in:
        viewer = UserFactory()
        assert client.login(username=viewer.email, password=PASSWORD)
    _count(client, f"/posts/{quiet.pk}/")  # warm: session, first-use lookups
    few = _count(client, f"/posts/{busy.pk}/")
    _busy(busy.pk, 6)
    many = _count(client, f"/posts/{busy.pk}/")
    assert many == few
    # without comments the replies query is skipped: one fewer, never more
    assert _count(client, f"/posts/{quiet.pk}/") in (few, few - 1)


def test_post_api_query_count_is_constant() -> None:
    from yaji.community.tests.test_api_and_pages import Api

    busy = post_make(text="API #苏绣", images=[image_upload()])
    api = Api(UserFactory())
    services.comment_create(author=UserFactory(), post_id=busy.pk, text="第一条")
    api.get(f"/posts/{busy.pk}/comments")  # warm
    with CaptureQueriesContext(connection) as few:
        api.get(f"/posts/{busy.pk}/comments")
    _busy(busy.pk, 5)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(f"/posts/{busy.pk}/comments").json()["threads"]) == 6
    assert len(many) == len(few)
