"""Roles: who may grant them, scopes, audit, checks."""

from __future__ import annotations

import pytest

from yaji.accounts import services
from yaji.accounts.errors import InvalidRole, InvalidScope, NotFound, PermissionDenied
from yaji.accounts.models import AuditEntry, Role, RoleAssignment
from yaji.accounts.permissions import has_role, require_role
from yaji.accounts.tests.factories import UserFactory, operator

pytestmark = pytest.mark.django_db


class TestRoleGrant:
    def test_operator_grants_scoped_merchant_staff(self) -> None:
        actor, staff = operator(), UserFactory()
        assignment = services.role_grant(
            actor=actor, user=staff, role="merchant_staff", scope="shop:12"
        )
        assert assignment.granted_by == actor
        assert has_role(staff, Role.MERCHANT_STAFF, "shop:12")
        assert not has_role(staff, Role.MERCHANT_STAFF, "shop:13")
        assert not has_role(staff, Role.MERCHANT_STAFF)
        entry = AuditEntry.objects.get(action="role_grant")
        assert entry.actor == actor and entry.target_user == staff
        assert entry.metadata == {"role": "merchant_staff", "scope": "shop:12"}

    def test_granting_twice_is_idempotent(self) -> None:
        actor, user = operator(), UserFactory()
        a = services.role_grant(actor=actor, user=user, role="creator")
        b = services.role_grant(actor=actor, user=user, role="creator")
        assert a.pk == b.pk and RoleAssignment.objects.filter(user=user).count() == 1
        assert AuditEntry.objects.filter(action="role_grant").count() == 1

    def test_only_operators_and_superusers_grant(self) -> None:
        nobody, user = UserFactory(), UserFactory()
        with pytest.raises(PermissionDenied):
            services.role_grant(actor=nobody, user=user, role="creator")
        root = UserFactory(is_superuser=True)
        services.role_grant(actor=root, user=user, role="finance")
        assert has_role(user, "finance")

    def test_operators_cannot_make_operators(self) -> None:
        with pytest.raises(PermissionDenied):
            services.role_grant(actor=operator(), user=UserFactory(), role="operator")
        services.role_grant(
            actor=UserFactory(is_superuser=True), user=UserFactory(), role="operator"
        )

    @pytest.mark.parametrize(
        "role, scope, error",
        [
            ("wizard", "", InvalidRole),
            ("merchant_staff", "", InvalidScope),
            ("merchant_staff", "shop:abc", InvalidScope),
            ("creator", "shop:1", InvalidScope),
        ],
    )
    def test_bad_role_or_scope(self, role: str, scope: str, error: type) -> None:
        with pytest.raises(error):
            services.role_grant(actor=operator(), user=UserFactory(), role=role, scope=scope)

    def test_revoke(self) -> None:
        actor, user = operator(), UserFactory()
        assignment = services.role_grant(actor=actor, user=user, role="reviewer")
        with pytest.raises(PermissionDenied):
            services.role_revoke(actor=user, assignment_id=assignment.pk)
        services.role_revoke(actor=actor, assignment_id=assignment.pk)
        assert not has_role(user, "reviewer")
        assert AuditEntry.objects.filter(action="role_revoke").exists()
        with pytest.raises(NotFound):
            services.role_revoke(actor=actor, assignment_id=assignment.pk)


class TestChecks:
    def test_require_role(self) -> None:
        user = UserFactory()
        with pytest.raises(PermissionDenied) as err:
            require_role(user, "finance")
        assert err.value.status == 403 and err.value.extra["required_role"] == "finance"
        require_role(UserFactory(is_superuser=True), "finance")

    def test_inactive_users_hold_no_roles(self) -> None:
        user = operator()
        user.is_active = False
        assert not has_role(user, "operator")


@pytest.mark.django_db
def test_scoped_role_grant_lets_an_app_delegate_only_scoped_roles():
    owner, colleague = UserFactory(), UserFactory()
    # given a shop owner who is not an operator, when the catalog grants a shop-scoped role
    assignment = services.scoped_role_grant(
        actor=owner,
        user=colleague,
        role=Role.MERCHANT_STAFF,
        scope="shop:7",
        authorized_by="catalog",
    )
    assert assignment.granted_by == owner
    audit = AuditEntry.objects.get(target_id=str(assignment.pk), action="role_grant")
    assert audit.metadata["via"] == "catalog"

    # a platform role can never be handed out this way
    with pytest.raises(InvalidRole):
        services.scoped_role_grant(
            actor=owner, user=colleague, role=Role.OPERATOR, scope="", authorized_by="catalog"
        )

    services.scoped_role_revoke(
        actor=owner,
        user=colleague,
        role=Role.MERCHANT_STAFF,
        scope="shop:7",
        authorized_by="catalog",
    )
    assert not RoleAssignment.objects.filter(user=colleague).exists()
