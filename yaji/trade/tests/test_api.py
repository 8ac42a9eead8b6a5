"""The trade API end to end: cart → address → checkout → pay → ship → confirm; errors; permissions."""

from __future__ import annotations

import uuid

import pytest

from yaji.accounts.tests.conftest import Api
from yaji.accounts.tests.factories import PASSWORD
from yaji.catalog.tests.factories import verified_user
from yaji.ledger.tests.factories import wallet
from yaji.trade.tests.factories import listed, variant_of

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient": "苏东坡",
    "phone": "13900001111",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "line": "苏堤春晓 1 号",
}


def signed_in(user) -> Api:  # type: ignore[no-untyped-def]
    api = Api()
    api.login(user.email, PASSWORD)
    return api


def key() -> dict[str, dict[str, str]]:
    return {"headers": {"Idempotency-Key": str(uuid.uuid4())}}


def with_key(api: Api, path: str, data: dict | None = None, idem: str | None = None):  # type: ignore[no-untyped-def]
    return api.post(path, data, headers={"Idempotency-Key": idem or str(uuid.uuid4())})


def test_the_whole_purchase_over_the_api() -> None:
    # given a listed product and a buyer with money
    product = listed(stock=4)
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    api = signed_in(buyer)

    # cart
    response = api.post("/cart/lines", {"variant_id": variant_of(product).pk, "quantity": 2})
    assert response.status_code == 201, response.content
    cart = response.json()
    assert cart["items_fen"] == 33600 and cart["count"] == 2 and cart["buyable"]
    line_id = cart["groups"][0]["items"][0]["line_id"]
    assert api.patch(f"/cart/lines/{line_id}", {"quantity": 1}).json()["count"] == 1

    # address and checkout (Idempotency-Key required; a retry replays the same checkout)
    address = api.post("/addresses", ADDRESS)
    assert address.status_code == 201 and address.json()["phone_masked"] == "139****1111"
    body = {
        "address_id": address.json()["id"],
        "shipping_options": {str(product.shop_id): "express"},
    }
    assert api.post("/checkouts", body).json()["code"] == "idempotency_key_required"
    idem = str(uuid.uuid4())
    placed = with_key(api, "/checkouts", body, idem)
    assert placed.status_code == 201, placed.content
    again = with_key(api, "/checkouts", body, idem)
    assert again.json()["id"] == placed.json()["id"]
    checkout = placed.json()
    assert checkout["total_fen"] == 16800 + 1500  # express: 1.5 × the first kilogram
    order = checkout["orders"][0]
    assert order["status"] == "pending_payment" and order["shipping_option"] == "express"

    # pay from the wallet
    paid = with_key(api, f"/checkouts/{checkout['id']}/pay")
    assert paid.status_code == 200, paid.content
    assert paid.json()["orders"][0]["status"] == "processing"

    # the shop ships; the buyer confirms; the order completes
    shop_api = signed_in(product.shop.owner)
    shop_orders = shop_api.get(f"/shops/{product.shop.slug}/orders").json()
    assert [o["number"] for o in shop_orders["items"]] == [order["number"]]
    shipped = shop_api.post(
        f"/shop-orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_number": "SF998877665"}
    )
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    done = with_key(api, f"/orders/{order['id']}/confirm-receipt")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    listing = api.get("/orders").json()
    assert listing["items"][0]["status"] == "completed"
    statuses = [event["status"] for event in listing["items"][0]["events"]]
    assert statuses == ["pending_payment", "paid", "processing", "shipped", "completed"]


def test_errors_are_stable_codes_and_others_orders_are_not_found() -> None:
    product = listed(stock=1)
    buyer = verified_user()
    api = signed_in(buyer)
    assert api.post("/cart/lines", {"variant_id": 10**12}).json()["code"] == "product_unavailable"
    assert (
        api.post("/cart/lines", {"variant_id": variant_of(product).pk, "quantity": 0}).status_code
        == 422
    )
    assert with_key(api, "/checkouts", {}).json()["code"] == "cart_empty"
    api.post("/cart/lines", {"variant_id": variant_of(product).pk})
    assert with_key(api, "/checkouts", {}).json()["code"] == "address_required"
    bad = api.post("/addresses", {**ADDRESS, "phone": "12345678"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_address"
    assert bad.json()["extra"]["field"] == "phone"
    address = api.post("/addresses", ADDRESS).json()
    checkout = with_key(api, "/checkouts", {"address_id": address["id"]}).json()
    poor = with_key(api, f"/checkouts/{checkout['id']}/pay")
    assert poor.status_code == 409 and poor.json()["code"] == "insufficient_funds"
    assert api.get("/orders?status=nonsense").status_code == 422
    assert api.get("/checkouts/not-a-uuid").status_code == 404

    # someone else sees none of it, and cannot ship it
    other = signed_in(verified_user())
    order_id = checkout["orders"][0]["id"]
    assert other.get(f"/orders/{order_id}").status_code == 404
    assert other.get(f"/checkouts/{checkout['id']}").status_code == 404
    assert other.get(f"/shops/{product.shop.slug}/orders").status_code == 404
    ship = other.post(
        f"/shop-orders/{order_id}/ship", {"carrier": "EMS", "tracking_number": "EMS12345678"}
    )
    assert ship.status_code == 404
    assert Api().get("/cart").status_code == 401
