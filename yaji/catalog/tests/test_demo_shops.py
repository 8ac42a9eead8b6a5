"""The demo world opens its shops through onboarding (apply + approve), and a rerun adds none."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role
from yaji.catalog.models import CreatorProfile, Shop, ShopApplication

pytestmark = pytest.mark.django_db

EXPECTED = {
    "wanqing-embroidery": "heritage_workshop",
    "shanhe-cloisonne": "heritage_workshop",
    "shenmo-design": "creator",
    "aduo-miao-silver": "heritage_workshop",
    "qingyin-kunqu": "creator",
    "jiangnan-weaving-museum": "museum",
    "yunwen": "brand",
}


def test_demo_shops_are_approved_applications_and_rerunnable() -> None:
    call_command("demo_data", buyers=2, minors=0, quiet=True)
    call_command("demo_data", buyers=2, minors=0, quiet=True)

    shops = {s.slug: s for s in Shop.objects.select_related("owner")}
    types = {slug: s.shop_type for slug, s in shops.items()}
    assert EXPECTED.items() <= types.items()
    assert len(shops) == 42  # the seven storied shops and 35 more makers
    assert set(types.values()) == {"heritage_workshop", "creator", "museum", "brand", "studio"}
    assert ShopApplication.objects.filter(status="approved").count() == len(shops)
    assert not ShopApplication.objects.exclude(status="approved").exists()
    for shop in shops.values():
        assert shop.story_zh and shop.story_en and shop.region
        assert has_role(shop.owner, Role.MERCHANT_STAFF, shop.role_scope)
    assert CreatorProfile.objects.count() == 5  # the creators wrote their bios


def test_demo_products_are_listed_through_review_and_rerunnable() -> None:
    from django.test import Client

    from yaji.catalog.models import Product

    call_command("demo_data", buyers=2, minors=0, quiet=True)
    first_run = Product.objects.count()
    call_command("demo_data", buyers=2, minors=0, quiet=True)
    products = list(Product.objects.prefetch_related("images", "variants"))
    assert len(products) == first_run >= 6
    assert all(p.status == "listed" and p.images.all() and p.variants.all() for p in products)
    assert {p.kind for p in products} >= {"standard", "limited_edition", "made_to_order"}
    page = Client().get(f"/products/{products[0].pk}/")
    assert page.status_code == 200 and b".webp" in page.content
    # The vase comes with a 3D model, shown in the viewer with AR.
    vase = Product.objects.get(title_zh="景泰蓝缠枝莲梅瓶")
    assert vase.model_3d.content_type == "model/gltf-binary"
    page = Client().get(f"/products/{vase.pk}/")
    assert b"<model-viewer" in page.content and b"scene-viewer quick-look" in page.content
    model = Client().get(f"/products/{vase.pk}/model/{vase.model_3d.pk}.glb")
    assert model.status_code == 200 and b"".join(model.streaming_content)[:4] == b"glTF"
