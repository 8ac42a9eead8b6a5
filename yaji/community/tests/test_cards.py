"""Posts as cards (ADR 0041): one statement for a page with every relation a card shows, the
same data the relations hold, and a feed answer byte-identical to ninja's schema path."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from ninja.responses import NinjaJSONEncoder

from yaji.community import selectors, services
from yaji.community.models import Post, Visibility, WorkStatus
from yaji.community.presenters import post_dict
from yaji.community.schemas import PostPageOut
from yaji.community.tests.factories import (
    UserFactory,
    audio_work,
    image_upload,
    post_make,
)
from yaji.community.tests.test_api_and_pages import Api

pytestmark = pytest.mark.django_db


def _rich_world():  # type: ignore[no-untyped-def]
    from yaji.catalog.tests.factories import product_listed, shop_open

    me, star = UserFactory(), UserFactory(display_name="")
    services.follow_add(follower=me, followee_id=star.pk)
    work, hidden = audio_work(creator=star), audio_work(creator=star)
    product = product_listed(shop_open())
    rich = post_make(
        star,
        "#苏绣 #宋韵 两张图",
        images=[image_upload(), image_upload()],
        work_ids=[work.pk, hidden.pk],
        product_ids=[product.pk],
    )
    hidden.status = WorkStatus.HIDDEN
    hidden.save(update_fields=["status"])
    plain = post_make(star, "没有标签")
    mine = post_make(me, "我自己的")
    Post.objects.filter(pk=mine.pk).update(status=Visibility.HELD)
    services.like_add(user=me, post_id=rich.pk)
    services.favourite_add(user=me, post_id=plain.pk)
    return me, star, rich, plain, mine, work, product


def test_cards_hold_what_the_relations_hold_in_one_statement() -> None:
    me, star, rich, plain, mine, work, product = _rich_world()
    with CaptureQueriesContext(connection) as captured:
        page = selectors.feed_following(viewer=me, limit=10)
    assert len(captured) == 1
    by_id = {p.pk: p for p in page.items}
    assert [p.pk for p in page.items] == [mine.pk, plain.pk, rich.pk]  # own held post included
    card, db = by_id[rich.pk], Post.objects.get(pk=rich.pk)
    assert [(i.pk, i.image.name, i.width) for i in card.card_images] == [  # type: ignore[attr-defined]
        (i.pk, i.image.name, i.width) for i in db.images.order_by("position", "id")
    ]
    assert [t.slug for t in card.card_topics] == [t.slug for t in db.topics.order_by("name")]  # type: ignore[attr-defined]
    assert [w.pk for w in card.card_works] == [work.pk]  # a hidden work is not shown  # type: ignore[attr-defined]
    assert [(p.pk, str(p)) for p in card.card_products] == [(product.pk, product.title_zh)]  # type: ignore[attr-defined]
    assert str(card.author) == str(star) and card.author.pk == star.pk
    type(product).objects.filter(pk=product.pk).update(status="delisted")  # its link would 404
    assert selectors.post_get(post_id=rich.pk).card_products == []  # type: ignore[attr-defined]
    marks = {p.pk: (p.viewer_liked, p.viewer_favourited) for p in page.items}  # type: ignore[attr-defined]
    assert marks == {rich.pk: (True, False), plain.pk: (False, True), mine.pk: (False, False)}
    # an anonymous viewer of the same post: no marks, same relations, still one statement
    with CaptureQueriesContext(connection) as captured:
        anon = selectors.post_get(post_id=rich.pk)
    assert len(captured) == 1
    assert (anon.viewer_liked, len(anon.card_images)) == (False, 2)  # type: ignore[attr-defined]


def test_feed_answer_is_what_the_schema_would_render() -> None:
    me, *_ = _rich_world()
    answer = Api(me).get("/feed/following?limit=2")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    page = selectors.feed_following(viewer=me, limit=2)
    data = {"items": [post_dict(p) for p in page.items], "next_cursor": page.next_cursor}
    # ninja's own path: validate through the schema, dump, encode with its encoder
    through_schema = PostPageOut.model_validate(data).model_dump()
    assert answer.content == json.dumps(through_schema, cls=NinjaJSONEncoder).encode()
    assert answer.json()["next_cursor"] and len(answer.json()["items"]) == 2


@pytest.mark.parametrize("followed", [2, 55])  # the sparse and the dense plan (SPARSE_FOLLOWS)
def test_following_feed_pages_through_exactly_the_followed_posts(followed: int) -> None:
    from yaji.community.models import Follow

    assert (followed >= selectors.SPARSE_FOLLOWS) == (followed == 55)
    me = UserFactory()
    authors = [UserFactory() for _ in range(followed + 3)]
    Follow.objects.bulk_create(Follow(follower=me, followee=a) for a in authors[:followed])
    rows = [Post(author=authors[i % len(authors)], text=f"第{i}条") for i in range(120)]
    rows += [Post(author=me, text="我的待审", status=Visibility.HELD)]
    rows += [Post(author=authors[0], text="被拦下", status=Visibility.BLOCKED)]
    Post.objects.bulk_create(rows)
    expected = list(
        Post.objects.filter(author__in=authors[:followed], status=Visibility.VISIBLE)
        .union(Post.objects.filter(author=me))
        .order_by("-id")
        .values_list("id", flat=True)
    )
    seen, cursor = [], None
    while True:
        page = selectors.feed_following(viewer=me, cursor=cursor, limit=7)
        seen += [p.pk for p in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected and len(seen) > 7


def test_feed_dicts_built_from_rows_are_post_dict_of_the_cards() -> None:
    me, _star, rich, *_ = _rich_world()
    nameless = UserFactory(display_name="")  # shown as a masked e-mail
    services.follow_add(follower=me, followee_id=nameless.pk)
    post_make(nameless, "无名 #宋韵", images=[image_upload()])
    Post.objects.filter(pk=rich.pk).update(video="posts/v.mp4")  # a video's URL
    for cursor in (None, selectors.feed_following(viewer=me, limit=2).next_cursor):
        cards = selectors.feed_following(viewer=me, cursor=cursor, limit=2)
        dicts = selectors.feed_following(viewer=me, cursor=cursor, limit=2, as_dicts=True)
        assert dicts.items == [post_dict(p) for p in cards.items]
        assert dicts.next_cursor == cards.next_cursor
    everything = selectors.feed_following(viewer=me, limit=20, as_dicts=True).items
    assert everything == [post_dict(p) for p in selectors.feed_following(viewer=me, limit=20).items]
    by_id = {item["id"]: item for item in everything}
    assert by_id[rich.pk]["video_url"] and by_id[rich.pk]["liked"] is True
    assert len(by_id[rich.pk]["images"]) == 2 and by_id[rich.pk]["product_ids"]
