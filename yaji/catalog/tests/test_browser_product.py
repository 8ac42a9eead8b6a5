"""The main product path in a real headless Chromium: a shop owner creates a product, adds a
variant, uploads an image and a 3D model, submits; a reviewer approves it in the queue; the
public product page shows it with the interactive ``<model-viewer>`` (served by the site).
Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from yaji.catalog.glb import glb_vase
from yaji.catalog.models import Product
from yaji.catalog.tests.factories import png_bytes, reviewer_user, shop_open, verified_user
from yaji.catalog.tests.test_browser_shop import _log_in, _shot

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_create_submit_approve_and_view_product_in_3d(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from yaji.catalog.defaults import catalog_defaults_seed

    catalog_defaults_seed()
    owner = verified_user(email="celadon@example.com", display_name="龙泉 · 沈青")
    reviewer = reviewer_user(email="product-reviewer@example.com", display_name="审核 · 陆安")
    shop = shop_open(owner=owner, reviewer=reviewer, name_zh="沈青龙泉窑", slug="shenqing-celadon")
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)

    # The owner creates a draft from the shop's product list.
    _log_in(page, base, owner.email)
    page.goto(f"{base}/shops/{shop.slug}/products/")
    page.get_by_role("link", name="新建商品").click()
    page.get_by_label("标题（中文）").fill("龙泉青瓷梅瓶")
    page.get_by_label("标题（英文，可选）").fill("Longquan celadon meiping vase")
    page.get_by_label("分类").select_option("ceramics")
    page.get_by_label("作品故事（中文）").fill(
        "粉青釉，釉层肥厚如玉。\n\n梅瓶小口、丰肩、瘦底，宋人用来盛酒。"
    )
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".messages")).to_contain_text("草稿已保存")
    expect(page.get_by_test_id("product-status")).to_have_text("草稿")

    # A variant, an image and a 3D model.
    page.get_by_label("SKU 编码").fill("MEIPING-30")
    page.get_by_label("价格（元）").fill("2680.00")
    page.get_by_label("库存").fill("6")
    page.get_by_label("规格", exact=True).fill("釉色=粉青; 高度=30 cm")
    page.get_by_role("button", name="保存规格").click()
    expect(page.get_by_test_id("variant-table")).to_contain_text("MEIPING-30")
    page.get_by_label("商品图片").set_input_files(
        [
            {
                "name": "meiping.png",
                "mimeType": "image/png",
                "buffer": png_bytes(480, 640, (120, 168, 150)),
            }
        ]
    )
    page.get_by_role("button", name="上传图片").click()
    expect(page.get_by_test_id("editor-images").locator("img")).to_have_count(1)
    page.locator("#id_model-model").set_input_files(
        [{"name": "meiping.glb", "mimeType": "model/gltf-binary", "buffer": glb_vase()}]
    )
    page.get_by_role("button", name="上传 3D 模型").click()
    expect(page.get_by_test_id("editor-model")).to_contain_text("meiping.glb")
    _shot(page, "product-editor-zh.png")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_test_id("product-status")).to_have_text("审核中")
    product = Product.objects.get(title_zh="龙泉青瓷梅瓶")
    context.clear_cookies()

    # The reviewer approves it from the queue.
    _log_in(page, base, reviewer.email)
    page.goto(base + "/review/products/")
    expect(page.get_by_test_id("product-queue-count")).to_have_text("1")
    expect(page.get_by_test_id("product-held-count")).to_have_text("0")
    _shot(page, "product-review-queue-zh.png")
    page.get_by_role("link", name="审核", exact=True).click()
    expect(page.locator(".panel").first).to_contain_text("MEIPING-30")
    page.get_by_role("button", name="通过并上架").click()
    expect(page.locator(".messages")).to_contain_text("已上架")
    context.clear_cookies()

    # Anyone sees the product page, with the 3D viewer and "view in your room".
    page.goto(f"{base}/products/{product.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("龙泉青瓷梅瓶")
    expect(page.get_by_test_id("price")).to_contain_text("¥2,680.00")
    viewer = page.locator("model-viewer")
    expect(viewer).to_have_count(1)
    expect(viewer).to_have_attribute("ar-modes", "webxr scene-viewer quick-look")
    expect(viewer).to_have_attribute("src", re.compile(rf"^/products/{product.pk}/model/\d+\.glb$"))
    # The vendored web component registers itself (served by the site, not a CDN)...
    assert page.evaluate("() => customElements.whenDefined('model-viewer').then(() => true)")
    script = page.locator("script[src*='model-viewer.min.js']")
    assert script.get_attribute("src").startswith("/static/")
    # ...and loads the model (WebGL in headless Chromium is software-rendered).
    page.locator("model-viewer").scroll_into_view_if_needed()
    loaded = page.evaluate(
        """() => new Promise((resolve) => {
             const viewer = document.querySelector('model-viewer');
             if (viewer.loaded) { resolve(true); return; }
             viewer.addEventListener('load', () => resolve(true), { once: true });
             viewer.addEventListener('error', (e) => resolve('error: ' + JSON.stringify(e.detail)), { once: true });
             setTimeout(() => resolve('timeout'), 15000);
           })"""
    )
    assert loaded is True, loaded
    page.wait_for_timeout(800)  # let the first frame settle for the screenshot
    _shot(page, "product-3d-zh.png")
    context.close()
