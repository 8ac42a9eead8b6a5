"""The social API and pages: status codes, stable error codes, permissions, cursors, HTMX."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.community import selectors, services
from yaji.community.models import Notification, Post, Share
from yaji.community.tests.factories import (
    PASSWORD,
    UserFactory,
    image_upload,
    post_make,
)
from yaji.community.tests.test_api_and_pages import Api

pytestmark = pytest.mark.django_db


def _delete(api: Api, path: str):  # type: ignore[no-untyped-def]
    return api.client.delete(f"/api/v1{path}", headers=api.headers)


def test_follow_over_api_with_counts_and_codes() -> None:
    fan, star = UserFactory(), UserFactory()
    api = Api(fan)
    first = api.post(f"/people/{star.pk}/follow")
    assert first.status_code == 200, first.content
    assert first.json() == {"following": True, "changed": True, "followers": 1}
    assert api.post(f"/people/{star.pk}/follow").json()["changed"] is False
    card = api.get(f"/people/{star.pk}").json()
    assert (card["followers"], card["following"], card["is_following"]) == (1, 0, True)
    assert Api().get(f"/people/{star.pk}").json()["is_following"] is False
    assert api.get(f"/people/{star.pk}/followers").json()["items"][0]["id"] == fan.pk
    self_follow = api.post(f"/people/{fan.pk}/follow")
    assert (self_follow.status_code, self_follow.json()["code"]) == (422, "cannot_follow_self")
    missing = api.post("/people/999999999/follow")
    assert (missing.status_code, missing.json()["code"]) == (404, "user_not_found")
    assert Api().post(f"/people/{star.pk}/follow").status_code == 401
    gone = _delete(api, f"/people/{star.pk}/follow")
    assert gone.json() == {"following": False, "changed": True, "followers": 0}


def test_post_create_over_api_multipart_idempotent_and_bad_input() -> None:
    author = UserFactory()
    api = Api(author)
    data = {"text": "新作 #苏绣", "topics": "非遗", "images": [image_upload(), image_upload()]}
    created = api.post("/posts", data, json=False, **{"Idempotency-Key": "p-1"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "visible" and len(body["images"]) == 2
    assert sorted(t["name"] for t in body["topics"]) == ["苏绣", "非遗"]
    again = api.post(
        "/posts",
        {"text": "新作 #苏绣", "topics": "非遗", "images": [image_upload(), image_upload()]},
        json=False,
        **{"Idempotency-Key": "p-1"},
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Post.objects.count() == 1

    empty = api.post("/posts", {"text": ""}, json=False)
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_post")
    fake = api.post(
        "/posts", {"text": "x", "images": [image_upload(width=4, height=4)]}, json=False
    )
    assert fake.json()["code"] == "invalid_post_image"
    tagged = api.post("/posts", {"text": "x", "product_ids": "999999"}, json=False)
    assert (tagged.status_code, tagged.json()["code"]) == (422, "unknown_tagged_item")
    bad_ids = api.post("/posts", {"text": "x", "work_ids": "1;2"}, json=False)
    assert bad_ids.status_code == 422
    assert Api().post("/posts", {"text": "x"}, json=False).status_code == 401
    assert Post.objects.count() == 1


def test_others_cannot_delete_and_deleted_posts_are_gone() -> None:
    author, other = UserFactory(), UserFactory()
    post = post_make(author)
    denied = _delete(Api(other), f"/posts/{post.pk}")
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert _delete(Api(author), f"/posts/{post.pk}").status_code == 204
    shown = Api().get(f"/posts/{post.pk}")
    assert (shown.status_code, shown.json()["code"]) == (404, "post_not_found")
    comment = Api(other).post(f"/posts/{post.pk}/comments", {"text": "还在吗"})
    assert (comment.status_code, comment.json()["code"]) == (404, "post_not_found")


def test_comments_threads_and_reactions_over_api() -> None:
    author, fan = UserFactory(), UserFactory()
    post = post_make(author)
    api = Api(fan)
    top = api.post(f"/posts/{post.pk}/comments", {"text": "好看"})
    assert top.status_code == 201, top.content
    reply = Api(author).post(
        f"/posts/{post.pk}/comments", {"text": "谢谢", "parent_id": top.json()["id"]}
    )
    assert reply.json()["root_id"] == top.json()["id"]
    threads = Api().get(f"/posts/{post.pk}/comments").json()["threads"]
    assert [r["text"] for r in threads[0]["replies"]] == ["谢谢"]
    blank = api.post(f"/posts/{post.pk}/comments", {"text": ""})
    assert blank.status_code == 422
    stranger_delete = _delete(Api(UserFactory()), f"/comments/{top.json()['id']}")
    assert (stranger_delete.status_code, stranger_delete.json()["code"]) == (
        403,
        "permission_denied",
    )

    liked = api.post(f"/posts/{post.pk}/like")
    assert liked.json() == {"active": True, "changed": True, "count": 1}
    assert api.post(f"/posts/{post.pk}/like").json()["changed"] is False
    assert api.get(f"/posts/{post.pk}").json()["liked"] is True
    assert _delete(api, f"/posts/{post.pk}/like").json() == {
        "active": False,
        "changed": True,
        "count": 0,
    }
    saved = api.post(f"/posts/{post.pk}/favourite")
    assert saved.json()["count"] == 1
    assert [p["id"] for p in api.get("/me/favourites").json()["items"]] == [post.pk]
    missing = api.post("/posts/999999999/like")
    assert (missing.status_code, missing.json()["code"]) == (404, "post_not_found")


def test_share_code_over_api_and_the_share_link_remembers_it() -> None:
    post = post_make()
    sharer = UserFactory()
    made = Api(sharer).post(f"/posts/{post.pk}/shares", {"channel": "wechat"})
    assert made.status_code == 201, made.content
    code = made.json()["code"]
    assert made.json()["url"].endswith(f"/s/{code}/")
    resolved = Api().get(f"/shares/{code}").json()
    assert (resolved["post_id"], resolved["sharer_id"]) == (post.pk, sharer.pk)
    assert Api().get("/shares/NOSUCHCODE").json()["code"] == "share_not_found"

    visitor = Client()
    opened = visitor.get(f"/s/{code}/")
    assert opened.status_code == 302 and opened["Location"] == f"/posts/{post.pk}/"
    assert visitor.session[selectors.REFERRAL_SESSION_KEY] == code
    assert Share.objects.get(code=code).opened_count == 1
    assert visitor.get("/s/NOSUCHCODE/").status_code == 404


def test_feeds_over_api_with_cursor_and_bad_cursor() -> None:
    me, star = UserFactory(), UserFactory()
    services.follow_add(follower=me, followee_id=star.pk)
    ids = [post_make(star, f"#昆曲 第{i}条").pk for i in range(3)]
    api = Api(me)
    first = api.get("/feed/following?limit=2").json()
    assert [p["id"] for p in first["items"]] == ids[::-1][:2]
    rest = api.get(f"/feed/following?limit=2&cursor={first['next_cursor']}").json()
    assert [p["id"] for p in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    bad = api.get("/feed/following?cursor=!!!")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
    assert Api().get("/feed/following").status_code == 401
    trending = Api().get("/feed/trending").json()
    assert trending["page"] == 1 and len(trending["items"]) == 3
    topic = Api().get("/topics/昆曲/posts").json()
    assert [p["id"] for p in topic["items"]] == ids[::-1]
    assert Api().get("/topics/无此话题").json()["code"] == "topic_not_found"
    assert [t["name"] for t in Api().get("/topics").json()] == ["昆曲"]


def test_topic_upsert_is_for_operators() -> None:
    denied = Api(UserFactory()).post("/topics", {"name": "苏绣", "description": "针尖上的江南"})
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    staff = UserFactory(is_staff=True)
    made = Api(staff).post("/topics", {"name": "#苏绣", "description": "针尖上的江南"})
    assert made.status_code == 200 and made.json()["name"] == "苏绣"
    bad = Api(staff).post("/topics", {"name": "有 空格"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_topic")


def test_notifications_over_api() -> None:
    me = UserFactory()
    post = post_make(me)
    services.like_add(user=UserFactory(), post_id=post.pk)
    services.follow_add(follower=UserFactory(), followee_id=me.pk)
    api = Api(me)
    inbox = api.get("/notifications").json()
    assert inbox["unread"] == 2 and [n["kind"] for n in inbox["items"]] == ["follow", "like"]
    assert api.get("/notifications/unread").json() == {"unread": 2}
    other = Api(UserFactory())
    assert other.post("/notifications/read", {"ids": [inbox["items"][0]["id"]]}).json() == {
        "marked": 0,
        "unread": 0,
    }
    assert api.post("/notifications/read", {"ids": [inbox["items"][0]["id"]]}).json() == {
        "marked": 1,
        "unread": 1,
    }
    assert api.post("/notifications/read", {}).json() == {"marked": 1, "unread": 0}
    assert api.post("/notifications/read", {"ids": [0]}).status_code == 422


# --- pages ---------------------------------------------------------------------------------------


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_pages_render_for_visitors_and_members() -> None:
    author = UserFactory(display_name="周清音")
    post = post_make(author, "游园惊梦 #昆曲 <script>alert(1)</script>")
    services.comment_create(author=UserFactory(), post_id=post.pk, text="好听")
    visitor = Client()
    for url in (
        "/feed/",
        f"/posts/{post.pk}/",
        f"/people/{author.pk}/",
        "/topics/",
        "/topics/昆曲/",
    ):
        response = visitor.get(url)
        assert response.status_code == 200, url
    detail = visitor.get(f"/posts/{post.pk}/").content.decode()
    assert "&lt;script&gt;" in detail and "<script>alert" not in detail
    assert 'href="/topics/%E6%98%86%E6%9B%B2/"' in detail or 'href="/topics/昆曲/"' in detail
    assert visitor.get("/notifications/").status_code == 302  # sign in first
    assert visitor.get("/posts/999999/").status_code == 404
    member = _signed_in(author)
    for url in ("/feed/", "/feed/?tab=following", "/posts/new/", "/notifications/"):
        assert member.get(url).status_code == 200, url


def test_composer_page_publishes_and_shows_errors() -> None:
    author = UserFactory()
    client = _signed_in(author)
    bad = client.post("/posts/new/", {"text": ""})
    assert bad.status_code == 200 and "写点什么" in bad.content.decode()
    done = client.post(
        "/posts/new/", {"text": "新绣 #苏绣", "topics": "非遗", "images": [image_upload()]}
    )
    post = Post.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/posts/{post.pk}/"
    assert post.images.count() == 1 and post.topics.count() == 2


def test_htmx_like_follow_and_comment_return_fragments() -> None:
    author, fan = UserFactory(), UserFactory()
    post = post_make(author)
    client = _signed_in(fan)
    htmx = {"HX-Request": "true"}
    liked = client.post(f"/posts/{post.pk}/like/", {"on": "1"}, headers=htmx)
    assert liked.status_code == 200 and 'data-testid="like-count">1<' in liked.content.decode()
    assert "<html" not in liked.content.decode()
    followed = client.post(f"/people/{author.pk}/follow/", {"on": "1"}, headers=htmx)
    assert 'data-testid="followers">1<' in followed.content.decode()
    commented = client.post(f"/posts/{post.pk}/comments/", {"text": "好"}, headers=htmx)
    assert commented.status_code == 200 and 'id="comments"' in commented.content.decode()
    empty = client.post(f"/posts/{post.pk}/comments/", {"text": ""}, headers=htmx)
    assert empty.status_code == 422
    assert client.post(f"/posts/{post.pk}/bogus/", {"on": "1"}).status_code == 404
    assert client.post("/posts/999999/like/", {"on": "1"}).status_code == 404
    kinds = sorted(Notification.objects.filter(recipient=author).values_list("kind", flat=True))
    assert kinds == ["comment", "follow", "like"]
    inbox = _signed_in(author).get("/notifications/").content.decode()
    assert "3 条未读" in inbox


def test_feed_load_more_uses_the_cursor() -> None:
    me, star = UserFactory(), UserFactory()
    services.follow_add(follower=me, followee_id=star.pk)
    for i in range(25):
        post_make(star, f"第{i}条")
    client = _signed_in(me)
    page = client.get("/feed/?tab=following").content.decode()
    assert page.count('data-testid="post"') == 20 and 'data-testid="load-more"' in page
    cursor = page.split("cursor=")[1].split('"')[0]
    more = client.get(f"/feed/?tab=following&cursor={cursor}", headers={"HX-Request": "true"})
    assert more.content.decode().count('data-testid="post"') == 5
    assert client.get("/feed/?tab=following&cursor=%%%").status_code == 404


def test_held_post_page_shows_the_author_it_is_under_review(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.community.tests.factories import Screen

    monkeypatch.setattr(services, "moderation_screen", Screen("held"))
    author = UserFactory()
    post = post_make(author, "待审")
    page = _signed_in(author).get(f"/posts/{post.pk}/").content.decode()
    assert "审核中" in page
    assert _signed_in(UserFactory()).get(f"/posts/{post.pk}/").status_code == 404


def test_control_characters_and_malformed_keys_are_4xx_not_5xx() -> None:
    author = UserFactory()
    api = Api(author)
    post = post_make(author)
    nul_post = api.post("/posts", {"text": "a\x00b"}, json=False)
    assert (nul_post.status_code, nul_post.json()["code"]) == (422, "invalid_post")
    nul_comment = api.post(f"/posts/{post.pk}/comments", {"text": "a\x00b"})
    assert nul_comment.json()["code"] == "invalid_comment"
    assert api.post("/posts", {"text": "x", "topics": "a\x00b"}, json=False).status_code == 422
    assert Api().get("/shares/AB%00CD").status_code == 404
    assert Api().get("/topics/a%00b").status_code == 404
    assert Api().get("/topics/a%00b/posts").status_code == 404
    share = api.post(f"/posts/{post.pk}/shares", {"channel": "we\x00chat<>"})
    assert share.status_code == 201
    assert Share.objects.get().channel == "wechat"
