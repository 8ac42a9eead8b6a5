"""Buying in a real headless Chromium: a guest puts a piece in the cart from the product page,
signs in, checks out with a new address, pays from the wallet; the shop ships with the sandbox
carrier; the buyer sees the tracking and confirms receipt. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from yaji.catalog.tests.factories import PASSWORD, verified_user
from yaji.ledger.tests.factories import wallet
from yaji.testing.browser import ARTIFACTS
from yaji.trade.tests.factories import listed

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("手机号或邮箱").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()


@pytest.mark.django_db(transaction=True)
def test_buy_pay_ship_and_confirm(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    product = listed(stock=3)
    buyer = verified_user(email="luyou@example.com", display_name="陆游")
    wallet(user=buyer, balance=100_000)
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # A guest adds the piece to the cart from the product page.
    page.goto(f"{base}/products/{product.pk}/")
    page.get_by_test_id("add-to-cart-button").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.get_by_test_id("cart-total")).to_contain_text("168.00")
    _shot(page, "trade-cart-zh.png")

    # Checkout asks for a login; the guest cart follows the buyer in.
    page.get_by_test_id("go-checkout").click()
    _log_in(page, base, buyer.email)
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    page.get_by_label("收件人").fill("陆游")
    page.get_by_label("手机号").fill("13700002222")
    # Province → city → district cascade (HTMX loads each level's options).
    page.get_by_label("省", exact=True).select_option("浙江省")
    expect(page.get_by_label("市", exact=True).locator("option", has_text="绍兴市")).to_have_count(
        1
    )
    page.get_by_label("市", exact=True).select_option("绍兴市")
    expect(page.get_by_label("区县").locator("option", has_text="越城区")).to_have_count(1)
    page.get_by_label("区县").select_option("越城区")
    page.get_by_label("详细地址").fill("沈园 1 号")
    _shot(page, "trade-checkout-zh.png")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay-total")).to_contain_text("178.00")  # + ¥10.00 shipping
    _shot(page, "trade-pay-zh.png")
    page.get_by_test_id("pay-wallet").click()
    expect(page).to_have_url(re.compile(r"/orders/$"))
    expect(page.get_by_test_id("order-status").first).to_contain_text("备货中")

    # The shop ships with the sandbox carrier.
    shop = context.browser.new_context(locale="zh-CN").new_page()
    shop.set_default_timeout(15_000)
    shop.goto(f"{base}/account/login/")
    _log_in(shop, base, product.shop.owner.email)
    shop.goto(f"{base}/shops/{product.shop.slug}/orders/")
    shop.get_by_label("承运商").fill("sandbox")
    shop.get_by_label("运单号").fill("YJSB00001234")
    shop.get_by_test_id("ship").click()
    expect(shop.get_by_test_id("shop-order").first).to_contain_text("已发货")
    _shot(shop, "trade-shop-orders-zh.png")

    # The buyer sees it shipped and confirms receipt.
    page.get_by_role("link", name=product.shop.name_zh).first.click()
    expect(page.get_by_test_id("order-status")).to_contain_text("已发货")
    expect(page.get_by_test_id("tracking")).to_contain_text("YJSB00001234")
    page.get_by_test_id("confirm-receipt").click()
    expect(page.get_by_test_id("order-status")).to_contain_text("已完成")
    _shot(page, "trade-order-completed-zh.png")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_check_out_to_an_address_abroad_in_english(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from yaji.trade.models import Order, ShippingTemplate
    from yaji.trade.tests.factories import cart_with

    ARTIFACTS.mkdir(exist_ok=True)
    product = listed(stock=3)
    ShippingTemplate.objects.create(shop=product.shop, international_first_kg_fen=8800)
    buyer = verified_user(email="hanako@example.com", display_name="Hanako")
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (product, 1))
    base = live_server.url
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/checkout/")
    page.get_by_label("Phone or e-mail").fill(buyer.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/checkout/$"))

    # The toggle swaps China's cascade for the free-form address abroad.
    expect(page.locator("#province")).to_be_visible()
    page.get_by_test_id("address-kind-abroad").check()
    expect(page.locator("#province")).to_be_hidden()
    expect(page.get_by_label("Postal code")).to_be_visible()
    page.locator("#recipient").fill("Sato Hanako")
    page.locator("#phone").fill("+81 90 1234 5678")
    page.get_by_test_id("country").select_option("JP")
    page.get_by_label("Address line 1").fill("2-21-1 Shibuya")
    page.locator("#abroad-city").fill("Shibuya-ku")  # "市" is "City" too, in the hidden half
    page.get_by_label("State / province / region").fill("Tokyo")

    # Japan has postal codes: without one the form says which field is wrong, keeps the rest.
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("checkout-error")).to_contain_text("Postal code")
    expect(page.locator("#abroad-city")).to_have_value("Shibuya-ku")
    expect(page.locator("#province")).to_be_hidden()  # still the abroad half
    page.get_by_label("Postal code").fill("150-0002")
    _shot(page, "trade-checkout-abroad-en.png")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay-total")).to_contain_text("256.00")  # + ¥88.00 abroad
    order = Order.objects.get(buyer=buyer)
    assert order.address["country"] == "JP" and order.address["postal_code"] == "150-0002"
    assert order.shipping_fen == 8800
    context.close()
