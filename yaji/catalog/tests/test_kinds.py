"""The remaining product kinds through the services: course/service sessions, bundles,
limited-edition stock caps, made-to-order customisation prices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from yaji.catalog import selectors, services
from yaji.catalog.errors import (
    BundleItemInvalid,
    CustomisationTextTooLong,
    EditionStockExceeded,
    InvalidCustomisation,
    InvalidProductKind,
    InvalidSession,
    NotFound,
    ProductIncomplete,
    ValidationFailed,
)
from yaji.catalog.models import BundleItem, Product
from yaji.catalog.tests.factories import (
    image_upload,
    product_listed,
    reviewer_user,
    shop_open,
)
from yaji.core import clock
from yaji.core.money import Money

pytestmark = pytest.mark.django_db


# --- course / service ---------------------------------------------------------------------------


def test_course_sessions_with_capacity_as_stock() -> None:
    shop = shop_open()
    owner = shop.owner
    with pytest.raises(InvalidProductKind) as exc_info:
        services.product_create(actor=owner, shop=shop, title_zh="缂丝体验课", kind="course")
    assert exc_info.value.extra["field"] == "duration_minutes"
    with pytest.raises(InvalidProductKind) as exc_info:
        services.product_create(
            actor=owner, shop=shop, title_zh="缂丝体验课", kind="course", duration_minutes=120
        )
    assert exc_info.value.extra["field"] == "location"  # neither a place nor online
    course = services.product_create(
        actor=owner,
        shop=shop,
        title_zh="缂丝体验课",
        kind="course",
        duration_minutes=120,
        location="苏州 · 平江路 12 号",
    )
    assert course.duration_minutes == 120 and not course.online
    start = clock.now() + timedelta(days=7)
    session = services.variant_upsert(
        actor=owner,
        product_id=course.pk,
        sku="S-0601",
        price_fen=28000,
        stock=8,
        options={"场次": "周六上午"},
        starts_at=start,
    )
    assert session.starts_at == start and session.stock == 8
    with pytest.raises(InvalidSession):
        services.variant_upsert(
            actor=owner,
            product_id=course.pk,
            sku="S-OLD",
            price_fen=28000,
            stock=8,
            starts_at=clock.now() - timedelta(hours=1),
        )
    with pytest.raises(InvalidSession):  # naive datetimes are ambiguous
        services.variant_upsert(
            actor=owner,
            product_id=course.pk,
            sku="S-NAIVE",
            price_fen=28000,
            stock=8,
            starts_at=start.replace(tzinfo=None),
        )
    # A course with sessions cannot silently become another kind.
    with pytest.raises(InvalidSession):
        services.product_update(actor=owner, product_id=course.pk, kind="standard")
    online = services.product_update(
        actor=owner, product_id=course.pk, online=True, location="", duration_minutes=90
    )
    assert online.online and online.location == "" and online.duration_minutes == 90
    services.product_image_add(actor=owner, product_id=course.pk, upload=image_upload())
    services.product_submit(actor=owner, product_id=course.pk)
    listed = services.product_review_approve(reviewer=reviewer_user(), product_id=course.pk)
    assert selectors.product_availability(product=listed) == 8


def test_sessions_only_for_courses_and_course_rules_in_database() -> None:
    shop = shop_open()
    product = services.product_create(actor=shop.owner, shop=shop, title_zh="茶盏")
    with pytest.raises(InvalidSession):
        services.variant_upsert(
            actor=shop.owner,
            product_id=product.pk,
            sku="A",
            price_fen=100,
            stock=1,
            starts_at=clock.now() + timedelta(days=1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(kind="course", duration_minutes=60)
    with pytest.raises(InvalidProductKind):
        services.product_create(
            actor=shop.owner,
            shop=shop,
            title_zh="太长的课",
            kind="course",
            duration_minutes=services.COURSE_MINUTES_MAX + 1,
            online=True,
        )


# --- limited edition ----------------------------------------------------------------------------


def test_limited_edition_stock_never_exceeds_edition_size() -> None:
    shop = shop_open()
    owner = shop.owner
    product = services.product_create(
        actor=owner,
        shop=shop,
        title_zh="限量团扇",
        kind="limited_edition",
        edition_size=50,
        per_buyer_limit=2,
    )
    services.variant_upsert(actor=owner, product_id=product.pk, sku="A", price_fen=100, stock=30)
    with pytest.raises(EditionStockExceeded) as exc_info:
        services.variant_upsert(
            actor=owner, product_id=product.pk, sku="B", price_fen=100, stock=21
        )
    assert exc_info.value.extra == {"edition_size": 50, "stock_total": 51}
    services.variant_upsert(actor=owner, product_id=product.pk, sku="B", price_fen=100, stock=20)
    # Changing an existing variant counts its new stock, not old + new.
    services.variant_upsert(actor=owner, product_id=product.pk, sku="A", price_fen=100, stock=25)
    with pytest.raises(EditionStockExceeded):
        services.product_update(actor=owner, product_id=product.pk, edition_size=40)
    with pytest.raises(InvalidProductKind):  # per-buyer limit over the edition
        services.product_update(actor=owner, product_id=product.pk, per_buyer_limit=60)
    assert services.product_update(actor=owner, product_id=product.pk, edition_size=45)
    # A standard product with 200 in stock cannot become an edition of 100.
    other = services.product_create(actor=owner, shop=shop, title_zh="普通盏")
    services.variant_upsert(actor=owner, product_id=other.pk, sku="X", price_fen=100, stock=200)
    with pytest.raises(EditionStockExceeded):
        services.product_update(
            actor=owner,
            product_id=other.pk,
            kind="limited_edition",
            edition_size=100,
            per_buyer_limit=1,
        )


# --- bundle -------------------------------------------------------------------------------------


def _bundle_setup():  # type: ignore[no-untyped-def]
    shop = shop_open()
    reviewer = reviewer_user()
    cup = product_listed(shop, reviewer=reviewer, title_zh="青瓷茶盏")  # CUP-1: 168.00, stock 5
    pot = services.product_create(actor=shop.owner, shop=shop, title_zh="紫砂壶")
    services.variant_upsert(
        actor=shop.owner, product_id=pot.pk, sku="POT-1", price_fen=58000, stock=3
    )
    services.product_image_add(actor=shop.owner, product_id=pot.pk, upload=image_upload())
    services.product_submit(actor=shop.owner, product_id=pot.pk)
    services.product_review_approve(reviewer=reviewer, product_id=pot.pk)
    bundle = services.product_create(
        actor=shop.owner, shop=shop, title_zh="一壶四杯茶具套装", kind="bundle"
    )
    return shop, reviewer, cup, pot, bundle


def test_bundle_of_listed_variants_availability_is_min_of_components() -> None:
    shop, reviewer, cup, pot, bundle = _bundle_setup()
    owner = shop.owner
    cup_variant = cup.variants.get()
    pot_variant = pot.variants.get()
    services.variant_upsert(
        actor=owner, product_id=bundle.pk, sku="SET-1", price_fen=99000, stock=100
    )
    with pytest.raises(ValidationFailed) as exc_info:  # one price for a bundle
        services.variant_upsert(
            actor=owner, product_id=bundle.pk, sku="SET-2", price_fen=99000, stock=1
        )
    assert exc_info.value.code == "bundle_single_variant"
    services.product_image_add(actor=owner, product_id=bundle.pk, upload=image_upload())
    with pytest.raises(ProductIncomplete) as incomplete:
        services.product_submit(actor=owner, product_id=bundle.pk)
    assert incomplete.value.extra["missing"] == ["bundle_items"]

    services.bundle_item_set(
        actor=owner, product_id=bundle.pk, variant_id=pot_variant.pk, quantity=1
    )
    services.bundle_item_set(
        actor=owner, product_id=bundle.pk, variant_id=cup_variant.pk, quantity=4
    )
    services.product_submit(actor=owner, product_id=bundle.pk)
    services.product_review_approve(reviewer=reviewer, product_id=bundle.pk)

    page = selectors.product_get_public(product_id=bundle.pk)
    # Cups: 5 // 4 = 1 set; pot: 3 // 1 = 3; own cap 100 → 1.
    assert selectors.bundle_availability(product=page) == 1
    from yaji.catalog.presenters import product_dict

    data = product_dict(page)
    assert data["bundle"]["availability"] == 1 == data["availability"]
    assert data["bundle"]["components_total_fen"] == 58000 + 4 * 16800
    assert {i["sku"]: i["quantity"] for i in data["bundle"]["items"]} == {"POT-1": 1, "CUP-1": 4}

    # Stock moves (trade), a component is delisted: availability follows.
    type(cup_variant).objects.filter(pk=cup_variant.pk).update(stock=12)
    assert (
        selectors.bundle_availability(product=selectors.product_get_public(product_id=bundle.pk))
        == 3
    )
    services.product_delist(actor=owner, product_id=pot.pk)
    assert (
        selectors.bundle_availability(product=selectors.product_get_public(product_id=bundle.pk))
        == 0
    )


def test_bundle_item_rules() -> None:
    shop, reviewer, cup, _pot, bundle = _bundle_setup()
    owner = shop.owner
    cup_variant = cup.variants.get()
    draft = services.product_create(actor=owner, shop=shop, title_zh="草稿")
    draft_variant = services.variant_upsert(
        actor=owner, product_id=draft.pk, sku="D", price_fen=100, stock=1
    )
    foreign = product_listed(shop_open(), reviewer=reviewer).variants.get()
    for variant_id in (draft_variant.pk, foreign.pk, 999_999):
        with pytest.raises(BundleItemInvalid):
            services.bundle_item_set(
                actor=owner, product_id=bundle.pk, variant_id=variant_id, quantity=1
            )
    for quantity in (-1, 100, True):
        with pytest.raises(BundleItemInvalid):
            services.bundle_item_set(
                actor=owner, product_id=bundle.pk, variant_id=cup_variant.pk, quantity=quantity
            )
    # Only bundles hold items; another shop's manager does not find the bundle.
    with pytest.raises(InvalidProductKind):
        services.bundle_item_set(
            actor=owner, product_id=draft.pk, variant_id=cup_variant.pk, quantity=1
        )
    with pytest.raises(NotFound):
        services.bundle_item_set(
            actor=shop_open().owner, product_id=bundle.pk, variant_id=cup_variant.pk, quantity=1
        )
    item = services.bundle_item_set(
        actor=owner, product_id=bundle.pk, variant_id=cup_variant.pk, quantity=2
    )
    assert item is not None and item.quantity == 2
    assert (
        services.bundle_item_set(
            actor=owner, product_id=bundle.pk, variant_id=cup_variant.pk, quantity=0
        )
        is None
    )
    assert not BundleItem.objects.filter(bundle=bundle).exists()
    # A component sold out of the catalog (delisted) before submission blocks the submission.
    services.bundle_item_set(
        actor=owner, product_id=bundle.pk, variant_id=cup_variant.pk, quantity=2
    )
    services.variant_upsert(actor=owner, product_id=bundle.pk, sku="SET", price_fen=30000, stock=5)
    services.product_image_add(actor=owner, product_id=bundle.pk, upload=image_upload())
    services.product_delist(actor=owner, product_id=cup.pk)
    with pytest.raises(BundleItemInvalid):
        services.product_submit(actor=owner, product_id=bundle.pk)
    # A product with two variants cannot become a bundle (one price per bundle).
    two = services.product_create(actor=owner, shop=shop, title_zh="两规格")
    for sku in ("A", "B"):
        services.variant_upsert(actor=owner, product_id=two.pk, sku=sku, price_fen=100, stock=1)
    with pytest.raises(ValidationFailed) as exc_info:
        services.product_update(actor=owner, product_id=two.pk, kind="bundle")
    assert exc_info.value.code == "bundle_single_variant"
    # Changing the kind away from bundle drops its items.
    services.product_update(actor=owner, product_id=bundle.pk, kind="standard")
    assert not BundleItem.objects.filter(bundle=bundle).exists()
    # A listed product that is a component cannot be deleted from under a bundle (PROTECT).
    with pytest.raises(IntegrityError), transaction.atomic():
        BundleItem.objects.create(bundle=bundle, variant=cup_variant, quantity=0)


# --- made to order ------------------------------------------------------------------------------


def test_customisation_price_and_validation_for_trade() -> None:
    shop = shop_open()
    owner = shop.owner
    product = services.product_create(
        actor=owner, shop=shop, title_zh="刻字手镯", kind="made_to_order", lead_time_days=21
    )
    engraving = services.customisation_option_add(
        actor=owner,
        product_id=product.pk,
        kind="engraving",
        label_zh="内圈刻字",
        max_length=4,
        required=True,
    )
    wood = services.customisation_option_add(
        actor=owner,
        product_id=product.pk,
        kind="choice",
        label_zh="礼盒",
        choices=[
            {"value_zh": "紫檀", "price_delta_fen": 2000},
            {"value_zh": "纸盒", "price_delta_fen": -500},
        ],
    )
    product = Product.objects.get(pk=product.pk)
    price = services.customisation_price(
        product=product, choices={engraving.pk: "平安喜乐", str(wood.pk): "紫檀"}
    )
    assert price == Money(2000, "CNY")
    assert services.customisation_price(
        product=product, choices={str(engraving.pk): "福", str(wood.pk): "纸盒"}
    ) == Money(-500, "CNY")
    assert services.customisation_validate(
        product=product, choices={str(engraving.pk): "  福 "}
    ) == {engraving.pk: "福"}
    with pytest.raises(CustomisationTextTooLong) as exc_info:
        services.customisation_price(product=product, choices={str(engraving.pk): "长命百岁安康"})
    assert exc_info.value.extra["max_length"] == 4 and exc_info.value.extra["length"] == 6
    # Decomposed characters count once (NFC): e + combining acute is one letter.
    assert services.customisation_validate(
        product=product, choices={str(engraving.pk): "Cafe\u0301"}
    ) == {engraving.pk: "Café"}
    for bad in (
        {},  # the engraving is required
        {str(engraving.pk): "福\u0000"},  # control characters
        {str(engraving.pk): "福\u202e"},  # a bidi override
        {str(engraving.pk): "福", str(wood.pk): "黄金"},  # not a choice
        {str(engraving.pk): "福", "99999": "x"},  # not an option
        {str(engraving.pk): "福", "abc": "x"},
        {str(engraving.pk): 5},
    ):
        with pytest.raises(InvalidCustomisation):
            services.customisation_validate(product=product, choices=bad)  # type: ignore[arg-type]
