"""The issue's "Bad input" list over the API: each is a clear 4xx and nothing is half-done."""

from __future__ import annotations

import pytest

from yaji.catalog.tests.factories import verified_user
from yaji.ledger.tests.factories import wallet
from yaji.trade import services
from yaji.trade.models import Address, Checkout, CheckoutStatus, Order, OrderStatus, Review
from yaji.trade.tests.factories import address_for, cart_with, listed, variant_of
from yaji.trade.tests.test_api import ADDRESS, signed_in, with_key

pytestmark = pytest.mark.django_db


def completed_order(product=None) -> Order:  # type: ignore[no-untyped-def]
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (product or listed(stock=5), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS10203040"
    )
    return services.order_confirm_receipt(buyer=buyer, order_id=order.pk)


def test_quantity_zero_negative_or_over_the_limit_is_refused() -> None:
    edition = listed(stock=10, kind="limited_edition", edition_size=10, per_buyer_limit=2)
    api = signed_in(verified_user())
    variant_id = variant_of(edition).pk
    for quantity in (0, -1, 100):
        assert (
            api.post("/cart/lines", {"variant_id": variant_id, "quantity": quantity}).status_code
            == 422
        )
    over = api.post("/cart/lines", {"variant_id": variant_id, "quantity": 3})
    assert over.status_code == 409 and over.json()["code"] == "per_buyer_limit_exceeded"
    assert api.get("/cart").json()["count"] == 0  # nothing was put in the cart
    line = api.post("/cart/lines", {"variant_id": variant_id, "quantity": 2}).json()
    line_id = line["groups"][0]["items"][0]["line_id"]
    assert api.patch(f"/cart/lines/{line_id}", {"quantity": 0}).status_code == 422
    assert (
        api.patch(f"/cart/lines/{line_id}", {"quantity": 5}).json()["code"]
        == "per_buyer_limit_exceeded"
    )
    assert api.get("/cart").json()["count"] == 2


def test_a_product_of_another_shops_order_cannot_be_reviewed_on_mine() -> None:
    mine = completed_order()
    theirs = completed_order()
    api = signed_in(mine.buyer)
    other_product = theirs.lines.get().product_id
    response = api.client.post(
        f"/api/v1/orders/{mine.pk}/reviews",
        {"product_id": other_product, "rating": 5, "text": "好"},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 409 and response.json()["code"] == "review_not_allowed"
    # and someone else's order is not found at all
    foreign = api.client.post(
        f"/api/v1/orders/{theirs.pk}/reviews",
        {"product_id": other_product, "rating": 5},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert foreign.status_code == 404
    assert not Review.objects.exists()


def test_reviewing_without_buying_is_refused() -> None:
    order = completed_order()
    stranger = signed_in(verified_user())
    response = stranger.client.post(
        f"/api/v1/orders/{order.pk}/reviews",
        {"product_id": order.lines.get().product_id, "rating": 4},
        headers={"Authorization": f"Bearer {stranger.token}"},
    )
    assert response.status_code == 404
    assert not Review.objects.exists()


def test_an_address_that_does_not_exist_is_refused() -> None:
    api = signed_in(verified_user())
    response = api.post("/addresses", {**ADDRESS, "city": "苏州市"})  # not in 浙江省
    assert response.status_code == 400 and response.json()["code"] == "unknown_division"
    assert not Address.objects.exists()
    product = listed(stock=5)
    api.post("/cart/lines", {"variant_id": variant_of(product).pk})
    someone_elses = address_for(verified_user())
    placed = with_key(api, "/checkouts", {"address_id": someone_elses.pk})
    assert placed.status_code == 400 and placed.json()["code"] == "address_required"
    assert not Checkout.objects.exists() and variant_of(product).stock == 5


def test_paying_a_cancelled_order_is_refused_and_moves_no_money() -> None:
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    api = signed_in(buyer)
    product = listed(stock=5)
    api.post("/cart/lines", {"variant_id": variant_of(product).pk})
    address = api.post("/addresses", ADDRESS).json()
    checkout = with_key(api, "/checkouts", {"address_id": address["id"]}).json()
    assert with_key(api, f"/checkouts/{checkout['id']}/cancel").status_code == 200
    paid = with_key(api, f"/checkouts/{checkout['id']}/pay")
    assert paid.status_code == 409 and paid.json()["code"] == "checkout_not_payable"
    assert Checkout.objects.get(pk=checkout["id"]).status == CheckoutStatus.CANCELLED
    assert Order.objects.get(checkout_id=checkout["id"]).status == OrderStatus.CANCELLED
    assert api.get("/orders").json()["items"][0]["paid_at"] is None
    assert variant_of(product).stock == 5


def test_confirming_someone_elses_delivery_is_not_found() -> None:
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (listed(stock=5), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS10203040"
    )
    for intruder in (verified_user(), order.shop.owner):
        response = with_key(signed_in(intruder), f"/orders/{order.pk}/confirm-receipt")
        assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
