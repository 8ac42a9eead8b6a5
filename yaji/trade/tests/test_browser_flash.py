"""Buy now in a real headless Chromium: a signed-in buyer picks an address on the flash-sale page
and presses 立即抢购, lands on the payment page; the next buyer is told the sale is sold out;
the shop sets its international rate on its shipping-template page. Screenshots land in
test-artifacts/."""

from __future__ import annotations

import re

import pytest

from yaji.catalog.tests.factories import PASSWORD, verified_user
from yaji.testing.browser import ARTIFACTS
from yaji.trade.models import ShippingTemplate
from yaji.trade.tests.factories import address_for, listed
from yaji.trade.tests.test_flash import sale_on

pytestmark = pytest.mark.browser


def _log_in(page, base: str, email: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/account/login/?next={next_path}")
    page.get_by_label("手机号或邮箱").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()


@pytest.mark.django_db(transaction=True)
def test_buy_now_on_the_flash_sale_page_then_sold_out(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sale = sale_on(listed(stock=5), stock=1, limit=1, price=9900)
    buyer, late = verified_user(), verified_user()
    address_for(buyer)  # 苏州市, the buyer's saved default address
    second = address_for(buyer)
    base = live_server.url
    path = f"/flash-sales/{sale.pk}/"

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}{path}")
    expect(page.get_by_test_id("flash-login")).to_be_visible()  # a visitor is asked to sign in
    _log_in(page, base, buyer.email, path)
    expect(page).to_have_url(re.compile(rf"{path}$"))
    expect(page.get_by_test_id("flash-price")).to_contain_text("99.00")
    expect(page.get_by_test_id("flash-left")).to_contain_text("1 / 1")
    page.locator(f"input[name=address_id][value='{second.pk}']").check()
    page.get_by_label("配送方式").select_option("express")
    page.screenshot(path=str(ARTIFACTS / "trade-flash-sale-zh.png"), full_page=True)
    page.get_by_test_id("flash-buy").click()
    expect(page).to_have_url(re.compile(r"/checkout/[0-9a-f-]{36}/$"))
    expect(page.get_by_test_id("pay-total")).to_contain_text("114.00")  # + express: ¥10 × 1.5

    other = browser.new_context(locale="zh-CN").new_page()
    other.set_default_timeout(30_000)
    address_for(late)
    _log_in(other, base, late.email, path)
    expect(other.get_by_test_id("flash-state")).to_contain_text("已抢光")
    expect(other.get_by_test_id("flash-buy")).to_have_count(0)
    other.screenshot(path=str(ARTIFACTS / "trade-flash-sold-out-zh.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_shop_sets_its_international_rate(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    product = listed(stock=5)
    shop = product.shop
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(30_000)
    _log_in(page, live_server.url, shop.owner.email, "/shops/mine/")
    page.goto(f"{live_server.url}/shops/{shop.slug}/shipping/")
    page.get_by_test_id("intl-first").fill("abc")
    page.get_by_test_id("shipping-save").click()
    expect(page.get_by_test_id("shipping-error")).to_contain_text("运费设置无效")
    page.get_by_test_id("intl-first").fill("150")
    page.get_by_test_id("intl-extra").fill("45.5")
    page.get_by_test_id("shipping-save").click()
    expect(page.get_by_role("status")).to_contain_text("运费模板已保存")
    expect(page.get_by_test_id("intl-first")).to_have_value("150.00")
    template = ShippingTemplate.objects.get(shop=shop)
    assert (template.international_first_kg_fen, template.international_extra_kg_fen) == (
        15000,
        4550,
    )
