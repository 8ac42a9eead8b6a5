"""Reviews: buyers of completed orders only, once; photos re-encoded; the shop replies once."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.tests.conftest import Api
from yaji.accounts.tests.factories import PASSWORD
from yaji.catalog.tests.factories import image_upload, verified_user
from yaji.core.errors import NotFound
from yaji.ledger.tests.factories import wallet
from yaji.trade import reviews, services
from yaji.trade.errors import InvalidReview, ReplyNotAllowed, ReviewNotAllowed
from yaji.trade.tests.factories import address_for, cart_with, listed

pytestmark = pytest.mark.django_db


def completed_order(buyer=None):  # type: ignore[no-untyped-def]
    buyer = buyer or verified_user()
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (listed(), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS55556666"
    )
    return order


def test_a_buyer_reviews_a_completed_order_once_and_the_shop_replies_once() -> None:
    order = completed_order()
    product_id = order.lines.get().product_id
    with pytest.raises(ReviewNotAllowed):  # shipped, not completed yet
        reviews.review_create(buyer=order.buyer, order_id=order.pk, product_id=product_id, rating=5)
    services.order_confirm_receipt(buyer=order.buyer, order_id=order.pk)
    review = reviews.review_create(
        buyer=order.buyer,
        order_id=order.pk,
        product_id=product_id,
        rating=4,
        text="釉色温润，包装用心。",
        photos=[image_upload()],
    )
    photo = review.photos.get()
    assert photo.file.name.endswith(".webp") and photo.thumb.name.endswith("_400.webp")
    with pytest.raises(ReviewNotAllowed):
        reviews.review_create(buyer=order.buyer, order_id=order.pk, product_id=product_id, rating=5)
    rating = reviews.product_rating(product=review.product)
    assert (rating.average, rating.count) == (4.0, 1)
    with pytest.raises(NotFound):
        reviews.review_reply(actor=verified_user(), review_id=review.pk, text="谢谢")
    reviews.review_reply(actor=order.shop.owner, review_id=review.pk, text="谢谢喜欢！")
    with pytest.raises(ReplyNotAllowed):
        reviews.review_reply(actor=order.shop.owner, review_id=review.pk, text="再谢")


@pytest.mark.parametrize("rating", [0, 6, True])
def test_bad_ratings_are_refused(rating: object) -> None:
    order = completed_order()
    services.order_confirm_receipt(buyer=order.buyer, order_id=order.pk)
    with pytest.raises(InvalidReview):
        reviews.review_create(
            buyer=order.buyer,
            order_id=order.pk,
            product_id=order.lines.get().product_id,
            rating=rating,  # type: ignore[arg-type]
        )


def test_someone_elses_order_cannot_be_reviewed() -> None:
    order = completed_order()
    services.order_confirm_receipt(buyer=order.buyer, order_id=order.pk)
    with pytest.raises(NotFound):
        reviews.review_create(
            buyer=verified_user(),
            order_id=order.pk,
            product_id=order.lines.get().product_id,
            rating=5,
        )


def test_reviews_over_the_api() -> None:
    order = completed_order()
    services.order_confirm_receipt(buyer=order.buyer, order_id=order.pk)
    product_id = order.lines.get().product_id
    api = Api()
    api.login(order.buyer.email, PASSWORD)
    response = api.client.post(
        f"/api/v1/orders/{order.pk}/reviews",
        {"product_id": product_id, "rating": 5, "text": "好", "photos": [image_upload()]},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 201, response.content
    listed_reviews = Client().get(f"/api/v1/products/{product_id}/reviews").json()
    assert listed_reviews["average"] == 5.0 and listed_reviews["count"] == 1
    assert listed_reviews["items"][0]["photos"][0].endswith("_400.webp")
    again = api.client.post(
        f"/api/v1/orders/{order.pk}/reviews",
        {"product_id": product_id, "rating": 5},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert again.status_code == 409 and again.json()["code"] == "review_not_allowed"
