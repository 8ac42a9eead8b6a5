"""Posts as cards: a page of posts with everything a card shows, in ONE SQL statement.

A card shows the post, its author, its pictures, tagged topics, works and products, and whether
the viewer liked or saved it. Loading those with ``prefetch_related`` costs one round trip per
relation (6–7 statements a page) plus the ORM building each prefetch and a model instance per
related row; under load the round trips dominated the feed (ADR 0041). Here every relation is a
correlated subquery in the page's own select list that aggregates its rows into a JSON array
(``json_agg`` on PostgreSQL, ``json_group_array`` on SQLite), and the viewer's marks are two
``EXISTS``. The page is chosen first in an inner subquery (``id IN (… LIMIT n)``), so the
per-row subqueries run for the page's rows only, whatever plan picks them.

The results are plain attributes on each ``Post``: ``card_images`` (``PostImage`` rows without a
query), ``card_topics``, ``card_works``, ``card_products``, ``viewer_liked``,
``viewer_favourited``. Templates and presenters read those, never ``post.images.all()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Aggregate,
    BooleanField,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import JSONArray

from yaji.community.models import Favourite, Like, Post, PostImage, Topic, Work, WorkStatus

# Only what a card shows of the author (str(user) falls back to the masked e-mail or phone).
_AUTHOR_FIELDS = ("author__id", "author__display_name", "author__email", "author__phone")
_POST_FIELDS = (
    "id",
    "author_id",
    "text",
    "video",
    "video_format",
    "status",
    "like_count",
    "favourite_count",
    "comment_count",
    "share_count",
    "deleted_at",
    "created_at",
    "updated_at",
)


class _JSONRows(Aggregate):
    """The group's rows as one JSON array, returned as text (parsed once in Python)."""

    function = "JSON_GROUP_ARRAY"  # SQLite
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="%(function)s(%(expressions)s)::text",
        )


def _rows(qs: QuerySet[Any], *fields: str) -> Subquery:
    """``qs``'s rows for the outer post as a JSON array of ``fields`` (NULL when there are none)."""
    return Subquery(
        qs.filter(post_id=OuterRef("pk"))
        .values("post_id")
        .annotate(rows=_JSONRows(JSONArray(*fields)))
        .values("rows")[:1],
        output_field=TextField(),
    )


@dataclass(frozen=True, slots=True)
class TaggedProduct:
    """A product tagged on a post: enough for the link and its title."""

    pk: int
    title: str

    def __str__(self) -> str:
        return self.title


def _statement(qs: QuerySet[Post], viewer: Any) -> QuerySet[Post]:
    signed_in = viewer is not None and bool(getattr(viewer, "is_authenticated", False))
    mark: Any
    if signed_in:
        liked: Any = Exists(Like.objects.filter(user_id=viewer.pk, post_id=OuterRef("pk")))
        saved: Any = Exists(Favourite.objects.filter(user_id=viewer.pk, post_id=OuterRef("pk")))
    else:
        mark = Value(False, output_field=BooleanField())
        liked = saved = mark
    return (
        qs.select_related("author")
        .only(*_POST_FIELDS, *_AUTHOR_FIELDS)
        .annotate(
            j_images=_rows(PostImage.objects, "id", "image", "width", "height", "position"),
            j_topics=_rows(
                Post.topics.through.objects,
                "topic_id",
                "topic__name",
                "topic__slug",
                "topic__description",
            ),
            j_works=_rows(
                Post.works.through.objects.filter(work__status=WorkStatus.PUBLISHED),
                "work_id",
                "work__title",
                "work__kind",
            ),
            j_products=_rows(Post.products.through.objects, "product_id", "product__title_zh"),
            viewer_liked=liked,
            viewer_favourited=saved,
        )
    )


def _parse(raw: str | None) -> list[list[Any]]:
    return json.loads(raw) if raw else []


def _dress(post: Post) -> Post:
    images = sorted(_parse(post.j_images), key=lambda r: (r[4], r[0]))  # type: ignore[attr-defined]
    post.card_images = [  # type: ignore[attr-defined]
        PostImage(id=r[0], post_id=post.pk, image=r[1], width=r[2], height=r[3], position=r[4])
        for r in images
    ]
    topics = sorted(_parse(post.j_topics), key=lambda r: (r[1], r[0]))  # type: ignore[attr-defined]
    post.card_topics = [  # type: ignore[attr-defined]
        Topic(id=r[0], name=r[1], slug=r[2], description=r[3]) for r in topics
    ]
    works = sorted(_parse(post.j_works), key=lambda r: r[0])  # type: ignore[attr-defined]
    post.card_works = [Work(id=r[0], title=r[1], kind=r[2]) for r in works]  # type: ignore[attr-defined]
    products = sorted(_parse(post.j_products), key=lambda r: r[0])  # type: ignore[attr-defined]
    post.card_products = [TaggedProduct(pk=r[0], title=r[1]) for r in products]  # type: ignore[attr-defined]
    post.viewer_liked = bool(post.viewer_liked)  # type: ignore[attr-defined]
    post.viewer_favourited = bool(post.viewer_favourited)  # type: ignore[attr-defined]
    return post


def cards_page(rows: QuerySet[Post], *, viewer: Any) -> list[Post]:
    """The posts ``rows`` selects (filtered, ordered by ``-pk``, sliced to a page) as cards,
    newest first, in one statement."""
    qs = Post.objects.filter(pk__in=rows.values("pk"))
    return [_dress(post) for post in _statement(qs, viewer).order_by("-pk")]


def cards_by_id(ids: list[int], *, viewer: Any, shown: Any = None) -> list[Post]:
    """The posts with these ids as cards, in the order of ``ids`` (missing ones left out).
    ``shown`` is an extra filter (a ``Q``) a post must pass."""
    if not ids:
        return []
    qs = Post.objects.filter(pk__in=ids)
    if shown is not None:
        qs = qs.filter(shown)
    found = {post.pk: _dress(post) for post in _statement(qs, viewer)}
    return [found[i] for i in ids if i in found]
