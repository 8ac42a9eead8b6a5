"""Reviews: only buyers of completed orders, once per product per order; the shop replies once.

Photos are checked and re-encoded like product images (metadata stripped, a thumbnail made).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, QuerySet, prefetch_related_objects

from yaji.accounts.models import User
from yaji.catalog.images import image_process
from yaji.catalog.models import Product, Shop
from yaji.catalog.permissions import shop_can_manage
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.core.outbox import outbox_publish
from yaji.trade.errors import InvalidReview, ReplyNotAllowed, ReviewNotAllowed
from yaji.trade.models import Order, OrderStatus, Review, ReviewPhoto

PHOTOS_MAX = 9
TEXT_MAX = 1000
TOPIC_REVIEW_CREATED = "trade.review_created"


def review_create(
    *,
    buyer: User,
    order_id: int,
    product_id: int,
    rating: int,
    text: str = "",
    photos: Sequence[UploadedFile] = (),
) -> Review:
    """Review a product of one of my completed orders (once)."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidReview(extra={"field": "rating"})
    text = (text or "").strip()
    if len(text) > TEXT_MAX or "\x00" in text:
        raise InvalidReview(extra={"field": "text", "max_length": TEXT_MAX})
    if len(photos) > PHOTOS_MAX:
        raise InvalidReview(extra={"field": "photos", "max": PHOTOS_MAX})
    order = Order.objects.filter(pk=order_id, buyer=buyer).first()
    if order is None:
        raise NotFound()
    if (
        order.status != OrderStatus.COMPLETED
        or not order.lines.filter(product_id=product_id).exists()
    ):
        raise ReviewNotAllowed(extra={"status": order.status})
    processed = [image_process(photo) for photo in photos]  # outside the transaction
    saved: list[str] = []
    try:
        with transaction.atomic(durable=True):
            try:
                with transaction.atomic():
                    review = Review.objects.create(
                        order=order,
                        product_id=product_id,
                        shop_id=order.shop_id,
                        buyer=buyer,
                        rating=rating,
                        text=text,
                    )
            except IntegrityError as exc:
                raise ReviewNotAllowed(extra={"reason": "already_reviewed"}) from exc
            for image in processed:
                stem = f"reviews/{review.pk}/{uuid.uuid4().hex}"
                full = default_storage.save(f"{stem}.webp", ContentFile(image.full))
                saved.append(full)
                thumb = default_storage.save(f"{stem}_400.webp", ContentFile(image.thumbs[400]))
                saved.append(thumb)
                ReviewPhoto.objects.create(
                    review=review, file=full, thumb=thumb, width=image.width, height=image.height
                )
            outbox_publish(
                topic=TOPIC_REVIEW_CREATED,
                payload={"review_id": review.pk, "product_id": product_id, "rating": rating},
                key=str(product_id),
            )
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    return review


@transaction.atomic(durable=True)
def review_reply(*, actor: User, review_id: int, text: str) -> Review:
    """The shop answers a review, once."""
    review = Review.objects.select_for_update().select_related("shop").filter(pk=review_id).first()
    if review is None or not shop_can_manage(actor, review.shop):
        raise NotFound()
    text = (text or "").strip()
    if not text or len(text) > TEXT_MAX or "\x00" in text:
        raise InvalidReview(extra={"field": "reply", "max_length": TEXT_MAX})
    if review.reply:
        raise ReplyNotAllowed()
    review.reply, review.replied_at = text, clock.now()
    review.save(update_fields=["reply", "replied_at", "updated_at"])
    return review


@dataclass(frozen=True)
class Rating:
    average: float | None
    count: int


def _rating(qs: QuerySet[Review]) -> Rating:
    row = qs.aggregate(average=Avg("rating"), count=Count("id"))
    average = round(float(row["average"]), 1) if row["average"] is not None else None
    return Rating(average=average, count=row["count"])


def product_rating(*, product: Product) -> Rating:
    return _rating(Review.objects.filter(product=product))


def shop_rating(*, shop: Shop) -> Rating:
    return _rating(Review.objects.filter(shop=shop))


def reviews_of_product(*, product: Product, limit: int = 20) -> list[Review]:
    return list(
        Review.objects.filter(product=product)
        .select_related("buyer")
        .prefetch_related("photos")[: max(1, min(limit, 100))]
    )


def product_reviews_rated(*, product_id: int, limit: int = 20) -> tuple[list[Review], Rating]:
    """``reviews_of_product`` and ``product_rating`` in one statement (+ the photos when there
    are reviews), for the product page (catalog ADR 0054): the count and average are window
    aggregates over all of the product's reviews, computed before the ``LIMIT``. The reviews
    carry only what the page shows (rating, text, reply, date, photos)."""
    table = connection.ops.quote_name(Review._meta.db_table)
    sql = (
        "SELECT id, rating, text, reply, created_at, COUNT(*) OVER (), AVG(rating) OVER ()"  # noqa: S608  # table name only
        f" FROM {table} WHERE product_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [product_id, max(1, min(limit, 100))])
        rows = cursor.fetchall()
    if not rows:
        return [], Rating(average=None, count=0)
    # The ORM's own conversion of the one typed column (SQLite hands back text or naive values).
    field = Review._meta.get_field("created_at")
    column = field.get_col(Review._meta.db_table)
    converters = field.get_db_converters(connection) + connection.ops.get_db_converters(column)
    reviews = []
    for pk, rating, text, reply, created_at, _, _ in rows:
        for converter in converters:
            created_at = converter(created_at, column, connection)
        reviews.append(
            Review.from_db(
                connection.alias,
                ["id", "rating", "text", "reply", "created_at"],
                [pk, rating, text, reply, created_at],
            )
        )
    prefetch_related_objects(reviews, "photos")
    _, _, _, _, _, count, average = rows[0]
    return reviews, Rating(average=round(float(average), 1), count=count)
