"""Role checks. Object ownership is enforced in selectors; this is about what a role may do."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.accounts.errors import PermissionDenied
from yaji.accounts.models import Role, RoleAssignment


def has_role(user, role: str, scope: str = "") -> bool:  # type: ignore[no-untyped-def]
    """Does ``user`` hold ``role`` in ``scope`` ("" = platform-wide, "shop:12" = one shop)?

    Superusers hold every role; anonymous and deleted users hold none.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return RoleAssignment.objects.filter(user=user, role=role, scope=scope).exists()


def require_role(user, role: str, scope: str = "") -> None:  # type: ignore[no-untyped-def]
    """Raise ``permission_denied`` (403) unless ``user`` holds ``role`` in ``scope``."""
    if not has_role(user, role, scope):
        raise PermissionDenied(_("您没有权限执行此操作。"), extra={"required_role": role})


def is_operator(user) -> bool:  # type: ignore[no-untyped-def]
    return has_role(user, Role.OPERATOR)
