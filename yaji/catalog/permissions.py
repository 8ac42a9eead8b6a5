"""Who may do what with shops. Pure checks; selectors turn a "no" into "not found"."""

from __future__ import annotations

from typing import Any

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role, is_operator
from yaji.catalog.models import Shop, ShopMembership

MANAGING_ROLES = (ShopMembership.Role.OWNER, ShopMembership.Role.MANAGER)


def is_shop_reviewer(user: Any) -> bool:
    """Reviewers and operators decide shop applications (superusers hold every role)."""
    return has_role(user, Role.REVIEWER) or is_operator(user)


def shop_role_of(user: Any, shop: Shop) -> str | None:
    """The user's role in ``shop`` (owner / manager / staff), or None."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (
        ShopMembership.objects.filter(shop=shop, user=user).values_list("role", flat=True).first()
    )


def shop_can_manage(user: Any, shop: Shop) -> bool:
    """Owner and managers manage a shop (its staff, later its products)."""
    return shop_role_of(user, shop) in MANAGING_ROLES


def shop_can_manage_role(actor_role: str | None, member_role: str) -> bool:
    """Owners add and remove managers and staff; managers only staff; nobody the owner."""
    if member_role == ShopMembership.Role.OWNER:
        return False
    if actor_role == ShopMembership.Role.OWNER:
        return True
    return actor_role == ShopMembership.Role.MANAGER and member_role == ShopMembership.Role.STAFF
