"""Reads of the community app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from yaji.accounts.models import User
from yaji.catalog import selectors as catalog_selectors
from yaji.community.cards import (
    aware,
    card_dicts_from_sql,
    card_person,
    cards_by_id,
    cards_from_sql,
    cards_page,
    instance_from_columns,
)
from yaji.community.cursors import cursor_decode, cursor_encode
from yaji.community.errors import (
    PostNotFound,
    ShareNotFound,
    TopicNotFound,
    UserNotFound,
    WorkNotFound,
)
from yaji.community.models import (
    Comment,
    Favourite,
    Follow,
    Notification,
    PlaySession,
    Post,
    Share,
    Topic,
    Visibility,
    Work,
    WorkStatus,
)
from yaji.core import clock
from yaji.core.errors import ApplicationError


def work_get(*, work_id: int) -> Work:
    """A published work, with its creator. Raises work_not_found."""
    work = (
        Work.objects.select_related("creator")
        .filter(pk=work_id, status=WorkStatus.PUBLISHED)
        .first()
    )
    if work is None:
        raise WorkNotFound()
    return work


def work_list_by_creator(*, creator: User, limit: int = 50) -> QuerySet[Work]:
    return (
        Work.objects.select_related("creator")
        .filter(creator=creator, status=WorkStatus.PUBLISHED)
        .order_by("-published_at", "-pk")[:limit]
    )


def play_completed(*, user: User, work: Work) -> bool:
    """Has ``user`` listened to ``work`` in full (≥ 95 % coverage in one verified play)?

    The condition red packets use.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return PlaySession.objects.filter(user=user, work=work, completed_at__isnull=False).exists()


def play_best_progress(*, user: User, work: Work) -> PlaySession | None:
    """The user's play of ``work`` that covered the most (for showing progress)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return PlaySession.objects.filter(user=user, work=work).order_by("-listened_ms", "-pk").first()


# === the social side ============================================================================

PAGE_DEFAULT = 20
PAGE_MAX = 50
# Trending: candidates are the most engaged posts of the last week; the score then decays with
# age like Hacker News' (points / (hours + 2) ** gravity).
TRENDING_WINDOW = timedelta(days=7)
TRENDING_CANDIDATES = 500
TRENDING_GRAVITY = 1.5


def _page_limit(limit: int | None) -> int:
    return max(1, min(int(limit or PAGE_DEFAULT), PAGE_MAX))


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


# --- follows -------------------------------------------------------------------------------------


def follower_ids(user: User | int) -> QuerySet[Follow, int]:
    """Ids of the people who follow ``user``: a lazy queryset, usable as a subquery
    (``filter(user_id__in=follower_ids(u))``) or iterated. Red packets' "my followers"."""
    user_id = user if isinstance(user, int) else user.pk
    return Follow.objects.filter(followee_id=user_id).values_list("follower_id", flat=True)


def following_ids(user: User | int) -> QuerySet[Follow, int]:
    user_id = user if isinstance(user, int) else user.pk
    return Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True)


def is_follower(follower: Any, followee: User | int) -> bool:
    """Does ``follower`` follow ``followee``? False for anonymous users."""
    if not _authenticated(follower):
        return False
    followee_id = followee if isinstance(followee, int) else followee.pk
    return Follow.objects.filter(follower_id=follower.pk, followee_id=followee_id).exists()


@dataclass(frozen=True)
class FollowCounts:
    followers: int
    following: int


def follow_counts(*, user: User) -> FollowCounts:
    counts = Follow.objects.filter(Q(followee=user) | Q(follower=user)).aggregate(
        followers=Count("pk", filter=Q(followee=user)),
        following=Count("pk", filter=Q(follower=user)),
    )
    return FollowCounts(followers=counts["followers"], following=counts["following"])


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    next_cursor: str | None


def _follow_page(qs: QuerySet[Follow], *, who: str, cursor: str | None, limit: int) -> UserPage:
    limit = _page_limit(limit)
    after = cursor_decode(cursor)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.select_related(who).order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return UserPage(
        items=[getattr(row, who) for row in rows],
        next_cursor=cursor_encode(rows[-1].pk) if more else None,
    )


def followers_page(*, user: User, cursor: str | None = None, limit: int = 20) -> UserPage:
    return _follow_page(
        Follow.objects.filter(followee=user), who="follower", cursor=cursor, limit=limit
    )


def following_page(*, user: User, cursor: str | None = None, limit: int = 20) -> UserPage:
    return _follow_page(
        Follow.objects.filter(follower=user), who="followee", cursor=cursor, limit=limit
    )


def person_get(*, user_id: int) -> User:
    """An active account's public face. Raises user_not_found."""
    if not 0 < user_id < 2**63:
        raise UserNotFound()
    user = User.objects.filter(pk=user_id, is_active=True, deleted_at__isnull=True).first()
    if user is None:
        raise UserNotFound()
    return user


# --- posts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostPage:
    items: list[Post]
    next_cursor: str | None


def _visible_to(viewer: Any) -> Q:
    """Everyone sees visible posts; authors also see their own held or blocked ones."""
    shown = Q(status=Visibility.VISIBLE)
    if _authenticated(viewer):
        shown |= Q(author_id=viewer.pk)
    return shown & Q(deleted_at__isnull=True)


def _keyset(qs: QuerySet[Post], *, viewer: Any, cursor: str | None, limit: int) -> PostPage:
    limit = _page_limit(limit)
    after = cursor_decode(cursor)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    # One statement: the page (limit + 1 rows, to know whether there is a next one) as cards.
    rows = cards_page(qs.order_by("-pk")[: limit + 1], viewer=viewer)
    more = len(rows) > limit
    items = rows[:limit]
    return PostPage(items=items, next_cursor=cursor_encode(items[-1].pk) if more else None)


@cache
def _post_get_sql() -> str:
    post, visible = Post._meta.db_table, Visibility.VISIBLE.value
    shown = f"p.deleted_at IS NULL AND (p.status = '{visible}' OR p.author_id = %s)"
    return f"SELECT p.id FROM {post} p WHERE p.id = %s AND {shown}"  # noqa: S608


def post_get(*, post_id: int, viewer: Any = None) -> Post:
    """A post the viewer may see (visible, or their own). Raises post_not_found."""
    if not 0 < post_id < 2**63:
        raise PostNotFound()
    # _visible_to written by hand: compiling it with the ORM cost more than running it
    viewer_id = viewer.pk if _authenticated(viewer) else 0
    found = cards_from_sql(_post_get_sql(), [post_id, viewer_id], viewer=viewer)
    if not found:
        raise PostNotFound()
    return found[0]


# Below this many follows a reader's feed is read author by author (see _following_page_sql).
SPARSE_FOLLOWS = 50


def _following_page_sql(*, viewer_id: int, after: int | None, size: int) -> tuple[str, list[Any]]:
    """The following feed's page query, written once instead of compiled by the ORM on every
    request (the feed's hottest path, ADR 0041). Two plans, EXPLAIN ANALYZE'd on 100k posts:

    * dense (≥ ``SPARSE_FOLLOWS`` follows): walk the primary key backwards, test each post's
      author against the hashed follow list, stop after ``size`` rows — 0.2 ms for a reader of
      500 of 1,000 creators, first page or deep;
    * sparse: the newest ``size`` posts of each followed author from ``post_author_idx``
      (author, -id) through a LATERAL join, merged — the backward walk would read ~20k rows
      (29 ms) to find 21 posts of 3 followed authors.

    On PostgreSQL both are in one statement and a bounded count of the follows gates them (a
    one-time filter: the other branch is never executed). SQLite (the embedded demo) has no
    LATERAL and gets the dense form."""
    post, follow = Post._meta.db_table, Follow._meta.db_table
    visible, held = Visibility.VISIBLE.value, Visibility.HELD.value
    cursor_sql = " AND p.id < %s" if after is not None else ""
    cursor_params: list[Any] = [after] if after is not None else []
    dense = (
        f"SELECT p.id FROM {post} p WHERE p.deleted_at IS NULL AND ("  # noqa: S608  # names only
        f"(p.status = %s AND p.author_id IN (SELECT f.followee_id FROM {follow} f"
        f" WHERE f.follower_id = %s)) OR (p.author_id = %s AND p.status IN (%s, %s))){cursor_sql}"
    )
    dense_params: list[Any] = [visible, viewer_id, viewer_id, visible, held, *cursor_params]
    if connection.vendor != "postgresql":
        return dense + " ORDER BY p.id DESC LIMIT %s", [*dense_params, size]
    follows = (
        f"(SELECT count(*) FROM (SELECT 1 FROM {follow} WHERE follower_id = %s"  # noqa: S608
        f" LIMIT {SPARSE_FOLLOWS}) n)"
    )
    sparse = (
        f"SELECT x.id FROM (SELECT f.followee_id AS author FROM {follow} f"  # noqa: S608
        " WHERE f.follower_id = %s UNION SELECT %s) a CROSS JOIN LATERAL ("
        f"SELECT p.id FROM {post} p WHERE p.author_id = a.author AND p.deleted_at IS NULL"
        f" AND (p.status = %s OR (p.author_id = %s AND p.status = %s)){cursor_sql}"
        " ORDER BY p.id DESC LIMIT %s) x"
    )
    sparse_params: list[Any] = [viewer_id, viewer_id, visible, viewer_id, held, *cursor_params]
    sql = (
        f"SELECT q.id FROM (({dense} AND {follows} >= {SPARSE_FOLLOWS}"  # noqa: S608  # names only
        " ORDER BY p.id DESC LIMIT %s)"
        f" UNION ALL ({sparse} WHERE {follows} < {SPARSE_FOLLOWS}"
        " ORDER BY x.id DESC LIMIT %s)) q ORDER BY q.id DESC LIMIT %s"
    )
    params = [*dense_params, viewer_id, size, *sparse_params, size, viewer_id, size, size]
    return sql, params


def feed_following(
    *, viewer: User, cursor: str | None = None, limit: int = 20, as_dicts: bool = False
) -> PostPage:
    """Newest first: visible posts of the people ``viewer`` follows, and the viewer's own
    (visible or held). One statement with the cards. ``as_dicts``: the items as the API's
    dicts (``post_dict``'s shape) built straight from the rows, for the JSON feed."""
    limit = _page_limit(limit)
    page_sql, params = _following_page_sql(
        viewer_id=viewer.pk, after=cursor_decode(cursor), size=limit + 1
    )
    if as_dicts:
        found = card_dicts_from_sql(page_sql, params, viewer=viewer)
        more, items = len(found) > limit, found[:limit]
        return PostPage(
            items=items,  # type: ignore[arg-type]
            next_cursor=cursor_encode(items[-1]["id"]) if more else None,
        )
    rows = cards_from_sql(page_sql, params, viewer=viewer)
    more = len(rows) > limit
    items = rows[:limit]
    return PostPage(items=items, next_cursor=cursor_encode(items[-1].pk) if more else None)


def feed_topic(
    *, topic: Topic, viewer: Any = None, cursor: str | None = None, limit: int = 20
) -> PostPage:
    qs = Post.objects.filter(topics=topic, status=Visibility.VISIBLE, deleted_at__isnull=True)
    return _keyset(qs, viewer=viewer, cursor=cursor, limit=limit)


def feed_author(
    *, author: User, viewer: Any = None, cursor: str | None = None, limit: int = 20
) -> PostPage:
    qs = Post.objects.filter(_visible_to(viewer), author=author)
    return _keyset(qs, viewer=viewer, cursor=cursor, limit=limit)


def feed_favourites(*, user: User, cursor: str | None = None, limit: int = 20) -> PostPage:
    """What ``user`` saved, most recently saved first (the cursor walks favourites)."""
    limit = _page_limit(limit)
    after = cursor_decode(cursor)
    marks = Favourite.objects.filter(
        user=user, post__status=Visibility.VISIBLE, post__deleted_at__isnull=True
    )
    if after is not None:
        marks = marks.filter(pk__lt=after)
    rows = list(marks.order_by("-pk").values_list("pk", "post_id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    items = cards_by_id([r[1] for r in rows], viewer=user)
    return PostPage(items=items, next_cursor=cursor_encode(rows[-1][0]) if more else None)


def trending_score(*, likes: int, comments: int, shares: int, age_hours: float) -> float:
    """Engagement (a share > a comment > a like) decayed by age: newer and busier ranks higher."""
    points = likes + 2 * comments + 3 * shares
    return (points + 1) / (max(age_hours, 0.0) + 2) ** TRENDING_GRAVITY


@dataclass(frozen=True)
class TrendingPage:
    items: list[Post]
    page: int
    has_next: bool


def feed_trending(*, viewer: Any = None, page: int = 1, limit: int = 20) -> TrendingPage:
    """Visible posts of the last week ranked by :func:`trending_score` (page-numbered: the
    ranking moves with time, so a keyset cursor would not be stable anyway)."""
    limit = _page_limit(limit)
    page = max(1, min(int(page or 1), TRENDING_CANDIDATES // limit + 1))
    now = clock.now()
    engagement = F("like_count") + 2 * F("comment_count") + 3 * F("share_count")
    candidates = list(
        Post.objects.filter(
            status=Visibility.VISIBLE,
            deleted_at__isnull=True,
            created_at__gte=now - TRENDING_WINDOW,
        )
        .annotate(points=engagement)
        .order_by("-points", "-pk")
        .values_list("pk", "like_count", "comment_count", "share_count", "created_at")[
            :TRENDING_CANDIDATES
        ]
    )
    ranked = sorted(
        candidates,
        key=lambda row: (
            -trending_score(
                likes=row[1],
                comments=row[2],
                shares=row[3],
                age_hours=(now - row[4]).total_seconds() / 3600,
            ),
            -row[0],
        ),
    )
    start = (page - 1) * limit
    ids = [row[0] for row in ranked[start : start + limit]]
    items = cards_by_id(ids, viewer=viewer)
    return TrendingPage(items=items, page=page, has_next=len(ranked) > start + limit)


# --- comments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentThread:
    comment: Comment
    replies: list[Comment]


@dataclass(frozen=True)
class CommentPage:
    threads: list[CommentThread]
    next_cursor: str | None


@cache
def _comments_sql() -> str:
    """Roots of a page and all their replies, with each one's author and the author of the
    comment a reply answers, in ONE statement (ADR 0046): the two ORM querysets it replaces
    cost more to compile than to run. Parameters: post, viewer, after, limit, post, viewer."""
    comment, user = Comment._meta.db_table, User._meta.db_table
    visible, held = Visibility.VISIBLE.value, Visibility.HELD.value

    def shown(alias: str) -> str:
        return (
            f"{alias}.deleted_at IS NULL AND ({alias}.status = '{visible}'"
            f" OR ({alias}.author_id = %s AND {alias}.status = '{held}'))"
        )

    # Only table names and constants go into the text; values are parameters.
    return f"""
WITH roots (id) AS (
  SELECT r.id FROM {comment} r
  WHERE r.post_id = %s AND r.root_id IS NULL AND {shown("r")} AND r.id > %s
  ORDER BY r.id LIMIT %s
), picked (id) AS (
  SELECT id FROM roots
  UNION ALL
  SELECT c.id FROM {comment} c
  WHERE c.post_id = %s AND c.root_id IN (SELECT id FROM roots) AND {shown("c")}
)
SELECT c.id, c.post_id, c.author_id, c.parent_id, c.root_id, c.text, c.status, c.created_at,
  u.display_name, u.email, u.phone, pc.author_id, pu.display_name, pu.email, pu.phone
FROM picked JOIN {comment} c ON c.id = picked.id
JOIN {user} u ON u.id = c.author_id
LEFT JOIN {comment} pc ON pc.id = c.parent_id
LEFT JOIN {user} pu ON pu.id = pc.author_id
ORDER BY c.id
"""  # noqa: S608


_COMMENT_FIELDS = (
    "id",
    "post_id",
    "author_id",
    "parent_id",
    "root_id",
    "text",
    "status",
    "created_at",
)


def _comment_row(row: Any) -> Comment:
    comment = instance_from_columns(Comment, _COMMENT_FIELDS, (*row[:7], aware(row[7])))
    comment.author = card_person(row[2], row[8], row[9], row[10])
    if row[3] is not None:
        parent = instance_from_columns(Comment, ("id", "author_id"), (row[3], row[11]))
        parent.author = card_person(row[11], row[12], row[13], row[14])
        comment.parent = parent
    return comment


def comments_of_post(
    *, post: Post, viewer: Any = None, cursor: str | None = None, limit: int = 20
) -> CommentPage:
    """Top-level comments oldest first, each with its whole thread of replies (one statement).

    Visible comments for everyone; the viewer's own held ones too (marked by their status).
    Each comment carries ``author`` (the fields ``str()`` needs) and, for a reply, ``parent``
    with its ``author``; the other fields are deferred.
    """
    limit = _page_limit(limit)
    after = cursor_decode(cursor) or 0
    viewer_id = viewer.pk if _authenticated(viewer) else 0
    with connection.cursor() as db:
        db.execute(_comments_sql(), [post.pk, viewer_id, after, limit + 1, post.pk, viewer_id])
        rows = db.fetchall()
    roots: list[Comment] = []
    replies: dict[int, list[Comment]] = {}
    for row in rows:
        comment = _comment_row(row)
        if comment.root_id is None:
            roots.append(comment)
            replies.setdefault(comment.pk, [])
        else:
            replies.setdefault(comment.root_id, []).append(comment)  # type: ignore[arg-type]
    more = len(roots) > limit
    roots = roots[:limit]
    return CommentPage(
        threads=[CommentThread(comment=root, replies=replies[root.pk]) for root in roots],
        next_cursor=cursor_encode(roots[-1].pk) if more else None,
    )


# --- topics --------------------------------------------------------------------------------------


def topic_get(*, slug: str) -> Topic:
    if not slug or len(slug) > 60 or not re.fullmatch(r"[\w-]+", slug):
        raise TopicNotFound()
    topic = Topic.objects.filter(slug=slug).first()
    if topic is None:
        raise TopicNotFound()
    return topic


def topics_popular(*, limit: int = 20) -> list[Topic]:
    """Topics by how many visible posts they gather."""
    return list(
        Topic.objects.annotate(
            post_total=Count(
                "posts",
                filter=Q(posts__status=Visibility.VISIBLE, posts__deleted_at__isnull=True),
            )
        ).order_by("-post_total", "name")[: max(1, min(limit, 100))]
    )


# --- shares --------------------------------------------------------------------------------------


# Opening a share link (/s/<code>/) keeps the code in the visitor's session under this key, so a
# purchase later in the session can be attributed: share_resolve(request.session[KEY]).
REFERRAL_SESSION_KEY = "yaji_referral_code"


@dataclass(frozen=True)
class ShareRef:
    """What a share code stands for: who shared which post. Trade attributes purchases by it."""

    code: str
    post_id: int
    sharer_id: int
    created_at: datetime


def share_resolve(code: str) -> ShareRef:
    """The share behind a referral code. Raises share_not_found."""
    clean = (code or "").strip().upper()
    well_formed = 0 < len(clean) <= 16 and clean.isascii() and clean.isalnum()
    row = (
        Share.objects.filter(code=clean)
        .values_list("code", "post_id", "sharer_id", "created_at")
        .first()
        if well_formed
        else None
    )
    if row is None:
        raise ShareNotFound()
    return ShareRef(code=row[0], post_id=row[1], sharer_id=row[2], created_at=row[3])


# --- notifications -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    next_cursor: str | None


def notifications_page(
    *, user: User, cursor: str | None = None, limit: int = 20, unread_only: bool = False
) -> NotificationPage:
    limit = _page_limit(limit)
    after = cursor_decode(cursor)
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.select_related("actor", "post", "comment").order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(items=rows, next_cursor=cursor_encode(rows[-1].pk) if more else None)


def notifications_unread_count(*, user: Any) -> int:
    if not _authenticated(user):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- creator profile -----------------------------------------------------------------------------


def products_of_person(*, user: User, limit: int = 12) -> list[Any]:
    """Listed products of the person's active shops, through the catalog's selectors."""
    try:
        card = catalog_selectors.creator_get(user_id=user.pk)
    except ApplicationError:
        return []
    products: list[Any] = []
    for shop in card.shops:
        products += catalog_selectors.products_listed(shop_slug=shop.slug, limit=limit).items
    return products[:limit]


def post_counters(*, post_id: int) -> dict[str, int]:
    """The post's current counters (after a like or favourite changed one)."""
    row = (
        Post.objects.filter(pk=post_id)
        .values("like_count", "favourite_count", "comment_count", "share_count")
        .first()
    )
    if row is None:
        raise PostNotFound()
    return row
