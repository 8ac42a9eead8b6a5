"""The pre-check pipeline's third outcome: a check may hold a product in review until the app
that owns the check releases or rejects it (the copyright check's contract)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yaji.accounts.models import AuditEntry
from yaji.catalog import selectors, services
from yaji.catalog.errors import ProductHeld, ProductNotHeld, RejectReasonRequired
from yaji.catalog.models import Product
from yaji.catalog.prechecks import (
    PRECHECKS,
    PrecheckHold,
    precheck_register,
    precheck_run,
    precheck_unregister,
)
from yaji.catalog.tests.factories import product_make, reviewer_user, shop_open
from yaji.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline() -> Iterator[None]:
    saved = list(PRECHECKS)
    yield
    PRECHECKS[:] = saved


def _hold_when_title_has(word: str, *, check: str = ""):  # type: ignore[no-untyped-def]
    def check_fn(product):  # type: ignore[no-untyped-def]
        if word in product.title_zh:
            return PrecheckHold("与已上架作品高度相似，等待版权比对。", check=check)
        return None

    return check_fn


def test_hold_keeps_product_in_review_and_blocks_approval(pipeline) -> None:  # type: ignore[no-untyped-def]
    precheck_register("copyright", _hold_when_title_has("山水"))
    shop = shop_open()
    product = product_make(shop, title_zh="山水青花盘")
    plain = product_make(shop, title_zh="青瓷茶盏")
    held = services.product_submit(actor=shop.owner, product_id=product.pk)
    services.product_submit(actor=shop.owner, product_id=plain.pk)

    assert held.status == "in_review"
    assert held.hold_check == "copyright" and "版权" in held.hold_reason
    assert held.held_at is not None
    event = OutboxEvent.objects.get(topic="catalog.product_held")
    assert event.payload == {
        "product_id": product.pk,
        "shop_id": shop.pk,
        "check": "copyright",
        "reason": held.hold_reason,
    }
    assert AuditEntry.objects.filter(action="product_precheck_hold").count() == 1

    reviewer = reviewer_user()
    assert [p.pk for p in selectors.products_review_queue(reviewer=reviewer, held=True)] == [
        product.pk
    ]
    assert [p.pk for p in selectors.products_review_queue(reviewer=reviewer, held=False)] == [
        plain.pk
    ]
    with pytest.raises(ProductHeld) as exc_info:
        services.product_review_approve(reviewer=reviewer, product_id=product.pk)
    assert exc_info.value.code == "product_held"
    assert exc_info.value.extra["check"] == "copyright"
    assert Product.objects.get(pk=product.pk).status == "in_review"

    # The owning app releases the hold; then normal review continues.
    with pytest.raises(ProductNotHeld):
        services.product_hold_release(product_id=product.pk, check="another_check")
    released = services.product_hold_release(product_id=product.pk, check="copyright")
    assert released.status == "in_review" and released.hold_check == ""
    with pytest.raises(ProductNotHeld):  # a redelivered release says so, changes nothing
        services.product_hold_release(product_id=product.pk, check="copyright")
    listed = services.product_review_approve(reviewer=reviewer, product_id=product.pk)
    assert listed.status == "listed"


def test_hold_reject_rejects_with_reason_and_resubmit_clears(pipeline) -> None:  # type: ignore[no-untyped-def]
    precheck_register("copyright", _hold_when_title_has("山水"))
    shop = shop_open()
    product = product_make(shop, title_zh="山水青花盘")
    services.product_submit(actor=shop.owner, product_id=product.pk)
    with pytest.raises(RejectReasonRequired):
        services.product_hold_reject(product_id=product.pk, check="copyright", reason="  ")
    rejected = services.product_hold_reject(
        product_id=product.pk, check="copyright", reason="与作品 #12 构图一致，疑似抄袭。"
    )
    assert rejected.status == "rejected"
    assert rejected.reject_reason == "与作品 #12 构图一致，疑似抄袭。"
    assert rejected.hold_check == "" and rejected.hold_reason == ""
    with pytest.raises(ProductNotHeld):
        services.product_hold_reject(product_id=product.pk, check="copyright", reason="again")

    # Fixed and resubmitted without the trigger: no hold, ordinary review.
    services.product_update(actor=shop.owner, product_id=product.pk, title_zh="青花盘")
    again = services.product_submit(actor=shop.owner, product_id=product.pk)
    assert again.status == "in_review" and again.hold_check == "" and again.reject_reason == ""


def test_reviewer_may_reject_a_held_product(pipeline) -> None:  # type: ignore[no-untyped-def]
    precheck_register("copyright", _hold_when_title_has("山水"))
    shop = shop_open()
    product = product_make(shop, title_zh="山水青花盘")
    services.product_submit(actor=shop.owner, product_id=product.pk)
    rejected = services.product_review_reject(
        reviewer=reviewer_user(), product_id=product.pk, reason="图片模糊。"
    )
    assert rejected.status == "rejected" and rejected.hold_check == ""
    with pytest.raises(ProductNotHeld):
        services.product_hold_release(product_id=product.pk, check="copyright")


def test_rejection_wins_over_hold_and_first_hold_wins(pipeline, settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PROHIBITED_WORDS = ["高仿"]
    # Registered after prohibited words, yet the rejection decides even when the hold came first.
    precheck_unregister("prohibited_words")
    precheck_register("copyright", _hold_when_title_has("山水"))
    precheck_register("second", _hold_when_title_has("山水", check="second_hold"))
    from yaji.catalog.prechecks import prohibited_words_check

    precheck_register("prohibited_words", prohibited_words_check)
    shop = shop_open()
    bad = product_make(shop, title_zh="高仿山水盘")
    outcome = precheck_run(bad)
    assert outcome.verdict == "reject" and outcome.check == "prohibited_words"
    rejected = services.product_submit(actor=shop.owner, product_id=bad.pk)
    assert rejected.status == "rejected" and rejected.hold_check == ""
    assert not OutboxEvent.objects.filter(topic="catalog.product_held").exists()

    good = product_make(shop, title_zh="山水盘")
    assert precheck_run(good).check == "copyright"
    # ``check=`` given by the hold itself names the holder.
    precheck_unregister("copyright")
    assert precheck_run(good).check == "second_hold"


def test_string_result_still_rejects_and_bad_result_type_raises(pipeline) -> None:  # type: ignore[no-untyped-def]
    precheck_register("legacy", lambda product: "标题不合规。")
    shop = shop_open()
    product = product_make(shop)
    rejected = services.product_submit(actor=shop.owner, product_id=product.pk)
    assert rejected.status == "rejected" and rejected.reject_reason == "标题不合规。"

    precheck_register("legacy", lambda product: 42)
    services.product_update(actor=shop.owner, product_id=product.pk, title_zh="新标题")
    with pytest.raises(TypeError):
        services.product_submit(actor=shop.owner, product_id=product.pk)
    # The failed submission changed nothing.
    assert Product.objects.get(pk=product.pk).status == "rejected"
    with pytest.raises(ValueError):
        precheck_register("", lambda product: None)


def test_hold_services_on_unknown_product() -> None:
    from yaji.catalog.errors import NotFound

    with pytest.raises(NotFound):
        services.product_hold_release(product_id=999_999, check="copyright")
    with pytest.raises(NotFound):
        services.product_hold_reject(product_id=0, check="copyright", reason="x")


def test_hold_only_in_review_is_a_database_rule() -> None:
    from django.db import IntegrityError, transaction

    shop = shop_open()
    product = product_make(shop)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(hold_check="copyright")


def test_held_product_in_api_and_pages(pipeline) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    from yaji.catalog.tests.test_api import Api

    precheck_register("copyright", _hold_when_title_has("山水"))
    shop = shop_open()
    product = product_make(shop, title_zh="山水青花盘")
    plain = product_make(shop, title_zh="青瓷茶盏")
    owner = Api(shop.owner)
    submitted = owner.post_json(f"/products/{product.pk}/submit").json()
    assert submitted["status"] == "in_review" and submitted["hold_check"] == "copyright"
    assert "版权" in submitted["hold_reason"]
    owner.post_json(f"/products/{plain.pk}/submit")

    reviewer_account = reviewer_user()
    reviewer = Api(reviewer_account)
    assert [p["id"] for p in reviewer.get("/review/products?held=true").json()] == [product.pk]
    assert [p["id"] for p in reviewer.get("/review/products?held=false").json()] == [plain.pk]
    assert len(reviewer.get("/review/products").json()) == 2
    approve = reviewer.post_json(f"/review/products/{product.pk}/approve")
    assert approve.status_code == 409 and approve.json()["code"] == "product_held"

    page = Client()
    page.force_login(reviewer_account)
    queue = page.get("/review/products/").content.decode()
    held_part = queue[queue.index('data-testid="held-queue"') :]
    assert "山水青花盘" in held_part and "青瓷茶盏" not in held_part
    decide = page.get(f"/review/products/{product.pk}/").content.decode()
    assert 'data-testid="held-notice"' in decide and 'value="approve"' not in decide
    posted = page.post(f"/review/products/{product.pk}/", {"decision": "approve"})
    assert posted.status_code == 200
    assert Product.objects.get(pk=product.pk).status == "in_review"

    services.product_hold_release(product_id=product.pk, check="copyright")
    assert reviewer.post_json(f"/review/products/{product.pk}/approve").status_code == 200
