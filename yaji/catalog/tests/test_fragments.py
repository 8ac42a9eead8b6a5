"""The listed product's page rendered in Python (ADR 0054) is the reference template's page
(``catalog/product_detail.html`` with its includes) for every product kind, with and without
images, video, 3D model, options, bundle contents and reviews, values that need escaping, in
both languages; and it is read in a constant, small number of statements."""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from yaji.catalog import selectors
from yaji.catalog.models import (
    Attribute,
    BundleItem,
    Category,
    CustomisationOption,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVideo,
    Shop,
    Tag,
    Variant,
)
from yaji.catalog.tests.factories import shop_open, verified_user
from yaji.catalog.views import product_detail_context
from yaji.trade import reviews as trade_reviews

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LANGUAGES = ("zh-hans", "en")
NASTY = "<b>\"A&B\"</b> 'x'"


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _shop(**overrides: Any) -> Shop:
    fields: dict[str, Any] = {
        "owner": verified_user(),
        "name_zh": "墨香<苏绣>",
        "name_en": "Ink & Silk",
        "slug": f"ink-silk-{Shop.objects.count()}",
        "shop_type": "heritage_workshop",
        "region": "江苏 · 苏州",
        "status": Shop.Status.ACTIVE,
    }
    fields.update(overrides)
    return Shop.objects.create(**fields)


def _product(shop: Shop, **overrides: Any) -> Product:
    fields: dict[str, Any] = {
        "shop": shop,
        "title_zh": "青瓷茶盏",
        "title_en": "Celadon tea bowl",
        "story_zh": "第一段 & <i>x</i>\r\n第二行\n\n第二段",
        "story_en": "Part one.\n\nPart two.",
        "status": Product.Status.LISTED,
        "created_by": shop.owner,
    }
    fields.update(overrides)
    return Product.objects.create(**fields)


def _variant(product: Product, sku: str, **overrides: Any) -> Variant:
    fields: dict[str, Any] = {"product": product, "sku": sku, "price_fen": 16800, "stock": 5}
    fields.update(overrides)
    return Variant.objects.create(**fields)


def _image(product: Product, position: int, alt: str = "") -> ProductImage:
    return ProductImage.objects.create(
        product=product,
        file=f"products/p{position}.webp",
        thumb_400=f"products/p{position}-400.webp",
        thumb_1200=f"products/p{position}-1200.webp",
        width=1200,
        height=900,
        size=1000,
        sha256="0" * 64,
        alt=alt,
        position=position,
    )


def _media(product: Product, *, video: bool = False, model: bool = False) -> None:
    common = {"size": 10, "sha256": "0" * 64}
    if video:
        ProductVideo.objects.create(
            product=product, file="products/v.mp4", content_type="video/mp4", **common
        )
    if model:
        ProductModel3D.objects.create(
            product=product, file="products/m.glb", content_type="model/gltf-binary", **common
        )


def _catalogue() -> dict[str, Product]:
    """One product of each kind and shape the page has a branch for."""
    shop = _shop()
    plain_shop = _shop(name_en="", region="", shop_type="museum", logo="shops/logos/l.png")
    category = Category.objects.create(slug="t-ceramics", name_zh="陶瓷", name_en="Ceramics")
    bare_category = Category.objects.create(slug="t-textile", name_zh="织绣<>", name_en="")
    era = Attribute.objects.create(kind="era", value_zh="宋", value_en="Song")
    craft = Attribute.objects.create(kind="craft", value_zh="青瓷 & 釉", value_en="")
    tags = [Tag.objects.create(name=name) for name in ("宋瓷", "<茶>", "a&b")]
    out: dict[str, Product] = {}

    standard = _product(shop, category=category, designer_notes="手记：\n" + NASTY)
    _variant(standard, "CUP-1", options={"颜色": "天青", "size": NASTY}, position=1)
    _variant(standard, "CUP-2", options={}, price_fen=12_345_600, stock=0, position=0)
    for position, alt in enumerate(("", NASTY, "盏")):
        _image(standard, position, alt)
    standard.attributes.set([era, craft])
    standard.tags.set(tags)
    out["standard, two variants, gallery, attributes, tags"] = standard

    one = _product(plain_shop, title_zh=NASTY, title_en="", story_zh="", story_en="")
    _variant(one, "ONE-<1>", options={"尺寸": 12})
    _image(one, 0)
    out["one variant, one image, no story, museum shop with a logo"] = one

    limited = _product(
        shop,
        kind="limited_edition",
        edition_size=99,
        per_buyer_limit=2,
        category=bare_category,
        story_en="",
    )
    _variant(limited, "LTD-1", stock=99)
    _media(limited, model=True)
    _image(limited, 0)
    out["limited edition with a 3D model"] = limited

    made = _product(shop, kind="made_to_order", lead_time_days=21, title_en="")
    _variant(made, "MTO-1")
    CustomisationOption.objects.create(
        product=made, kind="engraving", label_zh="刻字", label_en="Engraving", max_length=8,
        required=True, position=0,
    )  # fmt: skip
    CustomisationOption.objects.create(
        product=made,
        kind="choice",
        label_zh="釉色<选>",
        choices=[
            {"value_zh": "天青", "value_en": "Sky", "price_delta_fen": 0},
            {"value_zh": "月白&", "price_delta_fen": 5000},
        ],
        position=1,
    )
    _media(made, video=True, model=True)
    out["made to order with options, video and 3D model, no image"] = made

    digital = _product(shop, kind="digital_download", designer_notes="")
    _variant(digital, "PDF-1", stock=1000, price_fen=990)
    _media(digital, video=True)
    _image(digital, 0)
    out["digital download with a video"] = digital

    course = _product(shop, kind="course", duration_minutes=120, online=True, location="苏州<>")
    start = timezone.make_aware(datetime(2027, 1, 9, 9, 30), timezone.get_fixed_timezone(480))
    _variant(course, "S-1", starts_at=start, options={"场次": "周六上午"}, stock=8)
    _variant(course, "S-2", starts_at=start + timedelta(days=7), stock=0, position=1)
    out["online course with a place, two sessions"] = course

    offline = _product(shop, kind="course", duration_minutes=45, location="平江路 12 号")
    out["course on site, no sessions yet (no price, no buy box)"] = offline

    cup, pot = standard.variants.order_by("position").last(), one.variants.get()
    bundle = _product(shop, kind="bundle", title_zh="一壶四杯")
    _variant(bundle, "SET-1", price_fen=20000, stock=3)
    BundleItem.objects.create(bundle=bundle, variant=cup, quantity=4, position=0)
    BundleItem.objects.create(bundle=bundle, variant=pot, quantity=1, position=1)
    out["bundle, cheaper than its parts"] = bundle

    gone = _product(shop, kind="bundle", title_zh="旧套装", status=Product.Status.DELISTED)
    gone_variant = _variant(gone, "OLD-1", stock=0)
    sold = _product(shop, kind="bundle", title_zh="售罄套装")
    _variant(sold, "SET-2", price_fen=90000, stock=2)
    BundleItem.objects.create(bundle=sold, variant=gone_variant, quantity=1)
    out["bundle with a delisted part: none available"] = sold

    empty = _product(shop, kind="bundle", title_zh="空套装")
    out["bundle without parts or variants"] = empty
    return out


def _reviews(monkeypatch: pytest.MonkeyPatch, *, with_reviews: bool) -> None:
    """trade's review selectors answer stand-ins with every field that needs escaping: the
    reference template's ``{% product_reviews %}`` and the view both call them through the
    module (real reviews: ``test_real_reviews_…``)."""
    if not with_reviews:
        return
    photo = SimpleNamespace(
        file=SimpleNamespace(url="/media/reviews/a&b.jpg"),
        thumb=SimpleNamespace(url="/media/reviews/a-t.jpg"),
    )
    stamp = timezone.make_aware(datetime(2026, 11, 30, 23, 30), timezone.get_fixed_timezone(0))
    reviews = [
        SimpleNamespace(
            rating=5,
            created_at=stamp,
            text="很好 & <美>\r\n第二行",
            reply=NASTY,
            photos=SimpleNamespace(all=lambda: [photo, photo]),
        ),
        SimpleNamespace(
            rating=3, created_at=stamp, text="", reply="", photos=SimpleNamespace(all=list)
        ),
    ]
    rating = trade_reviews.Rating(average=4.0, count=2)
    monkeypatch.setattr(trade_reviews, "reviews_of_product", lambda **_: reviews)
    monkeypatch.setattr(trade_reviews, "product_rating", lambda **_: rating)
    monkeypatch.setattr(trade_reviews, "product_reviews_rated", lambda **_: (reviews, rating))


def _reference(product_id: int, token: str, path: str) -> str:
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    product = selectors.product_get_public(product_id=product_id)
    context = {**product_detail_context(product), "csrf_token": token}
    return render_to_string("catalog/product_detail.html", context, request=request)


def _same(reference: str, served: str) -> None:
    one, two = _flat(reference), _flat(served)
    if one != two:
        diff = difflib.unified_diff(
            one.replace(">", ">\n").splitlines(), two.replace(">", ">\n").splitlines(), lineterm=""
        )
        pytest.fail("the Python page differs from the template:\n" + "\n".join(diff))


@pytest.mark.parametrize("with_reviews", [False, True], ids=["no reviews", "reviews"])
def test_python_page_is_the_template_page(monkeypatch, settings, with_reviews) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = False
    _reviews(monkeypatch, with_reviews=with_reviews)
    for case, product in _catalogue().items():
        path = f"/products/{product.pk}/"
        for language in LANGUAGES:
            response = Client(HTTP_ACCEPT_LANGUAGE=language).get(path)
            assert response.status_code == 200, case
            served = response.content.decode()
            token = TOKEN_RE.search(served).group(1)  # type: ignore[union-attr]
            with translation.override(language):
                reference = _reference(product.pk, token, path)
            assert "product-page" in reference and "page-product" in reference
            try:
                _same(reference, served)
            except pytest.fail.Exception as exc:
                raise AssertionError(f"{case} ({language}): {exc}") from None


def test_python_page_through_the_page_cache(settings) -> None:  # type: ignore[no-untyped-def]
    """With the page cache: placeholders in, each visitor's token out, the same page."""
    settings.YAJI_PAGE_CACHE = True
    product = next(iter(_catalogue().values()))
    path = f"/products/{product.pk}/?from=<home>"
    for language in LANGUAGES:
        for expected in ("miss", "hit"):
            response = Client(HTTP_ACCEPT_LANGUAGE=language).get(path)
            assert response["X-Page-Cache"] == expected
            served = response.content.decode()
            assert "yajicsrfplaceholder" not in served and "yajipathplaceholder" not in served
            token = TOKEN_RE.search(served).group(1)  # type: ignore[union-attr]
            assert set(TOKEN_RE.findall(served)) == {token}
            with translation.override(language):
                _same(_reference(product.pk, token, path), served)


def test_unlisted_product_is_the_template_preview_for_its_shop(client) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()  # with its owner's membership
    draft = _product(shop, status=Product.Status.DRAFT)
    _variant(draft, "D-1")
    path = f"/products/{draft.pk}/"
    assert Client().get(path).status_code == 404
    client.force_login(shop.owner)
    page = client.get(path)
    assert page.status_code == 200
    assert 'data-testid="preview-banner"' in page.content.decode()


def test_statements_per_page_are_few_and_constant(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = True
    counts = {}
    for case, product in _catalogue().items():
        with CaptureQueriesContext(connection) as captured:
            assert Client().get(f"/products/{product.pk}/").status_code == 200
        counts[case] = len(captured)
    # versions and stock, the product, its parts, the reviews with their rating
    assert set(counts.values()) == {4}, counts


def test_a_components_stock_shows_on_the_bundle_page_at_once(settings) -> None:  # type: ignore[no-untyped-def]
    """The bundle page's key has its components' stock (``product_stamp``): an order taking
    a component (no signal, no bump) retires the cached page."""
    settings.YAJI_PAGE_CACHE = True
    catalogue = _catalogue()
    bundle = catalogue["bundle, cheaper than its parts"]
    path = f"/products/{bundle.pk}/"
    client = Client()
    assert client.get(path)["X-Page-Cache"] == "miss"
    assert client.get(path)["X-Page-Cache"] == "hit"
    component = BundleItem.objects.filter(bundle=bundle).order_by("position").first()
    assert component is not None
    Variant.objects.filter(pk=component.variant_id).update(stock=3)  # fewer than one set of 4
    page = client.get(path)
    assert page["X-Page-Cache"] == "miss"
    assert "暂时无货" in page.content.decode()


def test_real_reviews_with_photos_and_replies(settings) -> None:  # type: ignore[no-untyped-def]
    """Through trade's own services: a buyer reviews with a photo, the shop replies;
    ``product_reviews_rated`` (one statement + photos) shows what the template's two do."""
    from yaji.catalog.tests.factories import image_upload
    from yaji.trade import services as trade
    from yaji.trade.tests.test_reviews import completed_order

    settings.YAJI_PAGE_CACHE = False
    first = completed_order()
    product_id = first.lines.get().product_id
    trade.order_confirm_receipt(buyer=first.buyer, order_id=first.pk)
    review = trade_reviews.review_create(
        buyer=first.buyer,
        order_id=first.pk,
        product_id=product_id,
        rating=4,
        text="釉色温润 & <好>\n包装用心。",
        photos=[image_upload()],
    )
    trade_reviews.review_reply(actor=first.shop.owner, review_id=review.pk, text="谢谢<喜欢>！")
    path = f"/products/{product_id}/"
    for language in LANGUAGES:
        with CaptureQueriesContext(connection) as captured:
            served = Client(HTTP_ACCEPT_LANGUAGE=language).get(path).content.decode()
        # page cache off (no key to read): product, parts, reviews, their photos
        assert len(captured) == 4
        assert "4.0 ★" in served and "包装用心" in served
        token = TOKEN_RE.search(served).group(1)  # type: ignore[union-attr]
        with translation.override(language):
            _same(_reference(product_id, token, path), served)
