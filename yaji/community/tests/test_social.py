"""Follows, posts, comments, reactions, shares, topics and notifications through the services."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from yaji.community import selectors, services
from yaji.community.errors import (
    CannotFollowSelf,
    CommentNotFound,
    InvalidComment,
    InvalidCursor,
    InvalidPost,
    InvalidPostImage,
    InvalidPostVideo,
    InvalidTopic,
    PostNotFound,
    ShareNotFound,
    UnknownTag,
    UserNotFound,
)
from yaji.community.models import (
    Comment,
    Follow,
    Like,
    Notification,
    NotificationKind,
    Post,
    PostImage,
    Topic,
    Visibility,
)
from yaji.community.tests.factories import (
    Screen,
    UserFactory,
    audio_work,
    image_bytes,
    image_upload,
    post_make,
)
from yaji.core import clock
from yaji.core.errors import PermissionDenied
from yaji.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Screen:
    fake = Screen()
    monkeypatch.setattr(services, "moderation_screen", fake)
    return fake


# --- follows -------------------------------------------------------------------------------------


def test_follow_is_idempotent_counted_and_notifies_once() -> None:
    fan, star = UserFactory(), UserFactory()
    assert services.follow_add(follower=fan, followee_id=star.pk) is True
    assert services.follow_add(follower=fan, followee_id=star.pk) is False
    assert Follow.objects.count() == 1
    assert selectors.follow_counts(user=star) == selectors.FollowCounts(followers=1, following=0)
    assert selectors.follow_counts(user=fan) == selectors.FollowCounts(followers=0, following=1)
    assert selectors.is_follower(fan, star) and not selectors.is_follower(star, fan)
    assert list(selectors.follower_ids(star)) == [fan.pk]
    note = Notification.objects.get()
    assert (note.recipient, note.actor, note.kind) == (star, fan, NotificationKind.FOLLOW)
    event = OutboxEvent.objects.get(topic="community.notification_created")
    assert event.payload["recipient_id"] == star.pk and event.payload["kind"] == "follow"

    assert services.follow_remove(follower=fan, followee_id=star.pk) is True
    assert services.follow_remove(follower=fan, followee_id=star.pk) is False
    assert selectors.follow_counts(user=star).followers == 0
    assert not selectors.is_follower(fan, star)


def test_follow_rejects_self_and_missing_or_deleted_people() -> None:
    me = UserFactory()
    with pytest.raises(CannotFollowSelf):
        services.follow_add(follower=me, followee_id=me.pk)
    with pytest.raises(UserNotFound):
        services.follow_add(follower=me, followee_id=10**9)
    gone = UserFactory(is_active=False)
    with pytest.raises(UserNotFound):
        services.follow_add(follower=me, followee_id=gone.pk)
    assert Follow.objects.count() == 0


def test_follower_ids_works_as_a_subquery() -> None:
    star = UserFactory()
    fans = [UserFactory() for _ in range(3)]
    for fan in fans:
        services.follow_add(follower=fan, followee_id=star.pk)
    from yaji.accounts.models import User

    assert set(User.objects.filter(pk__in=selectors.follower_ids(star))) == set(fans)
    page = selectors.followers_page(user=star, limit=2)
    assert page.items == fans[::-1][:2] and page.next_cursor
    rest = selectors.followers_page(user=star, cursor=page.next_cursor, limit=2)
    assert rest.items == [fans[0]] and rest.next_cursor is None


# --- posts ---------------------------------------------------------------------------------------


def test_post_with_pictures_topics_products_works_and_mentions(screen: Screen) -> None:
    author = UserFactory(display_name="林婉清 Lin Wanqing")
    friend = UserFactory(display_name="顾山河")
    work = audio_work()
    gps_exif = Image.Exif()
    gps_exif[0x010F] = "SecretCam"  # camera make; any EXIF must vanish on re-encoding
    jpeg = SimpleUploadedFile("a.jpg", image_bytes(fmt="JPEG", exif=gps_exif.tobytes()))
    post = services.post_create(
        author=author,
        text="新绣的白鹭，请 @顾山河 指点 #苏绣 #宋画#",
        topics="非遗, #苏绣",
        work_ids=[work.pk],
        images=[jpeg, image_upload()],
    )
    assert post.status == Visibility.VISIBLE
    assert sorted(t.name for t in post.topics.all()) == ["宋画", "苏绣", "非遗"]
    assert list(post.works.all()) == [work]
    pictures = list(PostImage.objects.filter(post=post))
    assert [(p.width, p.height) for p in pictures] == [(64, 48), (64, 48)]
    stored = pictures[0].image.read()
    assert stored[8:12] == b"WEBP" and b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as reopened:
        assert not reopened.getexif()
    # Moderation saw the text and the original pictures, keyed by the new post's id.
    assert screen.calls[0]["kind"] == "community.post"
    assert screen.calls[0]["object_id"] == post.pk and len(screen.calls[0]["images"]) == 2
    mention = Notification.objects.get(kind=NotificationKind.MENTION)
    assert (mention.recipient, mention.actor, mention.post) == (friend, author, post)
    assert OutboxEvent.objects.filter(topic="community.post_published").count() == 1


def test_mention_by_first_word_of_a_display_name() -> None:
    wanqing = UserFactory(display_name="林婉清 Lin Wanqing")
    post_make(text="@林婉清 你的新作太美了")
    assert Notification.objects.get(kind=NotificationKind.MENTION).recipient == wanqing


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": ""}, InvalidPost),
        ({"text": "字" * 2001}, InvalidPost),
        ({"text": "x", "topics": "a,b,c,d,e,f"}, InvalidTopic),
        ({"text": "x", "topics": ["有 空格"]}, InvalidTopic),
        ({"text": "x", "product_ids": [10**9]}, UnknownTag),
        ({"text": "x", "work_ids": [10**9]}, UnknownTag),
        ({"text": "x", "product_ids": list(range(1, 12))}, InvalidPost),
    ],
)
def test_bad_posts_are_refused_and_leave_nothing(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        services.post_create(author=UserFactory(), **kwargs)
    assert Post.objects.count() == 0 and Topic.objects.count() == 0


def test_fake_or_oversized_pictures_and_videos_are_refused(settings) -> None:  # type: ignore[no-untyped-def]
    author = UserFactory()
    text_as_png = SimpleUploadedFile("x.png", b"not a picture at all" * 10)
    with pytest.raises(InvalidPostImage):
        services.post_create(author=author, text="x", images=[text_as_png])
    truncated = SimpleUploadedFile("x.png", image_bytes()[:60])
    with pytest.raises(InvalidPostImage):
        services.post_create(author=author, text="x", images=[truncated])
    tiny = SimpleUploadedFile("x.png", image_bytes(4, 4))
    with pytest.raises(InvalidPostImage):
        services.post_create(author=author, text="x", images=[tiny])
    with pytest.raises(InvalidPost):
        services.post_create(author=author, text="x", images=[image_upload() for _ in range(10)])
    fake_video = SimpleUploadedFile("v.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(InvalidPostVideo):
        services.post_create(author=author, text="x", video=fake_video)
    with pytest.raises(InvalidPost):
        services.post_create(
            author=author,
            text="x",
            images=[image_upload()],
            video=SimpleUploadedFile("v.webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 64),
        )
    assert Post.objects.count() == 0 and PostImage.objects.count() == 0


def test_webm_video_post_is_stored_under_a_fresh_name() -> None:
    video = SimpleUploadedFile("../../etc/evil.webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 64)
    post = services.post_create(author=UserFactory(), text="舞台侧拍", video=video)
    assert post.video_format == "webm"
    assert post.video.name.startswith("posts/videos/") and "evil" not in post.video.name


def test_a_held_post_is_seen_only_by_its_author_until_decided(screen: Screen) -> None:
    screen.status = "held"
    author, other = UserFactory(), UserFactory()
    mentioned = UserFactory(display_name="小周")
    post = post_make(author, "请 @小周 看看")
    assert post.status == Visibility.HELD
    assert selectors.post_get(post_id=post.pk, viewer=author).status == "held"
    with pytest.raises(PostNotFound):
        selectors.post_get(post_id=post.pk, viewer=other)
    with pytest.raises(PostNotFound):
        services.like_add(user=other, post_id=post.pk)
    with pytest.raises(PostNotFound):
        services.comment_create(author=other, post_id=post.pk, text="?")
    assert not Notification.objects.filter(recipient=mentioned).exists()

    event = _decided("community.post", post.pk, "visible")
    services.on_moderation_decided(event)
    services.on_moderation_decided(event)  # redelivered: no second announcement
    assert selectors.post_get(post_id=post.pk, viewer=other).status == "visible"
    assert Notification.objects.filter(recipient=mentioned).count() == 1


def _decided(kind: str, object_id: int, status: str) -> OutboxEvent:
    from django.db import transaction

    from yaji.core.outbox import outbox_publish

    with transaction.atomic():
        return outbox_publish(
            topic="moderation.decided",
            payload={"kind": kind, "object_id": object_id, "status": status},
        )


def test_post_delete_by_author_only() -> None:
    author, other = UserFactory(), UserFactory()
    post = post_make(author)
    with pytest.raises(PermissionDenied):
        services.post_delete(user=other, post_id=post.pk)
    services.post_delete(user=author, post_id=post.pk)
    with pytest.raises(PostNotFound):
        selectors.post_get(post_id=post.pk, viewer=author)
    with pytest.raises(PostNotFound):
        services.post_delete(user=other, post_id=post.pk)
    with pytest.raises(PostNotFound):
        services.comment_create(author=other, post_id=post.pk, text="还在吗")
    assert Comment.objects.count() == 0


# --- comments ------------------------------------------------------------------------------------


def test_threaded_comments_notify_the_right_people() -> None:
    author, alice, bob = UserFactory(), UserFactory(), UserFactory()
    post = post_make(author)
    first = services.comment_create(author=alice, post_id=post.pk, text="好看")
    reply = services.comment_create(author=bob, post_id=post.pk, text="同意", parent_id=first.pk)
    deeper = services.comment_create(
        author=author, post_id=post.pk, text="谢谢两位", parent_id=reply.pk
    )
    assert (reply.root, deeper.root, deeper.parent) == (first, first, reply)
    post.refresh_from_db()
    assert post.comment_count == 3
    kinds = sorted(Notification.objects.values_list("recipient__pk", "kind"))
    assert kinds == sorted(
        [
            (author.pk, "comment"),  # alice commented
            (alice.pk, "reply"),  # bob answered alice
            (author.pk, "comment"),  # bob's reply is also a comment on the post
            (bob.pk, "reply"),  # the author answered bob
        ]
    )
    page = selectors.comments_of_post(post=post, viewer=None)
    assert [t.comment for t in page.threads] == [first]
    assert page.threads[0].replies == [reply, deeper]


def test_comment_bad_input_and_deletion_rules() -> None:
    author, alice, bob = UserFactory(), UserFactory(), UserFactory()
    post, other_post = post_make(author), post_make(author)
    with pytest.raises(InvalidComment):
        services.comment_create(author=alice, post_id=post.pk, text="  ")
    with pytest.raises(InvalidComment):
        services.comment_create(author=alice, post_id=post.pk, text="长" * 1001)
    with pytest.raises(PostNotFound):
        services.comment_create(author=alice, post_id=10**9, text="hi")
    elsewhere = services.comment_create(author=alice, post_id=other_post.pk, text="hi")
    with pytest.raises(CommentNotFound):
        services.comment_create(author=bob, post_id=post.pk, text="hi", parent_id=elsewhere.pk)
    comment = services.comment_create(author=alice, post_id=post.pk, text="hi")
    with pytest.raises(PermissionDenied):
        services.comment_delete(user=bob, comment_id=comment.pk)
    services.comment_delete(user=author, comment_id=comment.pk)  # the post's author may
    post.refresh_from_db()
    assert post.comment_count == 0
    with pytest.raises(CommentNotFound):
        services.comment_delete(user=alice, comment_id=comment.pk)


def test_held_comment_counts_and_notifies_only_once_visible(screen: Screen) -> None:
    author, alice = UserFactory(), UserFactory()
    post = post_make(author)
    screen.status = "held"
    comment = services.comment_create(author=alice, post_id=post.pk, text="可疑的评论")
    post.refresh_from_db()
    assert (comment.status, post.comment_count) == ("held", 0)
    assert not Notification.objects.filter(recipient=author).exists()
    mine = selectors.comments_of_post(post=post, viewer=alice)
    assert mine.threads[0].comment.status == "held"
    assert selectors.comments_of_post(post=post, viewer=author).threads == []

    services.on_moderation_decided(_decided("community.comment", comment.pk, "visible"))
    post.refresh_from_db()
    assert post.comment_count == 1
    assert Notification.objects.filter(recipient=author, kind="comment").count() == 1
    services.on_moderation_decided(_decided("community.comment", comment.pk, "blocked"))
    post.refresh_from_db()
    assert post.comment_count == 0


# --- likes, favourites, shares -------------------------------------------------------------------


def test_likes_and_favourites_are_unique_and_counted() -> None:
    author, fan = UserFactory(), UserFactory()
    post = post_make(author)
    assert services.like_add(user=fan, post_id=post.pk) is True
    assert services.like_add(user=fan, post_id=post.pk) is False
    assert services.favourite_add(user=fan, post_id=post.pk) is True
    assert services.favourite_add(user=fan, post_id=post.pk) is False
    post.refresh_from_db()
    assert (post.like_count, post.favourite_count) == (1, 1)
    shown = selectors.post_get(post_id=post.pk, viewer=fan)
    assert shown.viewer_liked and shown.viewer_favourited  # type: ignore[attr-defined]
    assert selectors.feed_favourites(user=fan).items == [post]
    # Like, unlike, like again: one notification only.
    assert services.like_remove(user=fan, post_id=post.pk) is True
    assert services.like_remove(user=fan, post_id=post.pk) is False
    services.like_add(user=fan, post_id=post.pk)
    assert Notification.objects.filter(kind="like").count() == 1
    services.favourite_remove(user=fan, post_id=post.pk)
    post.refresh_from_db()
    assert (post.like_count, post.favourite_count) == (1, 0)
    assert post.like_count == Like.objects.filter(post=post).count()
    # Liking your own post counts but does not notify you.
    services.like_add(user=author, post_id=post.pk)
    assert not Notification.objects.filter(recipient=author, actor=author).exists()


def test_share_code_resolves_to_the_sharer_and_post() -> None:
    author, sharer = UserFactory(), UserFactory()
    post = post_make(author)
    share = services.share_create(user=sharer, post_id=post.pk, channel="wechat")
    assert len(share.code) == 10 and share.code.isalnum()
    ref = selectors.share_resolve(share.code.lower())
    assert (ref.post_id, ref.sharer_id, ref.code) == (post.pk, sharer.pk, share.code)
    post.refresh_from_db()
    assert post.share_count == 1
    for bad in ("", "NOPE", "x" * 40):
        with pytest.raises(ShareNotFound):
            selectors.share_resolve(bad)


# --- feeds ---------------------------------------------------------------------------------------


def test_following_feed_is_newest_first_with_cursor_and_own_posts() -> None:
    me, star, stranger = UserFactory(), UserFactory(), UserFactory()
    services.follow_add(follower=me, followee_id=star.pk)
    posts = [post_make(star, f"第{i}条") for i in range(5)]
    mine = post_make(me, "我的")
    post_make(stranger, "不相干")
    first = selectors.feed_following(viewer=me, limit=3)
    assert first.items == [mine, posts[4], posts[3]]
    second = selectors.feed_following(viewer=me, cursor=first.next_cursor, limit=3)
    assert second.items == [posts[2], posts[1], posts[0]] and second.next_cursor is None
    with pytest.raises(InvalidCursor):
        selectors.feed_following(viewer=me, cursor="%%%not-a-cursor")


def test_topic_feed_and_popular_topics() -> None:
    a = post_make(text="#昆曲 游园惊梦")
    post_make(text="#苏绣 白鹭")
    b = post_make(text="又一段 #昆曲")
    kunqu = Topic.objects.get(name="昆曲")
    assert kunqu.slug == "昆曲"
    assert selectors.feed_topic(topic=kunqu).items == [b, a]
    assert [t.name for t in selectors.topics_popular()][:1] == ["昆曲"]


def test_trending_ranks_engagement_decayed_by_age(monkeypatch: pytest.MonkeyPatch) -> None:
    people = [UserFactory() for _ in range(6)]
    old_busy = post_make(text="上周很火")
    Post.objects.filter(pk=old_busy.pk).update(created_at=clock.now() - timedelta(days=3))
    fresh = post_make(text="刚发的")
    quiet = post_make(text="没人理")
    for person in people:
        services.like_add(user=person, post_id=old_busy.pk)
    for person in people[:3]:
        services.like_add(user=person, post_id=fresh.pk)
    page = selectors.feed_trending()
    assert page.items == [fresh, quiet, old_busy]  # 4/2^1.5 > 1/2^1.5 > 7/74^1.5
    assert selectors.trending_score(likes=0, comments=0, shares=1, age_hours=1) > (
        selectors.trending_score(likes=2, comments=0, shares=0, age_hours=1)
    )
    Post.objects.filter(pk=old_busy.pk).update(created_at=clock.now() - timedelta(days=8))
    assert old_busy not in selectors.feed_trending().items


def test_feed_query_count_is_constant(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    me = UserFactory()
    work = audio_work()
    for _ in range(4):
        star = UserFactory()
        services.follow_add(follower=me, followee_id=star.pk)
        for _ in range(5):
            post_make(star, "#话题 内容", images=[image_upload()], work_ids=[work.pk])
    liked = selectors.feed_following(viewer=me, limit=3).items[1]
    services.like_add(user=me, post_id=liked.pk)
    # ONE statement: the page with authors, pictures, topics, works, products and the viewer's
    # likes and favourites (yaji.community.cards); whatever the page size
    for size in (1, 20):
        with django_assert_num_queries(1):
            page = selectors.feed_following(viewer=me, limit=size)
            for post in page.items:
                _ = [i.image.url for i in post.card_images]  # type: ignore[attr-defined]
                _ = [t.slug for t in post.card_topics] + [w.title for w in post.card_works]  # type: ignore[attr-defined]
                _ = (str(post.author), post.viewer_liked)  # type: ignore[attr-defined]
        assert len(page.items) == size
    first = page.items[0]
    assert [t.name for t in first.card_topics] == ["话题"]  # type: ignore[attr-defined]
    assert [w.pk for w in first.card_works] == [work.pk]  # type: ignore[attr-defined]
    assert len(first.card_images) == 1 and first.card_images[0].width > 0  # type: ignore[attr-defined]
    marks = {p.pk: p.viewer_liked for p in page.items}  # type: ignore[attr-defined]
    assert marks[liked.pk] is True and sum(marks.values()) == 1


# --- notifications -------------------------------------------------------------------------------


def test_inbox_unread_count_and_mark_read() -> None:
    me, other = UserFactory(), UserFactory()
    for _ in range(3):
        services.follow_add(follower=UserFactory(), followee_id=me.pk)
    services.notification_system_send(recipient=me, text="欢迎来到雅集")
    services.follow_add(follower=me, followee_id=other.pk)
    assert selectors.notifications_unread_count(user=me) == 4
    page = selectors.notifications_page(user=me, limit=3)
    assert page.items[0].kind == "system" and page.next_cursor
    assert services.notifications_mark_read(user=me, ids=[page.items[0].pk]) == 1
    assert services.notifications_mark_read(user=other, ids=[page.items[1].pk]) == 0  # not theirs
    assert selectors.notifications_unread_count(user=me) == 3
    assert services.notifications_mark_read(user=me) == 3
    assert selectors.notifications_unread_count(user=me) == 0
    assert selectors.notifications_unread_count(user=other) == 1
