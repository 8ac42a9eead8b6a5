"""Shop memberships mirrored into accounts roles: every member of shop N holds
``merchant_staff`` in scope ``shop:N``, so other apps can check shop access with
``yaji.accounts.permissions.has_role`` alone.

The catalog authorises these grants under its own rules (a reviewer approved the shop, the
owner added a colleague), so it uses the accounts service for delegated, scoped grants.
"""

from __future__ import annotations

from yaji.accounts.models import Role, User
from yaji.accounts.services import scoped_role_grant, scoped_role_revoke


def staff_role_grant(*, actor: User, user: User, scope: str, ip: str | None = None) -> None:
    scoped_role_grant(
        actor=actor,
        user=user,
        role=Role.MERCHANT_STAFF,
        scope=scope,
        authorized_by="catalog",
        ip=ip,
    )


def staff_role_revoke(*, actor: User, user: User, scope: str, ip: str | None = None) -> None:
    scoped_role_revoke(
        actor=actor,
        user=user,
        role=Role.MERCHANT_STAFF,
        scope=scope,
        authorized_by="catalog",
        ip=ip,
    )
