"""The new product kinds and media through the API and the editor pages: stable error codes,
permissions (other shops' products are 404), and the product page's query count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.catalog import media, services
from yaji.catalog.glb import glb_triangle, glb_vase
from yaji.catalog.models import DigitalFile, Product, ProductModel3D, ProductVideo, Variant
from yaji.catalog.tests.factories import (
    EXE_BYTES,
    PDF_BYTES,
    digital_product_make,
    file_upload,
    image_upload,
    mp4_bytes,
    product_listed,
    product_make,
    reviewer_user,
    shop_open,
    webm_bytes,
)
from yaji.catalog.tests.test_api import Api
from yaji.core import clock

pytestmark = pytest.mark.django_db


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def _upload(api: Api, path: str, field: str, upload: Any) -> Any:
    return api.client.post(f"/api/v1{path}", {field: upload}, headers=api.headers)


def test_course_and_limited_edition_through_the_api() -> None:
    shop = shop_open()
    me = Api(shop.owner)
    bad = me.post_json(
        f"/shops/{shop.slug}/products", {"title_zh": "缂丝课", "kind": "course", "online": True}
    )
    assert _code(bad) == (422, "invalid_product_kind")
    created = me.post_json(
        f"/shops/{shop.slug}/products",
        {"title_zh": "缂丝课", "kind": "course", "duration_minutes": 120, "location": "苏州"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["duration_minutes"], body["location"], body["online"]) == (
        "course",
        120,
        "苏州",
        False,
    )
    pid = body["id"]
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    session = me.post_json(
        f"/products/{pid}/variants",
        {"sku": "S1", "price_fen": 28000, "stock": 8, "starts_at": start.isoformat()},
    )
    assert session.status_code == 200, session.content
    assert session.json()["starts_at"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    past = (clock.now() - timedelta(days=1)).isoformat()
    assert _code(
        me.post_json(
            f"/products/{pid}/variants",
            {"sku": "S0", "price_fen": 28000, "stock": 8, "starts_at": past},
        )
    ) == (422, "invalid_session")
    naive = start.replace(tzinfo=None).isoformat()
    assert _code(
        me.post_json(
            f"/products/{pid}/variants",
            {"sku": "S2", "price_fen": 28000, "stock": 8, "starts_at": naive},
        )
    ) == (422, "invalid_session")
    patched = me.client.patch(
        f"/api/v1/products/{pid}",
        {"online": True, "location": ""},
        content_type="application/json",
        headers=me.headers,
    )
    assert patched.status_code == 200 and patched.json()["online"] is True

    edition = me.post_json(
        f"/shops/{shop.slug}/products",
        {"title_zh": "限量扇", "kind": "limited_edition", "edition_size": 10, "per_buyer_limit": 2},
    ).json()["id"]
    assert (
        me.post_json(
            f"/products/{edition}/variants", {"sku": "A", "price_fen": 100, "stock": 10}
        ).status_code
        == 200
    )
    assert _code(
        me.post_json(f"/products/{edition}/variants", {"sku": "B", "price_fen": 100, "stock": 1})
    ) == (422, "edition_stock_exceeded")


def test_bundle_through_the_api_and_permissions() -> None:
    shop = shop_open()
    reviewer = reviewer_user()
    cup = product_listed(shop, reviewer=reviewer)
    variant = cup.variants.get()
    me = Api(shop.owner)
    bundle = me.post_json(
        f"/shops/{shop.slug}/products", {"title_zh": "茶具套装", "kind": "bundle"}
    ).json()["id"]
    added = me.post_json(
        f"/products/{bundle}/bundle-items", {"variant_id": variant.pk, "quantity": 2}
    )
    assert added.status_code == 200, added.content
    assert added.json()["bundle"]["items"][0]["quantity"] == 2
    assert added.json()["bundle"]["components_total_fen"] == 2 * 16800
    assert _code(
        me.post_json(
            f"/products/{bundle}/bundle-items", {"variant_id": variant.pk, "quantity": 500}
        )
    ) == (422, "invalid_bundle_item")
    assert _code(
        me.post_json(f"/products/{cup.pk}/bundle-items", {"variant_id": variant.pk, "quantity": 1})
    ) == (409, "product_not_editable")
    stranger = Api(shop_open().owner)
    assert (
        stranger.post_json(
            f"/products/{bundle}/bundle-items", {"variant_id": variant.pk, "quantity": 1}
        ).status_code
        == 404
    )
    assert (
        me.post_json(
            f"/products/{bundle}/variants", {"sku": "SET", "price_fen": 30000, "stock": 50}
        ).status_code
        == 200
    )
    _upload(me, f"/products/{bundle}/images", "image", image_upload())
    assert me.post_json(f"/products/{bundle}/submit").json()["status"] == "in_review"
    Api(reviewer).post_json(f"/review/products/{bundle}/approve")
    public = Api().get(f"/products/{bundle}").json()
    # 5 cups in stock, 2 per set: 2 sets.
    assert public["availability"] == 2 == public["bundle"]["availability"]
    page = Client().get(f"/products/{bundle}/").content.decode()
    assert 'data-testid="bundle"' in page and "青瓷茶盏" in page and "× 2" in page


def test_media_uploads_through_the_api(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = product_make(shop)
    me = Api(shop.owner)
    video = _upload(
        me, f"/products/{product.pk}/video", "video", file_upload("c.webm", webm_bytes())
    )
    assert video.status_code == 201, video.content
    assert video.json()["content_type"] == "video/webm"
    model = _upload(me, f"/products/{product.pk}/model", "model", file_upload("v.glb", glb_vase()))
    assert model.status_code == 201 and model.json()["url"].endswith(".glb")
    detail = me.get(f"/products/{product.pk}").json()
    assert detail["video"]["url"] == video.json()["url"]
    assert detail["model_3d"]["url"] == model.json()["url"]

    assert _code(
        _upload(me, f"/products/{product.pk}/video", "video", file_upload("c.mp4", EXE_BYTES))
    ) == (422, "invalid_video")
    assert _code(
        _upload(
            me,
            f"/products/{product.pk}/model",
            "model",
            file_upload("m.glb", b"glTF" + b"\x01" * 30),
        )
    ) == (422, "invalid_model")
    monkeypatch.setattr(media, "MODEL_MAX_BYTES", 64)
    assert _code(
        _upload(me, f"/products/{product.pk}/model", "model", file_upload("m.glb", glb_vase()))
    ) == (413, "model_too_large")
    assert _code(
        _upload(me, f"/products/{product.pk}/digital-file", "file", file_upload("a.pdf", PDF_BYTES))
    ) == (422, "not_digital_product")
    assert ProductModel3D.objects.count() == 1 and ProductVideo.objects.count() == 1

    # Other shops' products: not found; anonymous: not authenticated.
    stranger = Api(shop_open().owner)
    upload = file_upload("c.mp4", mp4_bytes())
    assert _upload(stranger, f"/products/{product.pk}/video", "video", upload).status_code == 404
    assert (
        stranger.client.delete(
            f"/api/v1/products/{product.pk}/model", headers=stranger.headers
        ).status_code
        == 404
    )
    assert _upload(Api(), f"/products/{product.pk}/video", "video", upload).status_code == 401
    digital = product_make(shop, kind="digital_download")
    pdf = file_upload("a.pdf", PDF_BYTES)
    assert _upload(stranger, f"/products/{digital.pk}/digital-file", "file", pdf).status_code == 404
    assert stranger.get(f"/products/{digital.pk}").status_code == 404
    removed = me.client.delete(f"/api/v1/products/{product.pk}/model", headers=me.headers)
    assert removed.status_code == 204 and not ProductModel3D.objects.exists()
    assert _code(me.client.delete(f"/api/v1/products/{product.pk}/model", headers=me.headers)) == (
        404,
        "not_found",
    )


def test_digital_file_through_the_api_is_private() -> None:
    shop = shop_open()
    product = product_make(shop, kind="digital_download")
    me = Api(shop.owner)
    uploaded = _upload(
        me,
        f"/products/{product.pk}/digital-file",
        "file",
        file_upload("纹样集.zip", b"PK\x03\x04" + b"\0" * 40),
    )
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["original_name"] == "纹样集.zip"
    assert uploaded.json()["content_type"] == "application/zip"
    assert _code(
        _upload(me, f"/products/{product.pk}/digital-file", "file", file_upload("x.exe", EXE_BYTES))
    ) == (422, "invalid_download_file")
    me.post_json(f"/products/{product.pk}/submit")
    Api(reviewer_user()).post_json(f"/review/products/{product.pk}/approve")
    public = Api().get(f"/products/{product.pk}").json()["digital_file"]
    assert public == {
        "content_type": "application/zip",
        "size": 44,
        "original_name": None,
        "download_url": None,
    }
    private = me.get(f"/products/{product.pk}").json()["digital_file"]
    assert private["original_name"] == "纹样集.zip" and private["download_url"]
    assert DigitalFile.objects.count() == 1


def test_product_page_queries_constant_with_new_kinds_and_media() -> None:
    shop = shop_open()
    reviewer = reviewer_user()
    counts = []
    for n, kind in enumerate(("standard", "bundle")):
        if kind == "bundle":
            cup = product_listed(shop, reviewer=reviewer, title_zh="杯")
            product = product_make(shop, title_zh="套装", kind="bundle")
            Variant.objects.filter(product=product).update(sku="SET")
            services.bundle_item_set(
                actor=shop.owner,
                product_id=product.pk,
                variant_id=cup.variants.get().pk,
                quantity=2,
            )
        else:
            product = product_make(shop, title_zh=f"瓶{n}")
        services.product_model_3d_set(
            actor=shop.owner, product_id=product.pk, upload=file_upload("m.glb", glb_triangle())
        )
        services.product_video_set(
            actor=shop.owner, product_id=product.pk, upload=file_upload("c.mp4", mp4_bytes())
        )
        services.product_submit(actor=shop.owner, product_id=product.pk)
        services.product_review_approve(reviewer=reviewer, product_id=product.pk)
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(f"/products/{product.pk}/").status_code == 200
        counts.append(len(ctx))
    # Every part of a product, a bundle's contents included, is one statement whatever the
    # kind and the number of parts (ADR 0054; was one more for a bundle, ADR 0047).
    assert counts[1] == counts[0] <= 12, counts


def test_editor_pages_for_new_kinds_and_uploads() -> None:
    shop = shop_open()
    owner = Client()
    owner.force_login(shop.owner)
    new = owner.post(
        f"/shops/{shop.slug}/products/new/",
        {"title_zh": "点茶体验课", "kind": "course", "duration_minutes": "90", "online": "on"},
    )
    assert new.status_code == 302, new.content.decode()[:3000]
    course = Product.objects.get(title_zh="点茶体验课")
    assert course.online and course.duration_minutes == 90
    edit = f"/products/{course.pk}/edit/"
    page = owner.get(edit).content.decode()
    assert 'name="variant-starts_at"' in page and 'data-testid="media-panel"' in page
    start = (clock.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    saved = owner.post(
        edit,
        {
            "action": "variant",
            "variant-sku": "S1",
            "variant-price": "198.00",
            "variant-stock": "12",
            "variant-starts_at": start,
        },
    )
    assert saved.status_code == 302
    assert Variant.objects.get(product=course).starts_at is not None
    past = owner.post(
        edit,
        {
            "action": "variant",
            "variant-sku": "S0",
            "variant-price": "198.00",
            "variant-stock": "12",
            "variant-starts_at": "2001-01-01T10:00",
        },
    )
    assert past.status_code == 200 and "开始时间" in past.content.decode()
    assert (
        owner.post(
            edit, {"action": "video", "video-video": file_upload("c.mp4", mp4_bytes())}
        ).status_code
        == 302
    )
    bad_model = owner.post(
        edit, {"action": "model_3d", "model-model": file_upload("m.glb", EXE_BYTES)}
    )
    assert bad_model.status_code == 200 and "3D 模型只接受" in bad_model.content.decode()
    assert (
        owner.post(
            edit, {"action": "model_3d", "model-model": file_upload("m.glb", glb_vase())}
        ).status_code
        == 302
    )
    assert ProductVideo.objects.filter(product=course).exists()
    assert owner.post(edit, {"action": "remove_video"}).status_code == 302
    assert not ProductVideo.objects.filter(product=course).exists()
    # Digital product: the file panel; a bundle: the contents panel with listed variants.
    digital = digital_product_make(shop, title_zh="纹样电子书")
    digital_page = owner.get(f"/products/{digital.pk}/edit/").content.decode()
    assert 'data-testid="digital-file"' in digital_page and "图录.pdf" in digital_page
    cup = product_listed(shop, title_zh="青瓷杯")
    bundle = product_make(shop, title_zh="杯组", kind="bundle")
    bundle_edit = f"/products/{bundle.pk}/edit/"
    assert "青瓷杯 · CUP-1" in owner.get(bundle_edit).content.decode()
    assert (
        owner.post(
            bundle_edit,
            {
                "action": "bundle_item",
                "bundle-variant_id": str(cup.variants.get().pk),
                "bundle-quantity": "3",
            },
        ).status_code
        == 302
    )
    assert 'data-testid="bundle-items"' in owner.get(bundle_edit).content.decode()
    # Another shop's manager: 404 on every editor action.
    other = Client()
    other.force_login(shop_open().owner)
    assert other.post(edit, {"action": "remove_model_3d"}).status_code == 404
    assert ProductModel3D.objects.filter(product=course).exists()
    # The reviewer sees the media and the file on the decision page.
    services.product_image_add(actor=shop.owner, product_id=digital.pk, upload=image_upload())
    services.product_submit(actor=shop.owner, product_id=digital.pk)
    reviewer = Client()
    reviewer.force_login(reviewer_user())
    decide = reviewer.get(f"/review/products/{digital.pk}/").content.decode()
    assert "图录.pdf" in decide and f"/products/{digital.pk}/digital-file/" in decide
    assert reviewer.get(f"/products/{digital.pk}/digital-file/").status_code == 200


def test_hostile_input_to_new_endpoints_is_a_4xx_never_a_5xx() -> None:
    shop = shop_open()
    me = Api(shop.owner)
    course = me.post_json(
        f"/shops/{shop.slug}/products",
        {"title_zh": "课", "kind": "course", "duration_minutes": 60, "online": True},
    ).json()["id"]
    bundle = me.post_json(
        f"/shops/{shop.slug}/products", {"title_zh": "套", "kind": "bundle"}
    ).json()["id"]
    cases = [
        (f"/products/{bundle}/bundle-items", {"variant_id": 2**70, "quantity": 1}),
        (f"/products/{bundle}/bundle-items", {"variant_id": 1, "quantity": 10**30}),
        (f"/products/{bundle}/bundle-items", {"variant_id": 1, "quantity": "two"}),
        (f"/products/{bundle}/bundle-items", {"variant_id": -3, "quantity": 1}),
        (
            f"/products/{course}/variants",
            {"sku": "S", "price_fen": 1, "stock": 1, "starts_at": "soon"},
        ),
        (
            f"/products/{course}/variants",
            {"sku": "S", "price_fen": 1, "stock": 1, "starts_at": "9999-99-99T99:99:99Z"},
        ),
        (
            f"/shops/{shop.slug}/products",
            {"title_zh": "x", "kind": "course", "duration_minutes": 10**12, "online": True},
        ),
        (
            f"/shops/{shop.slug}/products",
            {"title_zh": "x", "kind": "course", "duration_minutes": 60, "location": "a\x00b"},
        ),
        (f"/shops/{shop.slug}/products", {"title_zh": "x", "kind": "teleport"}),
    ]
    for path, body in cases:
        response = me.post_json(path, body)
        assert 400 <= response.status_code < 500, (path, body, response.content)
    # Multipart endpoints without their file, or with a text field instead.
    for path, field in (
        (f"/products/{course}/video", "video"),
        (f"/products/{course}/model", "model"),
        (f"/products/{course}/digital-file", "file"),
    ):
        assert 400 <= me.client.post(f"/api/v1{path}", {}, headers=me.headers).status_code < 500
        assert (
            400
            <= me.client.post(f"/api/v1{path}", {field: "x"}, headers=me.headers).status_code
            < 500
        )
    assert Client().get("/downloads/%00/").status_code == 404
    assert Client().get("/downloads/" + "a" * 5000 + "/").status_code == 404
    assert Product.objects.count() == 2
