"""Posts as cards: a page of posts with everything a card shows, in ONE SQL statement.

A card shows the post, its author, its pictures, tagged topics, works and products, and whether
the viewer liked or saved it. Loading those with ``prefetch_related`` cost one round trip per
relation (7 statements a feed page with the token) and the ORM building each prefetch query and
a model instance per related row; under load that was most of the feed's time (ADR 0041).

Here every relation is a correlated subquery in the page's select list that aggregates its rows
into one JSON array (``json_agg`` on PostgreSQL, ``json_group_array`` on SQLite) and the viewer's
marks are two ``EXISTS``. The page's rows are chosen first (``WITH page AS (… LIMIT n)``), so the
per-row subqueries run for the page only, whatever plan picks them. The statement's text is
built once per database vendor (it does not depend on the page), so a request pays for
compiling only the small query that picks the page.

The results are plain attributes on each ``Post``: ``author`` (only the fields a card shows),
``card_images`` (``PostImage`` rows), ``card_topics``, ``card_works``, ``card_products``,
``viewer_liked``, ``viewer_favourited``. Templates and presenters read those, never
``post.images.all()`` (which would query again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from yaji.accounts.models import User
from yaji.catalog.models import Product, Shop
from yaji.community.models import (
    Favourite,
    Like,
    Post,
    PostImage,
    Topic,
    Work,
    WorkStatus,
)

# The post's own columns a card needs (the rest stay deferred on the instance).
_POST_COLUMNS = (
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


@dataclass(frozen=True, slots=True)
class TaggedProduct:
    """A product tagged on a post: enough for the link and its title."""

    pk: int
    title: str

    def __str__(self) -> str:
        return self.title


@cache
def _sql(vendor: str) -> str:
    """The card statement around a ``{page}`` query that yields the page's post ids.

    Parameters after the page's own: the viewer's id twice (0 for anonymous: no account has it).
    """
    if vendor == "postgresql":

        def rows(*columns: str) -> str:
            return f"json_agg(json_build_array({', '.join(columns)}))::text"
    else:  # SQLite; json_group_array keeps json_array's results as nested arrays

        def rows(*columns: str) -> str:
            return f"json_group_array(json_array({', '.join(columns)}))"

    post = Post._meta.db_table
    user = User._meta.db_table
    image = PostImage._meta.db_table
    topic, post_topic = Topic._meta.db_table, Post.topics.through._meta.db_table
    work, post_work = Work._meta.db_table, Post.works.through._meta.db_table
    product, post_product = Product._meta.db_table, Post.products.through._meta.db_table
    shop = Shop._meta.db_table
    # like catalog's product_get_public: a listed product of an active shop (else its link 404s)
    listed, active = Product.Status.LISTED.value, Shop.Status.ACTIVE.value
    like, favourite = Like._meta.db_table, Favourite._meta.db_table
    columns = ", ".join(f"p.{c}" for c in _POST_COLUMNS)
    published = WorkStatus.PUBLISHED.value
    # Only table names and constants from this module go into the text; values are parameters.
    return f"""
WITH page (post_id) AS ({{page}})
SELECT {columns},
  u.display_name AS author_display_name, u.email AS author_email, u.phone AS author_phone,
  (SELECT {rows("i.id", "i.image", "i.width", "i.height", "i.position")}
     FROM {image} i WHERE i.post_id = p.id) AS j_images,
  (SELECT {rows("t.id", "t.name", "t.slug", "t.description")}
     FROM {post_topic} pt JOIN {topic} t ON t.id = pt.topic_id WHERE pt.post_id = p.id)
     AS j_topics,
  (SELECT {rows("w.id", "w.title", "w.kind")}
     FROM {post_work} pw JOIN {work} w ON w.id = pw.work_id
     WHERE pw.post_id = p.id AND w.status = '{published}') AS j_works,
  (SELECT {rows("c.id", "c.title_zh")}
     FROM {post_product} pp JOIN {product} c ON c.id = pp.product_id
     JOIN {shop} s ON s.id = c.shop_id
     WHERE pp.post_id = p.id AND c.status = '{listed}' AND s.status = '{active}') AS j_products,
  EXISTS (SELECT 1 FROM {like} l WHERE l.user_id = %s AND l.post_id = p.id) AS viewer_liked,
  EXISTS (SELECT 1 FROM {favourite} f WHERE f.user_id = %s AND f.post_id = p.id)
     AS viewer_favourited
FROM {post} p JOIN {user} u ON u.id = p.author_id
WHERE p.id IN (SELECT page.post_id FROM page)
"""  # noqa: S608


def _parse(raw: str | None) -> list[list[Any]]:
    return json.loads(raw) if raw else []


_PHONE = User._meta.get_field("phone")


def instance_from_columns(model: Any, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """``model`` built from some of its columns' values (the rest deferred), the cheap way the
    ORM builds rows (``Model.from_db``, positional): ``names`` may be in any order."""
    order = _column_order(model, names)
    return model.from_db(connection.alias, names, tuple(values[i] for i in order))


@cache
def _column_order(model: Any, names: tuple[str, ...]) -> tuple[int, ...]:
    # from_db takes the values in the model's field order
    position = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
    return tuple(sorted(range(len(names)), key=lambda i: position[names[i]]))


_PERSON_FIELDS = ("id", "display_name", "email", "phone")


def card_person(pk: int, name: str, email: str, phone: str | None) -> User:
    """An author as shown on a card or a comment: a ``User`` with the fields ``str()`` reads,
    from their raw column values. ``str(user)`` shows the (masked) phone only without a name
    and an e-mail, so the encrypted phone is decrypted only then."""
    shown_phone = (
        _PHONE.from_db_value(phone, None, connection) if phone and not (name or email) else None
    )  # type: ignore[attr-defined]
    return instance_from_columns(User, _PERSON_FIELDS, (pk, name, email, shown_phone))


def aware(value: Any) -> Any:
    """A datetime column read through a raw cursor as the ORM would give it: aware (UTC).
    PostgreSQL returns aware datetimes already; SQLite returns text or naive values."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_DATETIMES = tuple(
    i for i, c in enumerate(_POST_COLUMNS) if c in ("deleted_at", "created_at", "updated_at")
)
_IMAGE_FIELDS = ("id", "post_id", "image", "width", "height", "position")
_TOPIC_FIELDS = ("id", "name", "slug", "description")
_WORK_FIELDS = ("id", "title", "kind")


def _card(row: Any) -> Post:
    """One row of the card statement as a ``Post`` (built like the ORM's own rows, without a
    ``RawQuerySet``'s column mapping and keyword ``__init__`` per related row)."""
    n = len(_POST_COLUMNS)
    values = list(row[:n])
    for i in _DATETIMES:
        values[i] = aware(values[i])
    post: Any = instance_from_columns(Post, _POST_COLUMNS, tuple(values))
    pk = post.pk
    name, email, phone, images, topics, works, products, liked, favourited = row[n:]
    post.author = card_person(post.author_id, name, email, phone)
    post.card_images = [
        instance_from_columns(PostImage, _IMAGE_FIELDS, (r[0], pk, r[1], r[2], r[3], r[4]))
        for r in sorted(_parse(images), key=lambda r: (r[4], r[0]))
    ]
    post.card_topics = [
        instance_from_columns(Topic, _TOPIC_FIELDS, tuple(r))
        for r in sorted(_parse(topics), key=lambda r: (r[1], r[0]))
    ]
    post.card_works = [
        instance_from_columns(Work, _WORK_FIELDS, tuple(r)) for r in sorted(_parse(works))
    ]
    post.card_products = [TaggedProduct(pk=r[0], title=r[1]) for r in sorted(_parse(products))]
    post.viewer_liked = bool(liked)
    post.viewer_favourited = bool(favourited)
    return post


def _rows(page_sql: str, page_params: Any, viewer: Any) -> list[Any]:
    signed_in = viewer is not None and bool(getattr(viewer, "is_authenticated", False))
    viewer_id = viewer.pk if signed_in else 0
    sql = _sql(connection.vendor).replace("{page}", page_sql, 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*page_params, viewer_id, viewer_id])
        return cursor.fetchall()


def _load(page_sql: str, page_params: Any, viewer: Any) -> list[Post]:
    return [_card(row) for row in _rows(page_sql, page_params, viewer)]


_IMAGE_STORAGE = PostImage._meta.get_field("image").storage  # type: ignore[attr-defined]
_VIDEO_STORAGE = Post._meta.get_field("video").storage  # type: ignore[attr-defined]
_COLUMN = {c: i for i, c in enumerate(_POST_COLUMNS)}


def _card_dict(row: Any) -> dict[str, Any]:
    """One row of the card statement as ``presenters.post_dict`` would present its card, without
    building the ``Post`` and its related instances (the feed API's path, ADR 0046; a test holds
    the two equal)."""
    c, n = _COLUMN, len(_POST_COLUMNS)
    name, email, phone, images, topics, works, products, liked, favourited = row[n:]
    author = card_person(row[c["author_id"]], name, email, phone)
    video = row[c["video"]]
    return {
        "id": row[c["id"]],
        "author": {"id": author.pk, "display_name": str(author)},
        "text": row[c["text"]],
        "status": row[c["status"]],
        "images": [
            {"url": _IMAGE_STORAGE.url(r[1]), "width": r[2], "height": r[3]}
            for r in sorted(_parse(images), key=lambda r: (r[4], r[0]))
        ],
        "video_url": _VIDEO_STORAGE.url(video) if video else None,
        "topics": [
            {"id": r[0], "name": r[1], "slug": r[2], "description": r[3]}
            for r in sorted(_parse(topics), key=lambda r: (r[1], r[0]))
        ],
        "works": [{"id": r[0], "title": r[1], "kind": r[2]} for r in sorted(_parse(works))],
        "product_ids": [r[0] for r in sorted(_parse(products))],
        "like_count": row[c["like_count"]],
        "favourite_count": row[c["favourite_count"]],
        "comment_count": row[c["comment_count"]],
        "share_count": row[c["share_count"]],
        "liked": bool(liked),
        "favourited": bool(favourited),
        "created_at": aware(row[c["created_at"]]),
    }


def card_dicts_from_sql(page_sql: str, page_params: list[Any], *, viewer: Any) -> list[dict]:
    """Like ``cards_from_sql``, but each post already as the API's dict (``post_dict``)."""
    found = [_card_dict(row) for row in _rows(page_sql, page_params, viewer)]
    found.sort(key=lambda item: item["id"], reverse=True)
    return found


def cards_from_sql(page_sql: str, page_params: list[Any], *, viewer: Any) -> list[Post]:
    """The posts whose ids ``page_sql`` yields (one column, newest first, at most a page) as
    cards, newest first: for a hot page whose own query is written by hand too."""
    found = _load(page_sql, page_params, viewer)
    found.sort(key=lambda post: post.pk, reverse=True)
    return found


def cards_page(rows: QuerySet[Post], *, viewer: Any) -> list[Post]:
    """The posts ``rows`` selects (filtered, ordered newest first, sliced to a page) as cards,
    newest first, in one statement."""
    page_sql, page_params = rows.values("pk").query.sql_with_params()
    found = _load(page_sql, page_params, viewer)
    found.sort(key=lambda post: post.pk, reverse=True)
    return found


def cards_by_id(ids: list[int], *, viewer: Any, shown: Any = None) -> list[Post]:
    """The posts with these ids as cards, in the order of ``ids`` (missing ones left out).
    ``shown`` is an extra filter (a ``Q``) a post must pass."""
    if not ids:
        return []
    qs = Post.objects.filter(pk__in=ids)
    if shown is not None:
        qs = qs.filter(shown)
    page_sql, page_params = qs.values("pk").query.sql_with_params()
    found = {post.pk: post for post in _load(page_sql, page_params, viewer)}
    return [found[i] for i in ids if i in found]
