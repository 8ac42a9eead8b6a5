"""Trade pages through the Django test client: guest cart → login merge → checkout → pay → orders."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.tests.factories import PASSWORD
from yaji.catalog.tests.factories import verified_user
from yaji.ledger.tests.factories import wallet
from yaji.trade.models import Checkout, Order, OrderStatus
from yaji.trade.tests.factories import listed, variant_of

pytestmark = pytest.mark.django_db


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_guest_cart_follows_the_login_and_the_purchase_completes() -> None:
    product = listed(stock=3)
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    client = Client()

    # a guest puts the product in the cart
    response = client.post("/cart/add/", {"variant_id": variant_of(product).pk, "quantity": 2})
    assert response.status_code == 302 and response["Location"] == "/cart/"
    page = text(client.get("/cart/"))
    assert "青瓷茶盏" in page and "¥336.00" in page

    # checkout needs a login; after it the guest cart is the member's cart
    assert client.get("/checkout/")["Location"].startswith("/account/login/")
    client.post("/account/login/", {"identifier": buyer.email, "password": PASSWORD})
    assert "¥336.00" in text(client.get("/cart/"))

    # a new address and the order
    response = client.post(
        "/checkout/",
        {
            "address_id": "new",
            "recipient": "陆游",
            "phone": "13700002222",
            "province": "浙江省",
            "city": "绍兴市",
            "line": "沈园 1 号",
            f"shipping_{product.shop_id}": "standard",
        },
    )
    checkout = Checkout.objects.get(buyer=buyer)
    assert response.status_code == 302 and response["Location"] == f"/checkout/{checkout.pk}/"
    pay_page = text(client.get(f"/checkout/{checkout.pk}/"))
    assert "¥346.00" in pay_page  # ¥336.00 + ¥10.00 shipping

    # pay from the wallet → my orders
    response = client.post(f"/checkout/{checkout.pk}/")
    assert response.status_code == 302 and response["Location"] == "/orders/"
    order = Order.objects.get(buyer=buyer)
    assert order.status == OrderStatus.PROCESSING
    assert order.number in text(client.get("/orders/"))
    assert "沈园 1 号" in text(client.get(f"/orders/{order.number}/"))

    # the shop ships from its order page; the buyer confirms receipt
    owner = Client()
    owner.force_login(product.shop.owner)
    assert order.number in text(owner.get(f"/shops/{product.shop.slug}/orders/"))
    owner.post(
        f"/shop-orders/{order.pk}/ship/", {"carrier": "顺丰", "tracking_number": "SF10002000"}
    )
    client.post(f"/orders/{order.number}/", {"action": "confirm"})
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_checkout_errors_are_shown_on_the_page_and_nothing_is_written() -> None:
    product = listed(stock=1)
    buyer = verified_user()
    client = Client()
    client.force_login(buyer)
    client.post("/cart/add/", {"variant_id": variant_of(product).pk})
    response = client.post("/checkout/", {"address_id": "new", "recipient": "x", "phone": "123"})
    assert response.status_code == 400
    assert "收货地址的“联系电话”缺失或无效" in text(response)  # names the field (ADR 0040)
    assert not Checkout.objects.exists()


def test_others_cannot_see_orders_or_manage_a_shops_orders() -> None:
    product = listed(stock=1)
    stranger = Client()
    stranger.force_login(verified_user())
    assert stranger.get(f"/shops/{product.shop.slug}/orders/").status_code == 404
    assert stranger.get("/orders/YJ0000000000/").status_code == 404
    assert stranger.get("/checkout/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert stranger.post("/shop-orders/999999/ship/", {"carrier": "x"}).status_code == 404


def test_after_sales_and_a_dispute_through_the_pages() -> None:
    from yaji.accounts.models import Role, RoleAssignment
    from yaji.trade import services
    from yaji.trade.models import AfterSale
    from yaji.trade.tests.factories import address_for, cart_with

    product = listed(stock=2)
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (product, 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    services.order_ship(
        actor=product.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS99990000"
    )
    client, owner, operator_client = Client(), Client(), Client()
    client.force_login(buyer)
    owner.force_login(product.shop.owner)
    operator = verified_user()
    RoleAssignment.objects.create(user=operator, role=Role.OPERATOR)
    operator_client.force_login(operator)

    client.post(
        f"/orders/{order.number}/",
        {"action": "after_sale", "kind": "refund_only", "reason": "破损", "amount": "50.00"},
    )
    request = AfterSale.objects.get(order=order)
    assert request.amount_fen == 5000
    assert "破损" in text(owner.get(f"/shops/{product.shop.slug}/orders/"))
    owner.post(f"/after-sales/{request.pk}/shop/", {"action": "reject", "note": "发货时完好"})
    client.post(f"/orders/{order.number}/", {"action": "escalate", "after_sale_id": request.pk})
    assert Client().get("/review/disputes/").status_code == 302  # login first
    assert client.get("/review/disputes/").status_code == 404  # buyers are not operators
    assert order.number in text(operator_client.get("/review/disputes/"))
    operator_client.post(
        "/review/disputes/",
        {"after_sale_id": request.pk, "decision": "refund", "note": "照片可见破损"},
    )
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.status == "refunded" and order.status == OrderStatus.CLOSED


def test_a_paid_download_is_fetched_from_the_order_page() -> None:
    from yaji.trade import services
    from yaji.trade.tests.factories import cart_with, listed_download

    ebook = listed_download()
    buyer = verified_user()
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (ebook, 1))
    checkout = services.checkout_place(buyer=buyer)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    client = Client()
    client.force_login(buyer)
    assert 'data-testid="download"' in text(client.get(f"/orders/{order.number}/"))
    response = client.post(
        f"/orders/{order.number}/", {"action": "download", "line_id": order.lines.get().pk}
    )
    assert response.status_code == 302
    download = client.get(response["Location"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
