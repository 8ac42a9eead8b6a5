"""Shop staff: memberships in the catalog, mirrored as merchant_staff roles in accounts."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.models import AuditEntry, Role, RoleAssignment
from yaji.accounts.permissions import has_role
from yaji.catalog import services
from yaji.catalog.errors import (
    MemberAlreadyAdded,
    MemberNotFound,
    NotFound,
    OwnerCannotBeRemoved,
    ValidationFailed,
)
from yaji.catalog.models import ShopMembership
from yaji.catalog.permissions import shop_can_manage
from yaji.catalog.tests.factories import UserFactory, shop_open, verified_user

pytestmark = pytest.mark.django_db


def _staff_scopes(user) -> set[str]:  # type: ignore[no-untyped-def]
    return set(
        RoleAssignment.objects.filter(user=user, role=Role.MERCHANT_STAFF).values_list(
            "scope", flat=True
        )
    )


def test_add_and_remove_keep_roles_in_sync() -> None:
    owner = verified_user()
    shop = shop_open(owner=owner)
    colleague = UserFactory(email="xiaoqing@example.com", phone="13912345678")

    # Added by e-mail, then found again by phone: both identify the same person.
    membership = services.shop_member_add(actor=owner, shop=shop, identifier="XiaoQing@Example.com")
    assert membership.role == "staff" and membership.user == colleague
    assert has_role(colleague, Role.MERCHANT_STAFF, shop.role_scope)
    with pytest.raises(MemberAlreadyAdded):
        services.shop_member_add(actor=owner, shop=shop, identifier="13912345678")

    services.shop_member_remove(actor=owner, shop=shop, membership_id=membership.pk)
    assert not ShopMembership.objects.filter(pk=membership.pk).exists()
    assert not has_role(colleague, Role.MERCHANT_STAFF, shop.role_scope)
    actions = list(
        AuditEntry.objects.filter(target_user=colleague).values_list("action", flat=True)
    )
    assert sorted(actions) == ["role_grant", "role_revoke", "shop_staff_add", "shop_staff_remove"]


def test_roles_follow_memberships_across_shops() -> None:
    owner = verified_user()
    first, second = shop_open(owner=owner), shop_open(owner=owner)
    colleague = UserFactory()
    a = services.shop_member_add(actor=owner, shop=first, identifier=colleague.email)
    services.shop_member_add(actor=owner, shop=second, identifier=colleague.email)
    assert _staff_scopes(colleague) == {first.role_scope, second.role_scope}
    services.shop_member_remove(actor=owner, shop=first, membership_id=a.pk)
    assert _staff_scopes(colleague) == {second.role_scope}
    # Every membership has its role and every role its membership.
    for membership in ShopMembership.objects.all():
        assert has_role(membership.user, Role.MERCHANT_STAFF, membership.shop.role_scope)


def test_who_may_manage_whom() -> None:
    owner = verified_user()
    shop = shop_open(owner=owner)
    manager_user, staff_user, other = UserFactory(), UserFactory(), UserFactory()
    manager = services.shop_member_add(
        actor=owner, shop=shop, identifier=manager_user.email, role="manager"
    )
    assert shop_can_manage(manager_user, shop) and shop_can_manage(owner, shop)

    # A manager adds and removes staff, but not managers, and never the owner.
    staff = services.shop_member_add(actor=manager_user, shop=shop, identifier=staff_user.email)
    assert not shop_can_manage(staff_user, shop)
    with pytest.raises(ValidationFailed) as caught:
        services.shop_member_add(
            actor=manager_user, shop=shop, identifier=other.email, role="manager"
        )
    assert caught.value.code == "invalid_shop_role"
    with pytest.raises(NotFound):
        services.shop_member_remove(actor=manager_user, shop=shop, membership_id=manager.pk)
    owner_membership = ShopMembership.objects.get(shop=shop, role="owner")
    with pytest.raises(OwnerCannotBeRemoved):
        services.shop_member_remove(actor=owner, shop=shop, membership_id=owner_membership.pk)

    # Staff and strangers manage nothing.
    with pytest.raises(NotFound):
        services.shop_member_add(actor=staff_user, shop=shop, identifier=other.email)
    with pytest.raises(NotFound):
        services.shop_member_remove(actor=other, shop=shop, membership_id=staff.pk)
    services.shop_member_remove(actor=manager_user, shop=shop, membership_id=staff.pk)
    assert not has_role(staff_user, Role.MERCHANT_STAFF, shop.role_scope)


def test_unknown_people_cannot_be_added() -> None:
    owner = verified_user()
    shop = shop_open(owner=owner)
    for identifier in ("nobody@example.com", "13800000000", "not an identifier"):
        with pytest.raises(MemberNotFound):
            services.shop_member_add(actor=owner, shop=shop, identifier=identifier)


def test_staff_page_is_the_owners_and_404_for_anyone_else() -> None:
    owner = verified_user()
    shop = shop_open(owner=owner, slug="yunwen-studio")
    colleague = UserFactory(email="a.duo@example.com")
    client = Client()
    client.force_login(owner)

    page = client.get("/shops/yunwen-studio/staff/")
    assert page.status_code == 200 and "添加成员" in page.content.decode()
    added = client.post(
        "/shops/yunwen-studio/staff/", {"identifier": "a.duo@example.com", "role": "staff"}
    )
    assert added.status_code == 302
    membership = ShopMembership.objects.get(shop=shop, user=colleague)
    missing = client.post(
        "/shops/yunwen-studio/staff/", {"identifier": "ghost@example.com", "role": "staff"}
    )
    assert missing.status_code == 200 and "找不到该用户" in missing.content.decode()

    stranger = Client()
    stranger.force_login(verified_user())
    assert stranger.get("/shops/yunwen-studio/staff/").status_code == 404
    remove_url = f"/shops/yunwen-studio/staff/{membership.pk}/remove/"
    assert stranger.post(remove_url).status_code == 404
    assert ShopMembership.objects.filter(pk=membership.pk).exists()
    colleague_client = Client()
    colleague_client.force_login(colleague)  # staff, not a manager
    assert colleague_client.get("/shops/yunwen-studio/staff/").status_code == 404

    removed = client.post(remove_url, headers={"HX-Request": "true"})
    assert removed.status_code == 200 and removed.content == b""
    assert not has_role(colleague, Role.MERCHANT_STAFF, shop.role_scope)
