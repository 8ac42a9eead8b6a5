"""Products through the services: the listing workflow, pre-checks, images, permissions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image

from yaji.accounts.models import Role, RoleAssignment
from yaji.catalog import selectors, services
from yaji.catalog.errors import (
    CustomisationTextTooLong,
    ImageTooLarge,
    InvalidCustomisation,
    InvalidPrice,
    InvalidProductImage,
    InvalidProductKind,
    InvalidStock,
    NotFound,
    PermissionDenied,
    ProductIncomplete,
    ProductNotEditable,
    UnknownCategory,
)
from yaji.catalog.images import IMAGE_MAX_BYTES
from yaji.catalog.models import Category, ProductImage, ProhibitedWord, Variant
from yaji.catalog.prechecks import prohibited_words_find
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
from yaji.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def _media_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT) / "products"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_categories_are_seeded() -> None:
    names = set(Category.objects.filter(parent__isnull=True).values_list("name_zh", flat=True))
    assert {
        "文房雅器",
        "服饰配饰",
        "家居陈设",
        "茶器香器",
        "非遗手作",
        "博物馆文创",
        "数字藏品",
    } <= names
    assert len(names) >= 12


def test_full_listing_workflow(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PROHIBITED_WORDS = ["高仿"]
    shop = shop_open()
    owner = shop.owner
    product = services.product_create(
        actor=owner,
        shop=shop,
        title_zh="高仿汝窑天青釉盏",
        story_zh="雨过天青云破处。\n\n<script>alert(1)</script>",
        category_slug="tea-incense",
        tags=["宋韵", "茶席"],
    )
    assert product.status == "draft"
    with pytest.raises(ProductIncomplete):
        services.product_submit(actor=owner, product_id=product.pk)
    services.variant_upsert(
        actor=owner,
        product_id=product.pk,
        sku="RU-1",
        price_fen=38800,
        stock=3,
        options={"釉色": "天青"},
    )
    image = services.product_image_add(actor=owner, product_id=product.pk, upload=image_upload())
    assert image.width == 64 and image.height == 48
    assert len(_media_files(settings)) == 3  # original re-encoded + 400 + 1200

    submitted = services.product_submit(actor=owner, product_id=product.pk)
    assert submitted.status == "rejected"
    assert "高仿" in submitted.reject_reason

    services.product_update(actor=owner, product_id=product.pk, title_zh="汝窑天青釉盏")
    submitted = services.product_submit(actor=owner, product_id=product.pk)
    assert submitted.status == "in_review" and submitted.reject_reason == ""
    reviewer = reviewer_user()
    assert [p.pk for p in selectors.products_review_queue(reviewer=reviewer)] == [product.pk]
    with pytest.raises(ProductNotEditable):
        services.product_update(actor=owner, product_id=product.pk, title_zh="改")

    listed = services.product_review_approve(reviewer=reviewer, product_id=product.pk)
    assert listed.status == "listed" and listed.listed_at is not None
    event = OutboxEvent.objects.get(topic="catalog.product_listed")
    assert event.payload["product_id"] == product.pk
    assert selectors.product_get_public(product_id=product.pk).pk == product.pk

    services.product_delist(actor=owner, product_id=product.pk)
    assert OutboxEvent.objects.filter(topic="catalog.product_delisted").count() == 1
    with pytest.raises(NotFound):
        selectors.product_get_public(product_id=product.pk)


def test_prohibited_words_from_admin_and_normalised() -> None:
    ProhibitedWord.objects.create(word="犀角杯")
    shop = shop_open()
    product = product_make(shop, title_zh="仿古犀角杯", title_en="cup")
    result = services.product_submit(actor=shop.owner, product_id=product.pk)
    assert result.status == "rejected" and "犀角杯" in result.reject_reason
    assert prohibited_words_find("ＡＢＣ货", ["abc"]) == ["abc"]


def test_reviewer_reject_needs_reason_and_shop_can_resubmit() -> None:
    shop = shop_open()
    product = product_make(shop)
    services.product_submit(actor=shop.owner, product_id=product.pk)
    reviewer = reviewer_user()
    rejected = services.product_review_reject(
        reviewer=reviewer, product_id=product.pk, reason="图片太暗"
    )
    assert rejected.status == "rejected" and rejected.reject_reason == "图片太暗"
    services.variant_upsert(
        actor=shop.owner, product_id=product.pk, sku="CUP-1", price_fen=9900, stock=1
    )
    assert Variant.objects.get(product=product).price_fen == 9900
    assert services.product_submit(actor=shop.owner, product_id=product.pk).status == "in_review"


def test_other_shops_manager_sees_not_found_and_non_reviewer_cannot_approve() -> None:
    shop = shop_open()
    other = shop_open()
    product = product_make(shop)
    with pytest.raises(NotFound):
        services.product_create(actor=other.owner, shop=shop, title_zh="混入")
    for call in (
        lambda: services.product_update(actor=other.owner, product_id=product.pk, title_zh="x"),
        lambda: services.variant_upsert(
            actor=other.owner, product_id=product.pk, sku="X", price_fen=1, stock=1
        ),
        lambda: services.product_image_add(
            actor=other.owner, product_id=product.pk, upload=image_upload()
        ),
        lambda: services.product_submit(actor=other.owner, product_id=product.pk),
        lambda: selectors.product_get_managed(user=other.owner, product_id=product.pk),
        lambda: selectors.product_get_public(product_id=product.pk),  # a draft
    ):
        with pytest.raises(NotFound):
            call()
    services.product_submit(actor=shop.owner, product_id=product.pk)
    with pytest.raises(PermissionDenied):
        services.product_review_approve(reviewer=shop.owner, product_id=product.pk)
    with pytest.raises(PermissionDenied):
        services.product_review_approve(reviewer=UserFactory(), product_id=product.pk)
    operator = UserFactory()
    RoleAssignment.objects.create(user=operator, role=Role.OPERATOR)
    assert (
        services.product_review_approve(reviewer=operator, product_id=product.pk).status == "listed"
    )


def test_bad_input_codes() -> None:
    shop = shop_open()
    product = services.product_create(actor=shop.owner, shop=shop, title_zh="茶则")
    with pytest.raises(InvalidPrice):
        services.variant_upsert(
            actor=shop.owner, product_id=product.pk, sku="A", price_fen=0, stock=1
        )
    with pytest.raises(InvalidStock):
        services.variant_upsert(
            actor=shop.owner, product_id=product.pk, sku="A", price_fen=1, stock=-1
        )
    with pytest.raises(UnknownCategory):
        services.product_create(actor=shop.owner, shop=shop, title_zh="x", category_slug="nope")
    with pytest.raises(InvalidProductKind):
        services.product_create(actor=shop.owner, shop=shop, title_zh="x", kind="made_to_order")
    with pytest.raises(InvalidProductKind):
        services.product_create(
            actor=shop.owner, shop=shop, title_zh="x", kind="limited_edition", edition_size=10
        )
    assert not Variant.objects.exists()


def test_database_refuses_bad_price_and_stock() -> None:
    shop = shop_open()
    product = services.product_create(actor=shop.owner, shop=shop, title_zh="茶则")
    for fields in ({"price_fen": 0, "stock": 1}, {"price_fen": 1, "stock": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.create(product=product, sku="Z", **fields)


def test_rejected_image_leaves_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = services.product_create(actor=shop.owner, shop=shop, title_zh="茶则")
    bad = [
        (InvalidProductImage, SimpleUploadedFile("x.png", EXE_BYTES, content_type="image/png")),
        # The right magic bytes, then garbage: sniffing passes, decoding does not.
        (InvalidProductImage, SimpleUploadedFile("y.png", png_bytes()[:40] + b"\0" * 50)),
        (
            ImageTooLarge,
            SimpleUploadedFile("z.png", b"\x89PNG\r\n\x1a\n" + b"\0" * IMAGE_MAX_BYTES),
        ),
    ]
    for error, upload in bad:
        with pytest.raises(error):
            services.product_image_add(actor=shop.owner, product_id=product.pk, upload=upload)
    assert not ProductImage.objects.exists()
    assert _media_files(settings) == []


def test_image_failure_after_files_are_written_removes_them(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = services.product_create(actor=shop.owner, shop=shop, title_zh="茶则")

    def boom(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database down")

    monkeypatch.setattr(ProductImage.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.product_image_add(actor=shop.owner, product_id=product.pk, upload=image_upload())
    assert _media_files(settings) == []


def test_image_is_reencoded_without_metadata_and_thumbnailed(settings) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = services.product_create(actor=shop.owner, shop=shop, title_zh="茶则")
    image = services.product_image_add(
        actor=shop.owner, product_id=product.pk, upload=image_upload(content=png_bytes(1600, 900))
    )
    root = Path(settings.MEDIA_ROOT)
    raw = (root / image.file.name).read_bytes()
    assert b"secret" not in raw
    with Image.open(io.BytesIO((root / image.thumb_400.name).read_bytes())) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (400, 225)
    with Image.open(io.BytesIO((root / image.thumb_1200.name).read_bytes())) as thumb:
        assert thumb.size == (1200, 675)


def test_customisation_options_and_quote() -> None:
    shop = shop_open()
    product = services.product_create(
        actor=shop.owner, shop=shop, title_zh="定制印章", kind="made_to_order", lead_time_days=14
    )
    variant = services.variant_upsert(
        actor=shop.owner, product_id=product.pk, sku="SEAL", price_fen=20000, stock=10
    )
    engraving = services.customisation_option_add(
        actor=shop.owner,
        product_id=product.pk,
        kind="engraving",
        label_zh="印文",
        max_length=4,
        required=True,
    )
    material = services.customisation_option_add(
        actor=shop.owner,
        product_id=product.pk,
        kind="choice",
        label_zh="石料",
        choices=[
            {"value_zh": "青田石", "price_delta_fen": 0},
            {"value_zh": "寿山石", "price_delta_fen": 5000},
        ],
    )
    with pytest.raises(InvalidCustomisation):
        services.customisation_option_add(
            actor=shop.owner, product_id=product.pk, kind="engraving", label_zh="x", max_length=0
        )
    product = selectors.product_get_managed(user=shop.owner, product_id=product.pk)
    quote = selectors.customisation_quote(
        product=product,
        variant_id=variant.pk,
        selections={str(engraving.pk): "清照", str(material.pk): "寿山石"},
    )
    assert quote == 25000
    with pytest.raises(CustomisationTextTooLong):
        selectors.customisation_quote(
            product=product, variant_id=variant.pk, selections={str(engraving.pk): "李清照之印章"}
        )
    with pytest.raises(InvalidCustomisation):
        selectors.customisation_quote(product=product, variant_id=variant.pk, selections={})


def test_category_filter_includes_subcategories_and_cursor_pages() -> None:
    parent = Category.objects.get(slug="tea-incense")
    child = Category.objects.create(parent=parent, slug="tea-bowls", name_zh="茶盏")
    shop = shop_open()
    reviewer = reviewer_user()
    a = product_listed(shop, reviewer, category_slug="tea-bowls")
    b = product_listed(shop, reviewer, category_slug="tea-incense")
    product_listed(shop, reviewer, category_slug="stationery")
    page = selectors.products_listed(category_slug="tea-incense", limit=1)
    assert [p.pk for p in page.items] == [b.pk] and page.next_cursor
    page2 = selectors.products_listed(category_slug="tea-incense", limit=1, cursor=page.next_cursor)
    assert [p.pk for p in page2.items] == [a.pk] and page2.next_cursor is None
    assert child.pk
