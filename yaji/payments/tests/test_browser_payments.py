"""The payments main path in a real headless Chromium: a buyer tops up the wallet on the
sandbox's hosted pay page, pays a checkout with the wallet first and the rest online, the order
settles, and the shop's owner reads the statement. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from yaji.catalog.tests.factories import PASSWORD, verified_user
from yaji.payments.tests.factories import relay_all
from yaji.testing.browser import ARTIFACTS
from yaji.trade import services as trade_services
from yaji.trade.models import Order
from yaji.trade.tests.factories import listed

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/account/login/")
    page.get_by_label("手机号或邮箱").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()


@pytest.mark.django_db(transaction=True)
def test_top_up_pay_online_and_read_the_shop_statement(live_server, browser, settings) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    settings.YAJI_COMMISSION_BPS = 500
    ARTIFACTS.mkdir(exist_ok=True)
    product = listed(stock=3)
    buyer = verified_user(email="lqz@example.com", display_name="李清照")
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, base, buyer.email)

    # Top up ¥100.00 through the sandbox's hosted pay page.
    page.goto(f"{base}/wallet/")
    page.get_by_label("金额（元）").fill("100.00")
    page.get_by_role("button", name="去支付").click()
    expect(page).to_have_url(re.compile(r"/pay/sandbox/"))
    expect(page.get_by_test_id("pay-amount")).to_contain_text("100.00")
    _shot(page, "payments-sandbox-pay-zh.png")
    page.get_by_role("button", name="支付 Pay").click()
    expect(page).to_have_url(re.compile(r"/wallet/\?intent="))
    relay_all()  # the provider's signed notification arrives
    page.reload()
    expect(page.get_by_test_id("wallet-balance")).to_contain_text("100.00")

    # Check out a ¥168.00 piece (+ ¥10.00 shipping) and pay: wallet first, the rest online.
    page.goto(f"{base}/products/{product.pk}/")
    page.get_by_test_id("add-to-cart-button").click()
    page.get_by_test_id("go-checkout").click()
    page.get_by_label("收件人").fill("李清照")
    page.get_by_label("手机号").fill("13700003333")
    page.get_by_label("省", exact=True).select_option("山东省")
    city = page.get_by_label("市", exact=True)
    expect(city.locator("option", has_text="济南市")).to_have_count(1)
    city.select_option("济南市")
    page.get_by_label("详细地址").fill("趵突泉 1 号")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay-total")).to_contain_text("178.00")
    page.get_by_test_id("pay-use-wallet").check()
    page.get_by_test_id("pay-online").click()
    expect(page).to_have_url(re.compile(r"/pay/sandbox/"))
    expect(page.get_by_test_id("pay-amount")).to_contain_text("78.00")
    page.get_by_role("button", name="支付 Pay").click()
    expect(page.get_by_test_id("pay-confirming")).to_be_visible()
    relay_all()
    page.reload()
    expect(page.get_by_test_id("checkout-status")).to_contain_text("已支付")
    _shot(page, "payments-checkout-paid-zh.png")

    # The order is shipped and received; it settles: 5 % of ¥168.00 = ¥8.40 commission.
    order = Order.objects.get(buyer=buyer)
    trade_services.order_ship(
        actor=product.shop.owner, order_id=order.pk, carrier="SF", tracking_number="SF1234567890"
    )
    trade_services.order_confirm_receipt(buyer=buyer, order_id=order.pk)

    shop = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860}).new_page()
    shop.set_default_timeout(15_000)
    _log_in(shop, base, product.shop.owner.email)
    shop.goto(f"{base}/shops/{product.shop.slug}/finance/")
    expect(shop.get_by_test_id("statement-commission")).to_contain_text("8.40")
    expect(shop.get_by_test_id("statement-settled-net")).to_contain_text("169.60")
    expect(shop.get_by_test_id("shop-balance")).to_contain_text("169.60")
    expect(shop.get_by_test_id("statement-balanced")).to_be_visible()
    expect(shop.get_by_test_id("shop-settlements")).to_contain_text(order.number)
    _shot(shop, "payments-shop-finance-zh.png")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_order_is_refunded_to_the_original_methods(
    live_server, browser, settings
) -> None:  # type: ignore[no-untyped-def]
    """ADR 0039: a buyer who paid ¥50.00 from the wallet and the rest online cancels before
    shipment; the order page shows where the money goes, and the provider part's status."""
    from playwright.sync_api import expect

    from yaji.trade.tests.test_refund_methods import paid_checkout

    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    ARTIFACTS.mkdir(exist_ok=True)
    checkout, intent = paid_checkout(wallet_fen_part=5000)
    order = checkout.orders.get()
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, base, checkout.buyer.email)

    page.goto(f"{base}/orders/{order.number}/")
    page.get_by_label("退款原因（未发货，自动按原支付方式退回）").fill("拍错了")
    page.get_by_test_id("refund").click()
    destination = page.get_by_test_id("order-refunds")
    expect(destination).to_contain_text("退回原支付方式")
    expect(page.get_by_test_id("refund-wallet-part")).to_contain_text("50.00")
    expect(page.get_by_test_id("refund-provider-part")).to_contain_text(
        f"{intent.provider_amount_fen // 100}.{intent.provider_amount_fen % 100:02d}"
    )
    relay_all()  # the provider's signed refund notification
    page.reload()
    expect(page.get_by_test_id("refund-provider-part")).to_contain_text("退款成功")
    _shot(page, "payments-refund-original-methods-zh.png")
    page.goto(f"{base}/wallet/")
    expect(page.get_by_test_id("wallet-balance")).to_contain_text("50.00")
    expect(page.get_by_test_id("refunds")).to_contain_text("退回原支付方式")
    context.close()
