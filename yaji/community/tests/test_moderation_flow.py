"""Posts and comments through the real moderation app: screened on creation, held items wait
for a reviewer, whose decision reaches the community through the outbox."""

from __future__ import annotations

import pytest

from yaji.accounts.models import Role, RoleAssignment
from yaji.community import selectors, services
from yaji.community.errors import PostNotFound
from yaji.community.models import Notification, Visibility
from yaji.community.tests.factories import UserFactory, post_make
from yaji.core.outbox import outbox_relay_once
from yaji.moderation import services as moderation
from yaji.moderation.defaults import moderation_defaults_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _word_lists() -> None:
    moderation_defaults_seed()


def _reviewer():  # type: ignore[no-untyped-def]
    user = UserFactory()
    RoleAssignment.objects.create(user=user, role=Role.REVIEWER)
    return user


def _relay() -> None:
    while outbox_relay_once():
        pass


def _item_id(kind: str, object_id: int) -> int:
    from yaji.moderation.models import ModerationItem

    return ModerationItem.objects.get(kind=kind, object_id=object_id).pk


def test_a_clean_post_is_visible_and_a_blocked_word_is_blocked() -> None:
    assert post_make(text="一幅很美的苏绣").status == Visibility.VISIBLE
    blocked = post_make(text="高仿苏绣低价出")
    assert blocked.status == Visibility.BLOCKED
    with pytest.raises(PostNotFound):
        selectors.post_get(post_id=blocked.pk, viewer=UserFactory())
    assert selectors.post_get(post_id=blocked.pk, viewer=blocked.author).status == "blocked"


def test_held_post_surfaces_when_a_reviewer_approves() -> None:
    author, fan = UserFactory(), UserFactory(display_name="阿朵")
    services.follow_add(follower=fan, followee_id=author.pk)
    post = post_make(author, "谁来玩百家乐？@阿朵")
    assert post.status == Visibility.HELD
    assert selectors.feed_following(viewer=fan).items == []
    assert selectors.feed_following(viewer=author).items == [post]  # marked under review
    assert not Notification.objects.filter(recipient=fan, kind="mention").exists()

    moderation.moderation_decide(
        reviewer=_reviewer(), item_id=_item_id("community.post", post.pk), decision="approve"
    )
    _relay()
    post.refresh_from_db()
    assert post.status == Visibility.VISIBLE
    assert selectors.feed_following(viewer=fan).items == [post]
    assert Notification.objects.filter(recipient=fan, kind="mention", post=post).count() == 1


def test_held_comment_blocked_by_a_reviewer_never_counts() -> None:
    author, troll = UserFactory(), UserFactory()
    post = post_make(author)
    comment = services.comment_create(author=troll, post_id=post.pk, text="加微信领红包")
    assert comment.status == Visibility.HELD
    moderation.moderation_decide(
        reviewer=_reviewer(),
        item_id=_item_id("community.comment", comment.pk),
        decision="block",
        reason="引流诈骗",
    )
    _relay()
    comment.refresh_from_db()
    post.refresh_from_db()
    assert (comment.status, post.comment_count) == (Visibility.BLOCKED, 0)
    assert not Notification.objects.filter(recipient=author).exists()
