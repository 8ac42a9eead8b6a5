"""Counters and unique reactions under real concurrency (PostgreSQL, real threads)."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.community import selectors, services
from yaji.community.models import Favourite, Follow, Like, Notification, Post, Topic
from yaji.community.tests.factories import UserFactory, post_make
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_people_liking_at_once_count_twenty() -> None:
    post = post_make()
    fans = [UserFactory() for _ in range(20)]
    outcomes = race(20, lambda i: services.like_add(user=fans[i], post_id=post.pk))
    assert outcomes == Counter({"ok": 20})
    post.refresh_from_db()
    assert post.like_count == 20 == Like.objects.filter(post=post).count()
    assert Notification.objects.filter(kind="like", post=post).count() == 20


def test_one_person_double_tapping_like_counts_once() -> None:
    post = post_make()
    fan = UserFactory()
    results: list[bool] = []
    race(10, lambda i: results.append(services.like_add(user=fan, post_id=post.pk)))
    assert sorted(results) == [False] * 9 + [True]
    post.refresh_from_db()
    assert post.like_count == 1 == Like.objects.count()
    assert Notification.objects.filter(kind="like").count() == 1


def test_like_and_unlike_racing_keep_the_counter_equal_to_the_rows() -> None:
    post = post_make()
    fans = [UserFactory() for _ in range(6)]
    for fan in fans[:3]:
        services.like_add(user=fan, post_id=post.pk)

    def work(i: int) -> None:
        fan = fans[i % 6]
        if i % 2:
            services.like_remove(user=fan, post_id=post.pk)
        else:
            services.like_add(user=fan, post_id=post.pk)

    race(24, work)
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count()


def test_favourites_and_follows_race_to_one_row_each() -> None:
    post = post_make()
    fan, star = UserFactory(), UserFactory()
    race(8, lambda i: services.favourite_add(user=fan, post_id=post.pk))
    race(8, lambda i: services.follow_add(follower=fan, followee_id=star.pk))
    post.refresh_from_db()
    assert post.favourite_count == 1 == Favourite.objects.count()
    assert Follow.objects.count() == 1 and selectors.follow_counts(user=star).followers == 1
    assert Notification.objects.filter(kind="follow").count() == 1


def test_comments_from_many_people_count_exactly_and_a_new_topic_is_made_once() -> None:
    post = post_make()
    people = [UserFactory() for _ in range(12)]
    race(12, lambda i: services.comment_create(author=people[i], post_id=post.pk, text=f"第{i}楼"))
    post.refresh_from_db()
    assert post.comment_count == 12
    outcomes = race(8, lambda i: post_make(people[i], f"#同一个新话题 第{i}条"))
    assert outcomes == Counter({"ok": 8})
    assert Topic.objects.filter(name="同一个新话题").count() == 1
    assert Post.objects.filter(topics__name="同一个新话题").count() == 8
