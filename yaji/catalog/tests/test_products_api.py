"""The products API and pages: the whole path a creator and a reviewer take, error codes,
permissions, and queries per page that do not grow with the page size."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.catalog.images import IMAGE_MAX_BYTES
from yaji.catalog.models import Product, ProductImage
from yaji.catalog.tests.factories import (
    EXE_BYTES,
    UserFactory,
    image_upload,
    png_bytes,
    product_listed,
    product_make,
    reviewer_user,
    shop_open,
)
from yaji.catalog.tests.test_api import Api

pytestmark = pytest.mark.django_db


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _patch(api: Api, path: str, data: dict[str, Any]) -> Any:
    return api.client.patch(
        f"/api/v1{path}", data, content_type="application/json", headers=api.headers
    )


def test_creator_lists_a_product_through_the_api(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PROHIBITED_WORDS = ["高仿"]
    shop = shop_open()
    me = Api(shop.owner)
    created = me.post_json(
        f"/shops/{shop.slug}/products",
        {
            "title_zh": "高仿缂丝团扇",
            "title_en": "Kesi fan",
            "category": "heritage-craft",
            "tags": ["缂丝"],
            "story_zh": "一寸缂丝一寸金。\n\n<script>alert(1)</script>",
        },
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["status"] == "draft"

    variant = me.post_json(
        f"/products/{pid}/variants",
        {"sku": "FAN-1", "price_fen": 128000, "stock": 2, "options": {"扇面": "牡丹"}},
    )
    assert variant.status_code == 200, variant.content
    assert variant.json()["price_display"] == "¥1,280.00"
    image = me.client.post(
        f"/api/v1/products/{pid}/images",
        {"image": image_upload(), "alt": "扇面正面"},
        headers=me.headers,
    )
    assert image.status_code == 201, image.content
    thumb_url = image.json()["thumb_400_url"]

    submitted = me.post_json(f"/products/{pid}/submit")
    assert submitted.json()["status"] == "rejected"
    assert "高仿" in submitted.json()["reject_reason"]
    fixed = _patch(me, f"/products/{pid}", {"title_zh": "缂丝团扇"})
    assert fixed.status_code == 200 and fixed.json()["title_zh"] == "缂丝团扇"
    assert me.post_json(f"/products/{pid}/submit").json()["status"] == "in_review"

    # The public cannot see it yet, nor its images.
    assert Client().get(f"/products/{pid}/").status_code == 404
    assert Client().get(thumb_url).status_code == 404
    assert Api().get(f"/products/{pid}").status_code == 404

    reviewer = Api(reviewer_user())
    queue = reviewer.get("/review/products")
    assert [p["id"] for p in queue.json()] == [pid]
    approved = reviewer.post_json(f"/review/products/{pid}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "listed"

    page = Client().get(f"/products/{pid}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "¥1,280.00" in html and thumb_url.replace("400", "1200") in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    thumb = Client().get(thumb_url)
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert "immutable" in thumb["Cache-Control"]
    assert Api().get(f"/products/{pid}").json()["variants"][0]["sku"] == "FAN-1"
    listing = Api().get(f"/products?shop={shop.slug}&category=heritage-craft")
    assert [p["id"] for p in listing.json()["items"]] == [pid]
    shop_page = Client().get(f"/shops/{shop.slug}/").content.decode()
    assert "缂丝团扇" in shop_page and "¥1,280.00" in shop_page


def test_api_bad_input_codes() -> None:
    shop = shop_open()
    me = Api(shop.owner)
    pid = me.post_json(f"/shops/{shop.slug}/products", {"title_zh": "镇纸"}).json()["id"]

    def code(response: Any) -> tuple[int, str]:
        return response.status_code, response.json()["code"]

    path = f"/products/{pid}/variants"
    assert code(me.post_json(path, {"sku": "A", "price_fen": 0, "stock": 1})) == (
        422,
        "invalid_price",
    )
    assert code(me.post_json(path, {"sku": "A", "price_fen": -5, "stock": 1})) == (
        422,
        "invalid_price",
    )
    assert code(me.post_json(path, {"sku": "A", "price_fen": 100, "stock": -1})) == (
        422,
        "invalid_stock",
    )
    created = me.post_json(f"/shops/{shop.slug}/products", {"title_zh": "x", "category": "nope"})
    assert code(created) == (422, "unknown_category")
    not_image = me.client.post(
        f"/api/v1/products/{pid}/images",
        {"image": SimpleUploadedFile("a.png", EXE_BYTES)},
        headers=me.headers,
    )
    assert code(not_image) == (422, "invalid_image")
    huge = me.client.post(
        f"/api/v1/products/{pid}/images",
        {"image": SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n" + b"\0" * IMAGE_MAX_BYTES)},
        headers=me.headers,
    )
    assert code(huge) == (413, "image_too_large")
    assert not ProductImage.objects.exists()
    assert Api().get("/products?limit=101").status_code == 422
    assert code(Api().get("/products?category=nope")) == (422, "unknown_category")
    assert code(Api().get("/products?cursor=zzz")) == (422, "invalid_cursor")

    mto = me.post_json(
        f"/shops/{shop.slug}/products",
        {"title_zh": "刻字笔", "kind": "made_to_order", "lead_time_days": 7},
    ).json()["id"]
    option = me.post_json(
        f"/products/{mto}/customisation-options",
        {"kind": "engraving", "label_zh": "刻字", "max_length": 6},
    )
    assert option.status_code == 201, option.content
    option_id = option.json()["customisation_options"][0]["id"]
    variant_id = me.post_json(
        f"/products/{mto}/variants", {"sku": "PEN", "price_fen": 5000, "stock": 3}
    ).json()["id"]
    me.client.post(f"/api/v1/products/{mto}/images", {"image": image_upload()}, headers=me.headers)
    me.post_json(f"/products/{mto}/submit")
    Api(reviewer_user()).post_json(f"/review/products/{mto}/approve")
    too_long = Api().post_json(
        f"/products/{mto}/quote",
        {"variant_id": variant_id, "customisation": {str(option_id): "一二三四五六七"}},
    )
    assert code(too_long) == (422, "customisation_text_too_long")
    ok = Api().post_json(
        f"/products/{mto}/quote",
        {"variant_id": variant_id, "customisation": {str(option_id): "雅集"}},
    )
    assert ok.json()["price_fen"] == 5000


def test_api_permissions() -> None:
    shop = shop_open()
    product = product_make(shop)
    stranger = Api(shop_open().owner)
    assert stranger.post_json(f"/shops/{shop.slug}/products", {"title_zh": "x"}).status_code == 404
    assert _patch(stranger, f"/products/{product.pk}", {"title_zh": "x"}).status_code == 404
    assert stranger.post_json(f"/products/{product.pk}/submit").status_code == 404
    assert stranger.get(f"/products/{product.pk}").status_code == 404
    Api(shop.owner).post_json(f"/products/{product.pk}/submit")
    owner_try = Api(shop.owner).post_json(f"/review/products/{product.pk}/approve")
    assert owner_try.status_code == 403
    assert Api(UserFactory()).get("/review/products").status_code == 403
    assert Product.objects.get(pk=product.pk).status == "in_review"


def test_list_queries_constant_in_page_size() -> None:
    shop = shop_open()
    reviewer = reviewer_user()
    for n in range(6):
        product_listed(shop, reviewer, title_zh=f"书签{n}")
    counts = []
    for limit in (2, 6):
        with CaptureQueriesContext(connection) as ctx:
            response = Client().get(f"/api/v1/products?limit={limit}")
        assert len(response.json()["items"]) == limit
        counts.append(len(ctx))
    assert counts[0] == counts[1] <= 4, counts
    page_counts = []
    for _round in range(2):
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(f"/shops/{shop.slug}/").status_code == 200
        page_counts.append(len(ctx))
    product_listed(shop, reviewer, title_zh="再来一件")
    with CaptureQueriesContext(connection) as ctx:
        Client().get(f"/shops/{shop.slug}/")
    assert len(ctx) == page_counts[-1] <= 12


def test_product_page_queries_do_not_grow_with_variants_and_images() -> None:
    shop = shop_open()
    product = product_listed(shop)
    with CaptureQueriesContext(connection) as first:
        assert Client().get(f"/products/{product.pk}/").status_code == 200
    Product.objects.filter(pk=product.pk).update(status="draft")
    from yaji.catalog import services

    for n in range(3):
        services.variant_upsert(
            actor=shop.owner, product_id=product.pk, sku=f"V{n}", price_fen=100 + n, stock=1
        )
        services.product_image_add(
            actor=shop.owner, product_id=product.pk, upload=image_upload(content=png_bytes())
        )
    Product.objects.filter(pk=product.pk).update(status="listed")
    with CaptureQueriesContext(connection) as second:
        assert Client().get(f"/products/{product.pk}/").status_code == 200
    assert len(first) == len(second) <= 12


def test_editor_and_review_pages() -> None:
    shop = shop_open()
    owner = _as(shop.owner)
    new = owner.post(
        f"/shops/{shop.slug}/products/new/",
        {"title_zh": "梅花笺", "kind": "standard", "category": "stationery", "tags": "梅, 信笺"},
    )
    assert new.status_code == 302, new.content.decode()[:2000]
    product = Product.objects.get(title_zh="梅花笺")
    edit = f"/products/{product.pk}/edit/"
    bad = owner.post(
        edit, {"action": "variant", "variant-sku": "P1", "variant-price": "0", "variant-stock": "1"}
    )
    assert bad.status_code == 200 and "价格必须大于 0" in bad.content.decode()
    assert (
        owner.post(
            edit,
            {
                "action": "variant",
                "variant-sku": "P1",
                "variant-price": "36.00",
                "variant-stock": "10",
                "variant-options": "颜色=梅红",
            },
        ).status_code
        == 302
    )
    bad_image = owner.post(
        edit, {"action": "image", "image-image": SimpleUploadedFile("a.png", EXE_BYTES)}
    )
    assert "商品图片只接受" in bad_image.content.decode()
    assert owner.post(edit, {"action": "image", "image-image": image_upload()}).status_code == 302
    assert owner.post(edit, {"action": "submit"}).status_code == 302
    assert Product.objects.get(pk=product.pk).status == "in_review"
    assert "¥36.00" in owner.get(f"/shops/{shop.slug}/products/").content.decode()

    # Another shop's manager: 404 on the editor; a non-reviewer: 404 on review pages.
    assert _as(shop_open().owner).get(edit).status_code == 404
    assert _as(UserFactory()).get("/review/products/").status_code == 404
    reviewer = _as(reviewer_user())
    assert "梅花笺" in reviewer.get("/review/products/").content.decode()
    preview = reviewer.get(f"/products/{product.pk}/")
    assert preview.status_code == 200 and b"preview-banner" in preview.content
    decided = reviewer.post(f"/review/products/{product.pk}/", {"decision": "approve"})
    assert decided.status_code == 302
    page = Client().get(f"/products/{product.pk}/")
    assert page.status_code == 200 and "¥36.00" in page.content.decode()
    assert b"preview-banner" not in page.content


def test_product_page_in_english() -> None:
    shop = shop_open()
    product = product_listed(shop, title_en="Celadon tea bowl")
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get(
        f"/products/{product.pk}/", headers={"Accept-Language": "en"}
    ).content.decode()
    assert "CN¥168.00" in html


def test_hostile_input_is_a_4xx_never_a_5xx() -> None:
    shop = shop_open()
    me = Api(shop.owner)
    pid = me.post_json(f"/shops/{shop.slug}/products", {"title_zh": "笔架"}).json()["id"]
    cases = [
        (f"/products/{pid}/variants", {"sku": "A", "price_fen": 10**30, "stock": 1}),
        (f"/products/{pid}/variants", {"sku": "A", "price_fen": 1, "stock": 10**30}),
        (f"/products/{pid}/variants", {"sku": "A\x00", "price_fen": 1, "stock": 1}),
        (
            f"/products/{pid}/variants",
            {"sku": "A", "price_fen": 1, "stock": 1, "options": {"色\x00": "青"}},
        ),
        (f"/shops/{shop.slug}/products", {"title_zh": "x", "attribute_ids": [2**70]}),
        (f"/shops/{shop.slug}/products", {"title_zh": "x", "attribute_ids": [-1]}),
        (f"/shops/{shop.slug}/products", {"title_zh": "x", "tags": ["a\x00b"]}),
        (
            f"/shops/{shop.slug}/products",
            {"title_zh": "x", "kind": "limited_edition", "edition_size": 2, "per_buyer_limit": 5},
        ),
        (
            f"/products/{pid}/customisation-options",
            {"kind": "engraving", "label_zh": "x", "max_length": 5},
        ),
        ("/shops/NOPE%00/products", {"title_zh": "x"}),
    ]
    for path, body in cases:
        response = me.post_json(path, body)
        assert 400 <= response.status_code < 500, (path, body, response.content)
    assert Api().get("/products?shop=a%00b").status_code == 422
    assert Product.objects.count() == 1
