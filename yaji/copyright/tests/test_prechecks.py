"""The listing pre-check: exact copies rejected, near-duplicates held for a reviewer, the
verdict carried to the catalog through the outbox."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.catalog import services as catalog
from yaji.catalog.models import Product
from yaji.catalog.tests.factories import shop_open
from yaji.copyright import services
from yaji.copyright.models import DuplicateCase
from yaji.copyright.tests.factories import creator, design_bytes, registered, reviewer
from yaji.core.outbox import outbox_relay_once

pytestmark = pytest.mark.django_db


def _listing(shop, image: bytes) -> Product:  # type: ignore[no-untyped-def]
    product = catalog.product_create(actor=shop.owner, shop=shop, title_zh="团扇", title_en="Fan")
    catalog.variant_upsert(
        actor=shop.owner, product_id=product.pk, sku="FAN-1", price_fen=9900, stock=3
    )
    catalog.product_image_add(
        actor=shop.owner,
        product_id=product.pk,
        upload=SimpleUploadedFile("fan.png", image, content_type="image/png"),
    )
    return catalog.product_submit(actor=shop.owner, product_id=product.pk)


def test_the_exact_file_of_a_registered_work_is_rejected_with_the_reason():
    registration = registered(creator(), seed=21)
    product = _listing(shop_open(), design_bytes(21))
    assert product.status == Product.Status.REJECTED
    assert registration.work.title in product.reject_reason
    assert not DuplicateCase.objects.exists()


def test_a_mirrored_copy_is_held_until_a_reviewer_upholds_it():
    registration = registered(creator(), seed=22)
    product = _listing(shop_open(), design_bytes(22, "mirrored"))
    assert product.status == Product.Status.IN_REVIEW and product.hold_check == "copyright"
    case = DuplicateCase.objects.get(product=product)
    assert case.matched == registration and case.product_image is not None

    services.duplicate_case_decide(
        reviewer=reviewer(), case_id=case.pk, infringing=True, reason="左右翻转的盗图"
    )
    product.refresh_from_db()
    assert product.status == Product.Status.IN_REVIEW  # the verdict travels through the outbox
    assert outbox_relay_once() >= 1
    product.refresh_from_db()
    assert product.status == Product.Status.REJECTED and "左右翻转的盗图" in product.reject_reason
    assert outbox_relay_once() == 0  # delivered once; a redelivery would be a no-op anyway
    assert services.listing_hold_settle(product_id=product.pk) == "not_held"


def test_a_cleared_case_releases_the_listing_to_normal_review(django_capture_on_commit_callbacks):
    registered(creator(), seed=23)
    product = _listing(shop_open(), design_bytes(23, "resized_50%"))
    case = DuplicateCase.objects.get(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        services.duplicate_case_decide(reviewer=reviewer(), case_id=case.pk, infringing=False)
    product.refresh_from_db()
    assert product.status == Product.Status.IN_REVIEW and product.hold_check == ""


def test_unrelated_pictures_and_the_authors_own_shop_pass():
    from yaji.accounts.models import Role, RoleAssignment
    from yaji.catalog.tests.factories import verified_user

    author = verified_user()
    RoleAssignment.objects.create(user=author, role=Role.CREATOR)
    registered(author, seed=24)
    assert _listing(shop_open(), design_bytes(25)).hold_check == ""
    own_shop = shop_open(owner=author)
    product = _listing(own_shop, design_bytes(24))
    assert product.status == Product.Status.IN_REVIEW and product.hold_check == ""


def test_deciding_twice_is_refused():
    registered(creator(), seed=26)
    product = _listing(shop_open(), design_bytes(26, "jpeg_q40"))
    case = DuplicateCase.objects.get(product=product)
    staff = reviewer()
    services.duplicate_case_decide(reviewer=staff, case_id=case.pk, infringing=False)
    from yaji.copyright.errors import CaseDecided

    with pytest.raises(CaseDecided):
        services.duplicate_case_decide(reviewer=staff, case_id=case.pk, infringing=True, reason="x")


def test_a_resubmitted_listing_is_judged_on_its_new_case_only():
    registered(creator(), seed=27)
    shop = shop_open()
    product = _listing(shop, design_bytes(27, "brighter_15%"))
    first = DuplicateCase.objects.get(product=product)
    staff = reviewer()
    services.duplicate_case_decide(reviewer=staff, case_id=first.pk, infringing=True, reason="相似")
    outbox_relay_once()
    product.refresh_from_db()
    assert product.status == Product.Status.REJECTED

    product = catalog.product_submit(actor=shop.owner, product_id=product.pk)  # tries again
    assert product.hold_check == "copyright"
    second = DuplicateCase.objects.exclude(pk=first.pk).get(product=product)
    services.duplicate_case_decide(reviewer=staff, case_id=second.pk, infringing=False)
    outbox_relay_once()
    product.refresh_from_db()
    assert product.status == Product.Status.IN_REVIEW and product.hold_check == ""
