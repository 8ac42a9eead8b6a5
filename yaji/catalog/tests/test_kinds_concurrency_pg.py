"""Invariants of the new kinds under real concurrency (PostgreSQL, real threads)."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.catalog import services
from yaji.catalog.models import DownloadGrant, Product, Variant
from yaji.catalog.prechecks import PRECHECKS, PrecheckHold, precheck_register
from yaji.catalog.tests.factories import (
    UserFactory,
    digital_product_make,
    product_make,
    reviewer_user,
    shop_open,
)
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_limited_edition_stock_stays_within_the_edition_under_concurrent_upserts() -> None:
    shop = shop_open()
    product = services.product_create(
        actor=shop.owner,
        shop=shop,
        title_zh="限量团扇",
        kind="limited_edition",
        edition_size=50,
        per_buyer_limit=2,
    )
    # Eight managers' tabs each add 10 pieces under their own SKU: only 5 fit.
    outcomes = race(
        8,
        lambda i: services.variant_upsert(
            actor=shop.owner, product_id=product.pk, sku=f"E{i}", price_fen=1000, stock=10
        ),
    )
    assert outcomes == Counter({"ok": 5, "edition_stock_exceeded": 3}), outcomes
    assert sum(Variant.objects.filter(product=product).values_list("stock", flat=True)) == 50


def test_download_limit_holds_under_concurrent_downloads() -> None:
    shop = shop_open()
    product = digital_product_make(shop)
    link = services.digital_download_link_issue(
        product=product, user=UserFactory(), ttl=600, max_downloads=3
    )
    outcomes = race(10, lambda i: services.digital_download_open(token=link.token))
    assert outcomes == Counter({"ok": 3, "download_limit_reached": 7}), outcomes
    assert DownloadGrant.objects.get(pk=link.grant_id).download_count == 3


def test_hold_release_and_reject_racing_decide_once() -> None:
    saved = list(PRECHECKS)
    precheck_register("race_check", lambda product: PrecheckHold("等待比对", check="race_check"))
    try:
        shop = shop_open()
        product = product_make(shop)
        services.product_submit(actor=shop.owner, product_id=product.pk)
        reviewer = reviewer_user()

        def work(i: int) -> object:
            if i % 3 == 0:
                return services.product_hold_release(product_id=product.pk, check="race_check")
            if i % 3 == 1:
                return services.product_hold_reject(
                    product_id=product.pk, check="race_check", reason="与已登记作品重复"
                )
            return services.product_review_approve(reviewer=reviewer, product_id=product.pk)

        outcomes = race(9, work)
        product.refresh_from_db()
        # Exactly one of the checking app's decisions lands; approvals before a release are
        # refused as held, and an approval after a release can list it.
        decisions = 6 - outcomes["product_not_held"]
        assert decisions == 1, outcomes
        assert product.hold_check == ""
        if product.status == "rejected":
            assert product.reject_reason == "与已登记作品重复"
        else:
            assert product.status in ("in_review", "listed")
        assert Product.objects.filter(pk=product.pk, status="listed").count() <= 1
    finally:
        PRECHECKS[:] = saved
