"""Shop onboarding: apply → review → the shop opens (or the applicant learns why not)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yaji.accounts.models import AuditEntry, Role
from yaji.accounts.permissions import has_role
from yaji.catalog import selectors, services
from yaji.catalog.errors import (
    ApplicationAlreadyOpen,
    ApplicationNotOpen,
    DocumentRequired,
    InvalidShopType,
    InvalidSlug,
    KycRequired,
    PermissionDenied,
    RejectReasonRequired,
    ShopSlugTaken,
)
from yaji.catalog.models import Shop, ShopApplication, ShopMembership
from yaji.catalog.tests.factories import (
    UserFactory,
    application_submit,
    reviewer_user,
    shop_open,
    verified_user,
)
from yaji.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_apply_then_approve_opens_a_public_shop(client) -> None:  # type: ignore[no-untyped-def]
    # Given a verified creator's application
    applicant = verified_user(display_name="林婉清")
    reviewer = reviewer_user()
    application = application_submit(applicant, slug="lin-embroidery", name_zh="婉清苏绣")
    assert application.status == ShopApplication.Status.SUBMITTED
    assert application.documents.count() == 1
    assert client.get("/shops/lin-embroidery/").status_code == 404  # nothing public yet

    # When a reviewer approves it
    shop = services.shop_application_approve(reviewer=reviewer, application_id=application.pk)

    # Then the shop is active, owned, staffed in accounts, audited and announced
    application.refresh_from_db()
    assert application.status == ShopApplication.Status.APPROVED
    assert application.shop == shop and application.reviewed_by == reviewer
    assert shop.status == Shop.Status.ACTIVE and shop.owner == applicant
    assert ShopMembership.objects.get(shop=shop, user=applicant).role == "owner"
    assert has_role(applicant, Role.MERCHANT_STAFF, f"shop:{shop.pk}")
    assert not has_role(applicant, Role.MERCHANT_STAFF, f"shop:{shop.pk + 1}")
    actions = set(AuditEntry.objects.filter(target_user=applicant).values_list("action", flat=True))
    assert {"shop_apply", "shop_approve", "role_grant"} <= actions
    event = OutboxEvent.objects.get(topic="catalog.shop_approved")
    assert event.payload["shop_id"] == shop.pk and event.payload["applicant_id"] == applicant.pk

    page = client.get("/shops/lin-embroidery/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "婉清苏绣" in html and "非遗工坊" in html and "林婉清" in html
    assert "一针一线，皆是光阴。" in html
    assert f"/creators/{applicant.pk}/" in html


def test_reject_with_reason_then_resubmit() -> None:
    applicant = verified_user()
    reviewer = reviewer_user()
    first = application_submit(applicant, slug="yunwen")

    with pytest.raises(RejectReasonRequired):
        services.shop_application_reject(reviewer=reviewer, application_id=first.pk, reason="  ")
    rejected = services.shop_application_reject(
        reviewer=reviewer, application_id=first.pk, reason="营业执照模糊，请重新上传清晰扫描件。"
    )
    assert rejected.status == ShopApplication.Status.REJECTED
    assert selectors.application_latest(user=applicant).reject_reason.startswith("营业执照模糊")
    assert not Shop.objects.exists()
    with pytest.raises(ApplicationNotOpen):
        services.shop_application_approve(reviewer=reviewer, application_id=first.pk)

    # The applicant may apply again, even for the same address.
    second = application_submit(applicant, slug="yunwen")
    assert second.pk != first.pk and second.status == ShopApplication.Status.SUBMITTED
    shop = services.shop_application_approve(reviewer=reviewer, application_id=second.pk)
    assert shop.slug == "yunwen"
    assert [a.status for a in selectors.applications_mine(user=applicant)] == [
        "approved",
        "rejected",
    ]


def test_kyc_is_required() -> None:
    unverified = UserFactory()
    with pytest.raises(KycRequired) as caught:
        application_submit(unverified)
    assert caught.value.code == "kyc_required"
    assert not ShopApplication.objects.exists()


def test_one_open_application_per_user() -> None:
    applicant = verified_user()
    application_submit(applicant)
    with pytest.raises(ApplicationAlreadyOpen):
        application_submit(applicant)
    assert ShopApplication.objects.filter(applicant=applicant).count() == 1


def test_the_database_holds_one_open_application_too() -> None:
    # The constraint is the last line of defence when two requests race past the check.
    applicant = verified_user()
    first = application_submit(applicant)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShopApplication.objects.create(
            applicant=applicant, name_zh="x", slug="other-slug", shop_type="brand"
        )
    assert first.pk


@pytest.mark.parametrize(
    "slug",
    ["ab", "-ink", "ink-", "ink--silk", "Ink Silk", "墨香", "apply", "mine", "documents", "x" * 41],
)
def test_bad_slugs_are_refused(slug: str) -> None:
    with pytest.raises(InvalidSlug):
        application_submit(verified_user(), slug=slug)


def test_slugs_are_unique_across_shops_and_open_applications() -> None:
    shop_open(slug="jiangnan")
    with pytest.raises(ShopSlugTaken):
        application_submit(verified_user(), slug="jiangnan")
    application_submit(verified_user(), slug="pending-one")
    with pytest.raises(ShopSlugTaken) as caught:
        application_submit(verified_user(), slug="Pending-One")  # case-folded
    assert caught.value.code == "shop_slug_taken"


def test_other_input_errors() -> None:
    applicant = verified_user()
    with pytest.raises(InvalidShopType):
        application_submit(applicant, shop_type="casino")
    with pytest.raises(DocumentRequired):
        application_submit(applicant, documents=[])
    assert not ShopApplication.objects.exists()


def test_only_reviewers_decide() -> None:
    application = application_submit(verified_user())
    stranger = verified_user()
    with pytest.raises(PermissionDenied):
        services.shop_application_approve(reviewer=stranger, application_id=application.pk)
    with pytest.raises(PermissionDenied):
        services.shop_application_reject(
            reviewer=stranger, application_id=application.pk, reason="no"
        )
    with pytest.raises(PermissionDenied):
        selectors.applications_queue(reviewer=stranger)
    application.refresh_from_db()
    assert application.status == "submitted"


def test_operators_review_too() -> None:
    operator = UserFactory()
    from yaji.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=operator, role=Role.OPERATOR)
    application = application_submit(verified_user())
    assert services.shop_application_approve(reviewer=operator, application_id=application.pk)


def test_review_queue_is_oldest_first() -> None:
    reviewer = reviewer_user()
    first = application_submit(verified_user())
    second = application_submit(verified_user())
    decided = application_submit(verified_user())
    services.shop_application_approve(reviewer=reviewer, application_id=decided.pk)
    assert [a.pk for a in selectors.applications_queue(reviewer=reviewer)] == [first.pk, second.pk]


def test_creator_page_shows_bio_and_shops(client) -> None:  # type: ignore[no-untyped-def]
    owner = verified_user(display_name="顾山河")
    services.creator_profile_update(user=owner, bio="景泰蓝三十年。\n只做一件事。")
    shop_open(owner=owner, slug="gu-cloisonne", name_zh="山河珐琅")
    page = client.get(f"/creators/{owner.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "顾山河" in html and "山河珐琅" in html and "只做一件事。" in html
    # Someone who is neither a creator nor a shop owner has no public page.
    assert client.get(f"/creators/{UserFactory().pk}/").status_code == 404
