"""The page cache for visitors without a session (ADR 0037): served from the cache while
nothing changed, never stale after a committed change, never shared with signed-in visitors,
and every visitor gets a CSRF token of their own."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from yaji.catalog import services as catalog
from yaji.catalog.models import Category, PageVersion, Shop, Variant
from yaji.catalog.stock import variant_stock_take
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _page_cache_on(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = True


@pytest.fixture
def product(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    reviewer = reviewer_user()
    shop = shop_open(reviewer=reviewer, name_zh="婉清苏绣坊", shop_type="heritage_workshop")
    with django_capture_on_commit_callbacks(execute=True):
        item = listed(
            shop,
            reviewer=reviewer,
            title_zh="苏绣团扇",
            title_en="Embroidered fan",
            category_slug="heritage-craft",
            price_fen=16800,
        )
        relay()
    return item


def test_second_visit_is_served_from_the_cache_with_its_own_csrf_token(product) -> None:  # type: ignore[no-untyped-def]
    path = f"/products/{product.pk}/"
    first, second = Client(), Client()
    one = first.get(path)
    two = second.get(path)
    assert (one["X-Page-Cache"], two["X-Page-Cache"]) == ("miss", "hit")
    assert "苏绣团扇" in two.content.decode() and "¥168.00" in two.content.decode()
    tokens = {TOKEN_RE.search(r.content.decode()).group(1) for r in (one, two)}  # type: ignore[union-attr]
    assert len(tokens) == 2 and "yajicsrf" not in "".join(tokens)
    assert "yajicsrfplaceholder" not in two.content.decode()
    # The hit's token works: its visitor can post the add-to-cart form (CSRF is enforced).
    second.handler.enforce_csrf_checks = True  # type: ignore[attr-defined]
    token = TOKEN_RE.search(two.content.decode()).group(1)  # type: ignore[union-attr]
    variant = product.variants.get()
    response = second.post(
        "/cart/add/",
        {"csrfmiddlewaretoken": token, "variant_id": variant.pk, "quantity": 1, "next": path},
    )
    assert response.status_code in (302, 303), response.status_code


def test_a_price_change_shows_at_once(product, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    path = f"/products/{product.pk}/"
    client = Client()
    client.get(path)
    assert client.get(path)["X-Page-Cache"] == "hit"
    variant = Variant.objects.get(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        variant.price_fen = 19900  # an operator's edit in the console
        variant.save()
    page = client.get(path)
    assert page["X-Page-Cache"] == "miss"
    assert "¥199.00" in page.content.decode() and "¥168.00" not in page.content.decode()


def test_stock_taken_by_an_order_shows_without_any_bump(product) -> None:  # type: ignore[no-untyped-def]
    path = f"/products/{product.pk}/"
    client = Client()
    client.get(path)
    versions = list(PageVersion.objects.values_list("name", "value"))
    variant = Variant.objects.get(product=product)
    assert variant_stock_take(variant_id=variant.pk, quantity=variant.stock)
    page = client.get(path).content.decode()
    assert "售罄" in page  # sold out, from the live stock in the page's key
    assert list(PageVersion.objects.values_list("name", "value")) == versions


def test_edits_delisting_and_shop_changes_retire_the_page(
    product, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    path = f"/products/{product.pk}/"
    client = Client()
    client.get(path)
    with django_capture_on_commit_callbacks(execute=True):
        shop = Shop.objects.get(pk=product.shop_id)
        shop.name_zh = "婉清绣庄"
        shop.save()
    assert "婉清绣庄" in client.get(path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        catalog.product_delist(actor=product.shop.owner, product_id=product.pk)
    assert client.get(path).status_code == 404


def test_list_and_category_pages_follow_the_index(
    product, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for path in ("/categories/heritage-craft/", "/search/?category=heritage-craft&sort=newest"):
        assert client.get(path)["X-Page-Cache"] == "miss"
        assert client.get(path)["X-Page-Cache"] == "hit"
    variant = Variant.objects.get(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        variant.price_fen = 25800
        variant.save()
        relay()  # the outbox worker refreshes the search document
    for path in ("/categories/heritage-craft/", "/search/?category=heritage-craft&sort=newest"):
        page = client.get(path)
        assert page["X-Page-Cache"] == "miss"
    # The index refresh is what the cards show; if the worker had not run yet the price on
    # the card is the indexed one, and the refresh bumps the lists again.
    with django_capture_on_commit_callbacks(execute=True):
        Category.objects.filter(slug="heritage-craft").update(name_en="Heritage")  # no signal
    assert client.get("/categories/heritage-craft/")["X-Page-Cache"] == "hit"


def test_text_searches_are_not_cached_and_signed_in_visitors_never_are(product) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.get("/search/?q=团扇")
    assert "X-Page-Cache" not in client.get("/search/?q=团扇")
    member = Client()
    member.force_login(product.shop.owner)
    for _ in range(2):
        response = member.get(f"/products/{product.pk}/")
        assert "X-Page-Cache" not in response
        assert 'class="account-menu"' in response.content.decode()


def test_htmx_partial_and_full_page_are_kept_apart(product) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    path = "/categories/heritage-craft/"
    client.get(path)
    partial = client.get(path, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="browse-results")
    assert partial["X-Page-Cache"] == "miss" and "<html" not in partial.content.decode()
    full = client.get(path)
    assert full["X-Page-Cache"] == "hit" and "<html" in full.content.decode()
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert english["X-Page-Cache"] == "miss" and "Intangible Heritage Crafts" in (
        english.content.decode()
    )


@pytest.mark.django_db
def test_page_versions_reads_each_name_or_zero(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from yaji.catalog.page_cache import page_versions, page_versions_bump

    names = ["catalog", "lists", "product:7", "product:8"]
    before = page_versions(names)
    with django_capture_on_commit_callbacks(execute=True):
        page_versions_bump("lists", "product:7")
    with django_capture_on_commit_callbacks(execute=True):
        page_versions_bump("product:7")
    after = page_versions(names)
    expected = tuple(
        PageVersion.objects.filter(name=name).values_list("value", flat=True).first() or 0
        for name in names
    )
    assert after == expected
    assert after[1] == before[1] + 1 and after[2] == before[2] + 2 and after[3] == before[3] == 0
    assert page_versions(["product:8"]) == (0,) and page_versions([]) == ()
