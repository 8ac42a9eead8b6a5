"""The flash-sale page's 立即抢购 and the shop's shipping-template page, through the Django test
client (the browser test covers the main path in Chromium)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from yaji.catalog.tests.factories import verified_user
from yaji.core import clock
from yaji.trade import services
from yaji.trade.models import Checkout, FlashSale, ShippingTemplate
from yaji.trade.tests.factories import address_for, listed
from yaji.trade.tests.test_flash import sale_on

pytestmark = pytest.mark.django_db


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_buy_now_from_the_sale_page_with_a_saved_address_then_the_limit_and_sold_out() -> None:
    sale = sale_on(listed(stock=10), stock=1, limit=1)
    buyer = verified_user()
    address = address_for(buyer)
    url = f"/flash-sales/{sale.pk}/"

    anonymous = Client().get(url)
    assert "登录后抢购" in text(anonymous) and "立即抢购" not in text(anonymous)
    assert Client().post(url, {"address_id": address.pk})["Location"].startswith("/account/login/")

    client = signed_in(buyer)
    page = client.get(url)
    assert "立即抢购" in text(page) and address.recipient in text(page)
    placed = client.post(
        url, {"address_id": address.pk, "quantity": 1, "shipping_option": "express"}
    )
    checkout = Checkout.objects.get(buyer=buyer)
    assert placed.status_code == 302 and placed["Location"] == f"/checkout/{checkout.pk}/"
    order = checkout.orders.get()
    assert order.shipping_option == "express" and order.lines.get().flash_sale_id == sale.pk

    again = client.post(url, {"address_id": address.pk})
    assert again.status_code == 409 and "每人限购 1 件，你已抢到 1 件。" in text(again)

    late = verified_user()
    late_page = signed_in(late).get(url)
    assert "已抢光" in text(late_page) and "立即抢购" not in text(late_page)
    refused = signed_in(late).post(url, {"address_id": address_for(late).pk})
    assert refused.status_code == 409 and "手慢了，本场秒杀已抢光" in text(refused)
    assert Checkout.objects.count() == 1


def test_buy_now_with_a_new_address_and_the_sales_window() -> None:
    now = clock.now()
    product = listed(stock=10)
    sale = sale_on(product, stock=3, limit=2)
    later = sale_on(
        product, stock=1, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3)
    )
    buyer = verified_user()
    client = signed_in(buyer)
    form = {
        "address_id": "new",
        "address_kind": "cn",
        "recipient": "陆游",
        "phone": "13700002222",
        "province": "浙江省",
        "city": "绍兴市",
        "district": "越城区",
        "line": "沈园 1 号",
        "quantity": "2",
    }
    bad = client.post(f"/flash-sales/{sale.pk}/", {**form, "line": ""})
    assert bad.status_code == 400 and not Checkout.objects.exists()
    placed = client.post(f"/flash-sales/{sale.pk}/", form)
    assert placed.status_code == 302
    assert Checkout.objects.get(buyer=buyer).orders.get().lines.get().quantity == 2
    assert FlashSale.objects.get(pk=sale.pk).stock == 1

    upcoming = client.get(f"/flash-sales/{later.pk}/")
    assert "秒杀尚未开始" in text(upcoming) and "立即抢购" not in text(upcoming)
    early = client.post(f"/flash-sales/{later.pk}/", {**form, "address_id": "new"})
    assert early.status_code == 409 and "秒杀尚未开始" in text(early)
    FlashSale.objects.filter(pk=later.pk).update(
        starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )
    ended = client.post(f"/flash-sales/{later.pk}/", {"address_id": "1"})
    assert ended.status_code == 409 and "本场秒杀已结束" in text(ended)
    assert Checkout.objects.count() == 1
    listing = client.get("/flash-sales/")
    assert sale.title in text(listing)
    assert Client().get("/flash-sales/999999999/").status_code == 404


def test_the_shop_sets_its_international_rate_on_its_own_page_and_checkout_uses_it() -> None:
    product = listed(stock=10)
    shop = product.shop
    owner = signed_in(shop.owner)
    url = f"/shops/{shop.slug}/shipping/"
    page = owner.get(url)
    assert page.status_code == 200 and 'value="10.00"' in text(page)  # the default first kg
    saved = owner.post(
        url,
        {
            "first_kg_fen": "12",
            "extra_kg_fen": "5.5",
            "free_over_fen": "299",
            "remote_regions": ["西藏自治区", "新疆维吾尔自治区"],
            "remote_extra_fen": "8",
            "white_glove_fen": "0",
            "international_first_kg_fen": "120.50",
            "international_extra_kg_fen": "40",
        },
    )
    assert saved.status_code == 302
    template = ShippingTemplate.objects.get(shop=shop)
    assert (template.first_kg_fen, template.extra_kg_fen, template.free_over_fen) == (
        1200,
        550,
        29900,
    )
    assert (template.international_first_kg_fen, template.international_extra_kg_fen) == (
        12050,
        4000,
    )
    assert template.remote_regions == ["新疆维吾尔自治区", "西藏自治区"]
    assert 'value="120.50"' in text(owner.get(url))
    fee = services.shipping_fee_fen(
        shop=shop, weight_g=1500, items_fen=100, option="standard", country="US"
    )
    assert fee == 12050 + 4000

    for field, value in (
        ("first_kg_fen", "-1"),
        ("extra_kg_fen", "1.234"),
        ("international_first_kg_fen", "abc"),
        ("first_kg_fen", "0"),
    ):
        refused = owner.post(url, {"first_kg_fen": "12", "extra_kg_fen": "5", field: value})
        assert refused.status_code == 400, (field, value)
        assert "运费设置无效" in text(refused) and value in text(refused)
    unknown = owner.post(url, {"first_kg_fen": "12", "remote_regions": ["火星"]})
    assert unknown.status_code == 400
    intl_extra_only = owner.post(url, {"first_kg_fen": "12", "international_extra_kg_fen": "40"})
    assert intl_extra_only.status_code == 400
    assert ShippingTemplate.objects.get(shop=shop).international_first_kg_fen == 12050

    assert signed_in(verified_user()).get(url).status_code == 404
    assert signed_in(verified_user()).post(url, {"first_kg_fen": "1"}).status_code == 404
