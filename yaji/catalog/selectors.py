"""Reads of shops, applications and creator profiles. Object rules live here: what a user may
not see is "not found", never a hint that it exists."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import has_role
from yaji.catalog.errors import NotFound, PermissionDenied, ValidationFailed
from yaji.catalog.models import (
    SLUG_RE,
    CreatorProfile,
    Shop,
    ShopApplication,
    ShopDocument,
    ShopMembership,
)
from yaji.catalog.permissions import is_shop_reviewer, shop_can_manage

PAGE_MAX = 100
MAX_ID = 2**63 - 1


# --- shops --------------------------------------------------------------------------------------


def shop_get_public(*, slug: str) -> Shop:
    if not SLUG_RE.match(slug):
        raise NotFound()  # not even a possible address (and never a NUL sent to the database)
    shop = Shop.objects.select_related("owner").filter(slug=slug, status=Shop.Status.ACTIVE).first()
    if shop is None:
        raise NotFound()
    return shop


def shop_get_managed(*, user: Any, slug: str) -> Shop:
    """A shop the user manages; anyone else's shop is "not found"."""
    shop = Shop.objects.select_related("owner").filter(slug=slug).first()
    if shop is None or not shop_can_manage(user, shop):
        raise NotFound()
    return shop


def shop_members(*, shop: Shop) -> QuerySet[ShopMembership]:
    return (
        ShopMembership.objects.filter(shop=shop).select_related("user").order_by("created_at", "id")
    )


def shops_of_user(*, user: Any) -> QuerySet[ShopMembership]:
    """The user's memberships, with their shops: "my shops"."""
    if not getattr(user, "is_authenticated", False):
        return ShopMembership.objects.none()
    return ShopMembership.objects.filter(user=user).select_related("shop").order_by("shop__id")


@dataclass(frozen=True)
class ShopPage:
    items: list[Shop]
    next_cursor: str | None


def _cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"s{last_id}".encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s") or not raw[1:].isdigit():
            raise ValueError(raw)
        last_id = int(raw[1:])
        if not 0 < last_id <= MAX_ID:
            raise ValueError(raw)
        return last_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(code="invalid_cursor", extra={"cursor": cursor}) from exc


def shops_active(
    *, cursor: str | None = None, limit: int = 20, shop_type: str | None = None
) -> ShopPage:
    """Active shops, newest first, by an opaque cursor (stable while shops are added)."""
    limit = max(1, min(limit, PAGE_MAX))
    qs = Shop.objects.select_related("owner").filter(status=Shop.Status.ACTIVE)
    if shop_type:
        qs = qs.filter(shop_type=shop_type)
    if cursor:
        qs = qs.filter(id__lt=_cursor_decode(cursor))
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    items = rows[:limit]
    return ShopPage(items=items, next_cursor=_cursor_encode(items[-1].pk) if more else None)


# --- applications -------------------------------------------------------------------------------


def _with_documents(qs: QuerySet[ShopApplication]) -> QuerySet[ShopApplication]:
    return qs.prefetch_related(Prefetch("documents", queryset=ShopDocument.objects.order_by("id")))


def applications_mine(*, user: Any) -> QuerySet[ShopApplication]:
    """The user's applications, newest first (the first one is the current state)."""
    return _with_documents(
        ShopApplication.objects.filter(applicant=user).select_related("shop")
    ).order_by("-created_at", "-id")


def application_latest(*, user: Any) -> ShopApplication | None:
    return applications_mine(user=user).first()


def reviewer_require(user: Any) -> None:
    if not is_shop_reviewer(user):
        raise PermissionDenied(extra={"required_role": Role.REVIEWER})


def applications_queue(*, reviewer: Any, limit: int = 100) -> list[ShopApplication]:
    """Submitted applications, oldest first: the review queue."""
    reviewer_require(reviewer)
    qs = ShopApplication.objects.filter(status=ShopApplication.Status.SUBMITTED)
    return list(
        _with_documents(qs.select_related("applicant")).order_by("created_at", "id")[
            : max(1, min(limit, 500))
        ]
    )


def application_get_for_review(*, reviewer: Any, application_id: int) -> ShopApplication:
    reviewer_require(reviewer)
    application = (
        _with_documents(ShopApplication.objects.select_related("applicant", "reviewed_by", "shop"))
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    return application


def document_get_for_download(*, user: Any, document_id: int) -> ShopDocument:
    """A qualification document for its applicant or a reviewer; for anyone else, not found."""
    document = ShopDocument.objects.select_related("application").filter(pk=document_id).first()
    if document is None or not getattr(user, "is_authenticated", False):
        raise NotFound()
    if document.application.applicant_id != user.pk and not is_shop_reviewer(user):
        raise NotFound()
    return document


# --- creators -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatorCard:
    user: User
    bio: str
    bio_en: str
    shops: list[Shop]


def creator_profile_get(*, user: User) -> CreatorProfile | None:
    return CreatorProfile.objects.filter(user=user).first()


def creator_get(*, user_id: int) -> CreatorCard:
    """A creator's public card: people with the creator role or an active shop of their own."""
    user = (
        User.objects.filter(pk=user_id, is_active=True, deleted_at__isnull=True)
        .select_related("creator_profile")
        .first()
    )
    if user is None:
        raise NotFound()
    shops = list(Shop.objects.filter(owner=user, status=Shop.Status.ACTIVE).order_by("id"))
    if not shops and not has_role(user, Role.CREATOR):
        raise NotFound()
    profile = getattr(user, "creator_profile", None)
    return CreatorCard(
        user=user,
        bio=profile.bio if profile else "",
        bio_en=profile.bio_en if profile else "",
        shops=shops,
    )


def slug_is_free(*, slug: str, exclude_application_id: int | None = None) -> bool:
    taken_by_shop = Shop.objects.filter(slug=slug).exists()
    open_claim = ShopApplication.objects.filter(
        Q(slug=slug), status=ShopApplication.Status.SUBMITTED
    )
    if exclude_application_id is not None:
        open_claim = open_claim.exclude(pk=exclude_application_id)
    return not taken_by_shop and not open_claim.exists()
