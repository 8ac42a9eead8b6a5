"""After-sales in a real headless Chromium: a return and refund with a reason and a photo that
the shop approves, the buyer ships back with tracking and the shop confirms (the refund lands in
the wallet); and a rejected request escalated to a dispute that an operator decides on the
disputes page. Screenshots land in test-artifacts/."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from yaji.accounts.models import Role, RoleAssignment
from yaji.catalog.tests.factories import verified_user
from yaji.ledger.services import wallet_account_for_user
from yaji.ledger.tests.factories import wallet
from yaji.trade import services
from yaji.trade.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from yaji.trade.tests.factories import address_for, cart_with, listed
from yaji.trade.tests.test_browser_trade import _log_in, _shot

pytestmark = pytest.mark.browser


def _shipped(email: str, name: str) -> Order:
    buyer = verified_user(email=email, display_name=name)
    wallet(user=buyer, balance=100_000)
    cart_with(buyer, (listed(stock=3), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    return services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS10203040"
    )


def _signed_in(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/account/login/")
    _log_in(page, base, email)
    page.wait_for_load_state()
    return context, page


def _photo(path) -> str:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 150)).save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


@pytest.mark.django_db(transaction=True)
def test_return_and_refund_with_a_photo(live_server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    order = _shipped("lishizhen@example.com", "李时珍")
    base = live_server.url
    paid_before = wallet_account_for_user(user=order.buyer).balance

    # The buyer asks for a return and refund with a reason and a photo.
    buyer_ctx, page = _signed_in(browser, base, order.buyer.email)
    page.goto(f"{base}/orders/{order.number}/")
    form = page.get_by_test_id("after-sale-form")
    form.get_by_label("售后类型").select_option("return_refund")
    form.get_by_label("原因").fill("釉面有一道裂纹")
    form.get_by_label("凭证照片（最多 6 张）").set_input_files(_photo(tmp_path / "crack.jpg"))
    page.get_by_test_id("after-sale-submit").click()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("待店铺处理")
    expect(page.get_by_test_id("after-sale-photos").locator("img")).to_have_count(1)
    _shot(page, "trade-after-sale-requested-zh.png")
    photo_url = page.get_by_test_id("after-sale-photos").locator("a").first.get_attribute("href")

    # The shop sees the request with its photo and approves it.
    shop_ctx, shop = _signed_in(browser, base, order.shop.owner.email)
    shop.goto(f"{base}/shops/{order.shop.slug}/orders/")
    request = shop.get_by_test_id("shop-after-sale")
    expect(request).to_contain_text("釉面有一道裂纹")
    expect(request.locator("img")).to_have_count(1)
    assert shop.request.get(f"{base}{photo_url}").status == 200  # the shop may see it
    _shot(shop, "trade-after-sale-shop-zh.png")
    request.get_by_role("button", name="同意").click()
    expect(shop.locator(".messages, .message, [role=status]").first).to_contain_text("待买家退货")

    # The buyer ships it back with a tracking number.
    page.reload()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("待买家退货")
    page.get_by_label("退货承运商").fill("SF")
    page.get_by_label("退货运单号").fill("SF1234567890")
    page.get_by_role("button", name="提交退货物流").click()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("买家已寄回")

    # The shop confirms the parcel came back: the refund goes out.
    shop.reload()
    request = shop.get_by_test_id("shop-after-sale")
    expect(request).to_contain_text("SF1234567890")
    request.get_by_role("button", name="确认收到退货并退款").click()
    page.reload()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("已退款")
    expect(page.get_by_test_id("order-status")).to_contain_text("已关闭")
    _shot(page, "trade-after-sale-refunded-zh.png")
    after_sale = AfterSale.objects.get(order=order)
    assert after_sale.status == AfterSaleStatus.REFUNDED and after_sale.photos.count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED
    refunded = wallet_account_for_user(user=order.buyer).balance - paid_before
    assert refunded == order.total_fen

    # A stranger cannot open the photo.
    stranger = verified_user(email="stranger@example.com")
    stranger_ctx, other = _signed_in(browser, base, stranger.email)
    assert other.request.get(f"{base}{photo_url}").status == 404
    for context in (buyer_ctx, shop_ctx, stranger_ctx):
        context.close()


@pytest.mark.django_db(transaction=True)
def test_a_rejected_request_becomes_a_dispute_an_operator_decides(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    order = _shipped("xuxiake@example.com", "徐霞客")
    operator = verified_user(email="operator@example.com", display_name="运营小周")
    RoleAssignment.objects.create(user=operator, role=Role.OPERATOR)
    base = live_server.url

    buyer_ctx, page = _signed_in(browser, base, order.buyer.email)
    page.goto(f"{base}/orders/{order.number}/")
    form = page.get_by_test_id("after-sale-form")
    form.get_by_label("售后类型").select_option("refund_only")
    form.get_by_label("原因").fill("与描述不符，颜色偏差大")
    page.get_by_test_id("after-sale-submit").click()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("待店铺处理")

    # The shop rejects it with a reason.
    shop_ctx, shop = _signed_in(browser, base, order.shop.owner.email)
    shop.goto(f"{base}/shops/{order.shop.slug}/orders/")
    request = shop.get_by_test_id("shop-after-sale")
    request.get_by_label("拒绝原因").fill("手工釉色每件不同，详情页已说明")
    request.get_by_role("button", name="拒绝").click()

    # The buyer escalates to the platform.
    page.reload()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("店铺已拒绝")
    page.get_by_test_id("escalate").click()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("平台介入中")

    # The operator decides on the disputes page: refund.
    operator_ctx, desk = _signed_in(browser, base, operator.email)
    desk.goto(f"{base}/review/disputes/")
    dispute = desk.get_by_test_id("dispute")
    expect(dispute).to_contain_text("与描述不符，颜色偏差大")
    expect(dispute).to_contain_text("手工釉色每件不同")
    _shot(desk, "trade-disputes-zh.png")
    dispute.get_by_label("裁决说明").fill("色差超出合理范围，支持退款")
    dispute.get_by_role("button", name="支持退款").click()
    expect(desk.get_by_text("没有待裁决的纠纷。")).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("after-sale-status")).to_contain_text("已退款")
    expect(page.get_by_text("平台裁决：色差超出合理范围，支持退款")).to_be_visible()
    _shot(page, "trade-dispute-decided-zh.png")
    assert AfterSale.objects.get(order=order).status == AfterSaleStatus.REFUNDED
    for context in (buyer_ctx, shop_ctx, operator_ctx):
        context.close()
