"""Catalog services: every write to shops, their onboarding and staff goes through here.

Public signatures (keyword-only; failures raise ``yaji.catalog.errors`` with stable codes)::

    shop_application_submit(*, applicant, name_zh, slug, shop_type, documents, name_en="",
                            story_zh="", story_en="", region="", logo=None, ip=None)
        -> ShopApplication
    shop_application_approve(*, reviewer, application_id, ip=None) -> Shop
    shop_application_reject(*, reviewer, application_id, reason, ip=None) -> ShopApplication
    shop_member_add(*, actor, shop, identifier, role="staff", ip=None) -> ShopMembership
    shop_member_remove(*, actor, shop, membership_id, ip=None) -> None
    creator_profile_update(*, user, bio, bio_en="") -> CreatorProfile

Events (transactional outbox): ``catalog.shop_application_submitted``,
``catalog.shop_approved`` and ``catalog.shop_application_rejected``, each ``{"application_id",
"applicant_id", ...}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from yaji.accounts.models import User
from yaji.accounts.selectors import kyc_status, user_by_identifier
from yaji.accounts.services import audit_entry_record
from yaji.catalog import selectors
from yaji.catalog.errors import (
    ApplicationAlreadyOpen,
    ApplicationNotOpen,
    DocumentRequired,
    InvalidShopType,
    InvalidSlug,
    KycRequired,
    MemberAlreadyAdded,
    MemberNotFound,
    NotFound,
    OwnerCannotBeRemoved,
    RejectReasonRequired,
    ShopSlugTaken,
    TooManyDocuments,
    ValidationFailed,
)
from yaji.catalog.models import (
    SLUG_RE,
    CreatorProfile,
    Shop,
    ShopApplication,
    ShopDocument,
    ShopMembership,
    ShopType,
)
from yaji.catalog.permissions import MANAGING_ROLES, shop_can_manage_role, shop_role_of
from yaji.catalog.staff_roles import staff_role_grant, staff_role_revoke
from yaji.catalog.uploads import (
    DOCUMENTS_MAX,
    CheckedUpload,
    document_check,
    logo_check,
    private_storage,
    stored_name,
)
from yaji.core import clock
from yaji.core.outbox import outbox_publish

# Paths under /shops/ that a slug must never shadow.
RESERVED_SLUGS = frozenset(
    {
        "apply",
        "mine",
        "new",
        "manage",
        "review",
        "documents",
        "admin",
        "api",
        "static",
        "media",
        "yaji",
    }
)


def _slug_clean(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or "--" in slug or slug in RESERVED_SLUGS:
        raise InvalidSlug(extra={"slug": slug})
    return slug


def _required_text(value: str, *, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(code="field_required", extra={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(code="field_too_long", extra={"field": field, "max": max_length})
    return value


def _optional_text(value: str, *, field: str, max_length: int) -> str:
    # Plain text: line breaks kept (normalised), rendered escaped with |linebreaks.
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) > max_length:
        raise ValidationFailed(code="field_too_long", extra={"field": field, "max": max_length})
    return value


def _save_all(storage: Storage, items: list[tuple[str, CheckedUpload]], saved: list[str]) -> None:
    for prefix, checked in items:
        saved.append(
            storage.save(stored_name(prefix=prefix, sniffed=checked.sniffed), checked.upload)
        )


# --- onboarding ---------------------------------------------------------------------------------


def shop_application_submit(
    *,
    applicant: User,
    name_zh: str,
    slug: str,
    shop_type: str,
    documents: Sequence[UploadedFile],
    name_en: str = "",
    story_zh: str = "",
    story_en: str = "",
    region: str = "",
    logo: UploadedFile | None = None,
    ip: str | None = None,
) -> ShopApplication:
    """Apply for a shop (real-name verified users; one open application at a time).

    Files are judged by their bytes, saved under random names, and deleted again if the
    application is not stored, so a failure leaves nothing behind.
    """
    if kyc_status(user=applicant).status != "verified":
        raise KycRequired()
    name_zh = _required_text(name_zh, field="name_zh", max_length=60)
    name_en = _optional_text(name_en, field="name_en", max_length=80)
    slug = _slug_clean(slug)
    if shop_type not in ShopType.values:
        raise InvalidShopType(extra={"shop_type": shop_type, "allowed": list(ShopType.values)})
    story_zh = _optional_text(story_zh, field="story_zh", max_length=4000)
    story_en = _optional_text(story_en, field="story_en", max_length=4000)
    region = _optional_text(region, field="region", max_length=60)
    if not documents:
        raise DocumentRequired()
    if len(documents) > DOCUMENTS_MAX:
        raise TooManyDocuments(extra={"max": DOCUMENTS_MAX})
    checked_documents = [document_check(upload) for upload in documents]
    checked_logo = logo_check(logo) if logo is not None else None

    if ShopApplication.objects.filter(
        applicant=applicant, status=ShopApplication.Status.SUBMITTED
    ).exists():
        raise ApplicationAlreadyOpen()
    if not selectors.slug_is_free(slug=slug):
        raise ShopSlugTaken(extra={"slug": slug})

    saved_private: list[str] = []
    saved_public: list[str] = []
    try:
        with transaction.atomic(durable=True):
            if checked_logo is not None:
                _save_all(default_storage, [("shops/logos", checked_logo)], saved_public)
            _save_all(
                private_storage,
                [("shops/documents", checked) for checked in checked_documents],
                saved_private,
            )
            try:
                with transaction.atomic():
                    application = ShopApplication.objects.create(
                        applicant=applicant,
                        name_zh=name_zh,
                        name_en=name_en,
                        slug=slug,
                        shop_type=shop_type,
                        story_zh=story_zh,
                        story_en=story_en,
                        region=region,
                        logo=saved_public[0] if saved_public else "",
                    )
            except IntegrityError as exc:
                # A concurrent request won the race the checks above could not close.
                if ShopApplication.objects.filter(
                    applicant=applicant, status=ShopApplication.Status.SUBMITTED
                ).exists():
                    raise ApplicationAlreadyOpen() from exc
                raise ShopSlugTaken(extra={"slug": slug}) from exc
            ShopDocument.objects.bulk_create(
                ShopDocument(
                    application=application,
                    file=name,
                    original_name=checked.original_name,
                    content_type=checked.sniffed.content_type,
                    size=checked.size,
                    sha256=checked.sha256,
                )
                for name, checked in zip(saved_private, checked_documents, strict=True)
            )
            audit_entry_record(
                action="shop_apply",
                actor=applicant,
                target_user=applicant,
                target_type="shop_application",
                target_id=application.pk,
                ip=ip,
                metadata={"slug": slug, "shop_type": shop_type, "documents": len(saved_private)},
            )
            outbox_publish(
                topic="catalog.shop_application_submitted",
                payload={"application_id": application.pk, "applicant_id": applicant.pk},
                key=str(application.pk),
            )
    except BaseException:
        for name in saved_private:
            private_storage.delete(name)
        for name in saved_public:
            default_storage.delete(name)
        raise
    return application


def _open_application_lock(application_id: int) -> ShopApplication:
    application = (
        ShopApplication.objects.select_for_update()
        .select_related("applicant")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    if application.status != ShopApplication.Status.SUBMITTED:
        raise ApplicationNotOpen(extra={"status": application.status})
    return application


@transaction.atomic(durable=True)
def shop_application_approve(*, reviewer: User, application_id: int, ip: str | None = None) -> Shop:
    """Open the shop: the applicant becomes its owner and gets ``merchant_staff`` in its scope."""
    selectors.reviewer_require(reviewer)
    application = _open_application_lock(application_id)
    applicant = application.applicant
    try:
        with transaction.atomic():
            shop = Shop.objects.create(
                owner=applicant,
                name_zh=application.name_zh,
                name_en=application.name_en,
                slug=application.slug,
                shop_type=application.shop_type,
                story_zh=application.story_zh,
                story_en=application.story_en,
                region=application.region,
                logo=application.logo.name,
            )
    except IntegrityError as exc:
        raise ShopSlugTaken(extra={"slug": application.slug}) from exc
    ShopMembership.objects.create(
        shop=shop, user=applicant, role=ShopMembership.Role.OWNER, added_by=reviewer
    )
    staff_role_grant(actor=reviewer, user=applicant, scope=shop.role_scope, ip=ip)
    application.status = ShopApplication.Status.APPROVED
    application.reviewed_by = reviewer
    application.reviewed_at = clock.now()
    application.shop = shop
    application.save(update_fields=["status", "reviewed_by", "reviewed_at", "shop", "updated_at"])
    audit_entry_record(
        action="shop_approve",
        actor=reviewer,
        target_user=applicant,
        target_type="shop",
        target_id=shop.pk,
        ip=ip,
        metadata={"application_id": application.pk, "slug": shop.slug},
    )
    outbox_publish(
        topic="catalog.shop_approved",
        payload={
            "application_id": application.pk,
            "applicant_id": applicant.pk,
            "shop_id": shop.pk,
            "slug": shop.slug,
            "shop_type": shop.shop_type,
        },
        key=str(shop.pk),
    )
    return shop


@transaction.atomic(durable=True)
def shop_application_reject(
    *, reviewer: User, application_id: int, reason: str, ip: str | None = None
) -> ShopApplication:
    """Turn an application down with a reason the applicant sees; they may apply again."""
    selectors.reviewer_require(reviewer)
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise RejectReasonRequired()
    if len(reason) > 1000:
        raise ValidationFailed(code="field_too_long", extra={"field": "reason", "max": 1000})
    application = _open_application_lock(application_id)
    application.status = ShopApplication.Status.REJECTED
    application.reject_reason = reason
    application.reviewed_by = reviewer
    application.reviewed_at = clock.now()
    application.save(
        update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at", "updated_at"]
    )
    audit_entry_record(
        action="shop_reject",
        actor=reviewer,
        target_user=application.applicant,
        target_type="shop_application",
        target_id=application.pk,
        ip=ip,
        metadata={"slug": application.slug},
    )
    outbox_publish(
        topic="catalog.shop_application_rejected",
        payload={"application_id": application.pk, "applicant_id": application.applicant_id},
        key=str(application.pk),
    )
    return application


# --- staff --------------------------------------------------------------------------------------


def _lock_shop(shop: Shop) -> None:
    # Serialises membership changes of one shop (the owner row is the lock).
    Shop.objects.select_for_update().filter(pk=shop.pk).values_list("pk", flat=True).first()


@transaction.atomic(durable=True)
def shop_member_add(
    *,
    actor: User,
    shop: Shop,
    identifier: str,
    role: str = ShopMembership.Role.STAFF,
    ip: str | None = None,
) -> ShopMembership:
    """Add a colleague by phone or e-mail; they get ``merchant_staff`` in the shop's scope."""
    _lock_shop(shop)
    actor_role = shop_role_of(actor, shop)
    if actor_role not in MANAGING_ROLES:
        raise NotFound()
    if role not in ShopMembership.Role.values or not shop_can_manage_role(actor_role, role):
        raise ValidationFailed(code="invalid_shop_role", extra={"role": role})
    user = user_by_identifier(identifier=(identifier or "").strip())
    if user is None or not user.is_active or user.deleted_at is not None:
        raise MemberNotFound()
    if ShopMembership.objects.filter(shop=shop, user=user).exists():
        raise MemberAlreadyAdded()
    membership = ShopMembership.objects.create(shop=shop, user=user, role=role, added_by=actor)
    staff_role_grant(actor=actor, user=user, scope=shop.role_scope, ip=ip)
    audit_entry_record(
        action="shop_staff_add",
        actor=actor,
        target_user=user,
        target_type="shop",
        target_id=shop.pk,
        ip=ip,
        metadata={"role": role, "membership_id": membership.pk},
    )
    return membership


@transaction.atomic(durable=True)
def shop_member_remove(
    *, actor: User, shop: Shop, membership_id: int, ip: str | None = None
) -> None:
    """Remove a colleague; their ``merchant_staff`` role in the shop's scope goes with them."""
    _lock_shop(shop)
    actor_role = shop_role_of(actor, shop)
    membership = (
        ShopMembership.objects.select_related("user").filter(pk=membership_id, shop=shop).first()
    )
    if actor_role not in MANAGING_ROLES or membership is None:
        raise NotFound()
    if membership.role == ShopMembership.Role.OWNER:
        raise OwnerCannotBeRemoved()
    if not shop_can_manage_role(actor_role, membership.role):
        raise NotFound()
    staff_role_revoke(actor=actor, user=membership.user, scope=shop.role_scope, ip=ip)
    audit_entry_record(
        action="shop_staff_remove",
        actor=actor,
        target_user=membership.user,
        target_type="shop",
        target_id=shop.pk,
        ip=ip,
        metadata={"role": membership.role, "membership_id": membership.pk},
    )
    membership.delete()


# --- creators -----------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def creator_profile_update(*, user: User, bio: str, bio_en: str = "") -> CreatorProfile:
    profile, _created = CreatorProfile.objects.update_or_create(
        user=user,
        defaults={
            "bio": _optional_text(bio, field="bio", max_length=2000),
            "bio_en": _optional_text(bio_en, field="bio_en", max_length=2000),
        },
    )
    return profile
