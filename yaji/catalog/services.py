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
    shop_suspend(*, reviewer, shop_id, reason, ip=None) -> Shop
    shop_reinstate(*, reviewer, shop_id, ip=None) -> Shop

Events (transactional outbox): ``catalog.shop_application_submitted``,
``catalog.shop_approved`` and ``catalog.shop_application_rejected``, each ``{"application_id",
"applicant_id", ...}``; ``catalog.shop_suspended`` and ``catalog.shop_reinstated``, each
``{"shop_id", "status"}`` (search takes the shop's products out of its index and back).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.signing import (
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    b62_decode,
    b62_encode,
)
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from yaji.accounts.models import User
from yaji.accounts.selectors import kyc_status, user_by_identifier
from yaji.accounts.services import audit_entry_record
from yaji.catalog import selectors
from yaji.catalog.customisation import (  # noqa: F401  # part of the services API
    customisation_price,
    customisation_validate,
)
from yaji.catalog.errors import (
    ApplicationAlreadyOpen,
    ApplicationNotOpen,
    BundleItemInvalid,
    DigitalFileMissing,
    DocumentRequired,
    DownloadLimitReached,
    DownloadLinkExpired,
    DownloadLinkInvalid,
    EditionStockExceeded,
    InvalidCustomisation,
    InvalidPrice,
    InvalidProductKind,
    InvalidSession,
    InvalidShopType,
    InvalidSku,
    InvalidSlug,
    InvalidStock,
    KycRequired,
    MemberAlreadyAdded,
    MemberNotFound,
    NotDigitalProduct,
    NotFound,
    OwnerCannotBeRemoved,
    ProductHeld,
    ProductIncomplete,
    ProductNotEditable,
    ProductNotHeld,
    ProductNotInReview,
    ProductNotListed,
    RejectReasonRequired,
    ShopReasonRequired,
    ShopSlugTaken,
    ShopStatusUnchanged,
    TooManyDocuments,
    TooManyImages,
    UnknownAttribute,
    UnknownCategory,
    ValidationFailed,
)
from yaji.catalog.images import IMAGES_PER_PRODUCT_MAX, image_files, image_process
from yaji.catalog.media import CheckedMedia, download_file_check, model_3d_check, video_check
from yaji.catalog.models import (
    SLUG_RE,
    Attribute,
    BundleItem,
    Category,
    CreatorProfile,
    CustomisationOption,
    DigitalFile,
    DownloadGrant,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVideo,
    Shop,
    ShopApplication,
    ShopDocument,
    ShopMembership,
    ShopType,
    Tag,
    Variant,
)
from yaji.catalog.permissions import (
    MANAGING_ROLES,
    is_shop_reviewer,
    shop_can_manage,
    shop_can_manage_role,
    shop_role_of,
)
from yaji.catalog.prechecks import precheck_run
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


# --- suspension ---------------------------------------------------------------------------------

SHOP_REASON_MAX = 1000


def _shop_status_set(
    *, reviewer: User, shop_id: int, status: str, reason: str, ip: str | None
) -> Shop:
    selectors.reviewer_require(reviewer)
    shop = Shop.objects.select_for_update().filter(pk=shop_id).first()
    if shop is None:
        raise NotFound()
    if shop.status == status:
        raise ShopStatusUnchanged(extra={"status": status})
    shop.status = status
    shop.save(update_fields=["status", "updated_at"])
    suspended = status == Shop.Status.SUSPENDED
    audit_entry_record(
        action="shop_suspend" if suspended else "shop_reinstate",
        actor=reviewer,
        target_user=shop.owner,
        target_type="shop",
        target_id=shop.pk,
        ip=ip,
        metadata={"slug": shop.slug, "reason": reason} if suspended else {"slug": shop.slug},
    )
    # Search drops the shop's products from its index on this event and puts them back on
    # the reinstatement (the result pages check the live status meanwhile).
    outbox_publish(
        topic="catalog.shop_suspended" if suspended else "catalog.shop_reinstated",
        payload={"shop_id": shop.pk, "status": status},
        key=str(shop.pk),
    )
    return shop


@transaction.atomic(durable=True)
def shop_suspend(*, reviewer: User, shop_id: int, reason: str, ip: str | None = None) -> Shop:
    """Close a shop for now (its products leave search and their pages), with a reason."""
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise ShopReasonRequired()
    if len(reason) > SHOP_REASON_MAX:
        raise ValidationFailed(
            code="field_too_long", extra={"field": "reason", "max": SHOP_REASON_MAX}
        )
    return _shop_status_set(
        reviewer=reviewer, shop_id=shop_id, status=Shop.Status.SUSPENDED, reason=reason, ip=ip
    )


@transaction.atomic(durable=True)
def shop_reinstate(*, reviewer: User, shop_id: int, ip: str | None = None) -> Shop:
    """Open a suspended shop again: its listed products come back to search."""
    return _shop_status_set(
        reviewer=reviewer, shop_id=shop_id, status=Shop.Status.ACTIVE, reason="", ip=ip
    )


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


# --- products -----------------------------------------------------------------------------------
#
#   product_create(*, actor, shop, title_zh, kind="standard", title_en="", story_zh="",
#                  story_en="", designer_notes="", category_slug=None, attribute_ids=(),
#                  tags=(), edition_size=None, per_buyer_limit=None, lead_time_days=None)
#       -> Product
#   product_update(*, actor, product_id, **same fields as product_create but shop) -> Product
#   variant_upsert(*, actor, product_id, sku, price_fen, stock, options=None, weight_g=0)
#       -> Variant
#   customisation_option_add(*, actor, product_id, kind, label_zh, label_en="",
#                            max_length=None, choices=(), required=False) -> CustomisationOption
#   product_image_add(*, actor, product_id, upload, alt="") -> ProductImage
#   product_submit(*, actor, product_id) -> Product          (in_review, or rejected by a check)
#   product_review_approve(*, reviewer, product_id) -> Product     (product_held while held)
#   product_hold_release(*, product_id, check, actor=None) -> Product   (the holding check's app)
#   product_hold_reject(*, product_id, check, reason, actor=None) -> Product
#   product_review_reject(*, reviewer, product_id, reason) -> Product
#   product_delist(*, actor, product_id, reason="") -> Product
#
# Events: ``catalog.product_listed`` and ``catalog.product_delisted``
# ``{"product_id", "shop_id", "category_id"}``, in the transaction of the change;
# ``catalog.product_held`` ``{"product_id", "shop_id", "check", "reason"}`` when a pre-check
# holds a submitted product (see yaji/catalog/prechecks.py for the hold contract).

EDITABLE_STATUSES = (Product.Status.DRAFT, Product.Status.REJECTED)
SUBMITTABLE_STATUSES = (Product.Status.DRAFT, Product.Status.REJECTED, Product.Status.DELISTED)
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
COURSE_MINUTES_MAX = 7 * 24 * 60  # a week-long workshop at most
BUNDLE_ITEMS_MAX = 20
BUNDLE_QUANTITY_MAX = 99
TAGS_MAX = 12
PRICE_MAX_FEN = 10**11  # ¥1,000,000,000.00: anything above is a typo, not a price


def _product_lock(*, actor: User, product_id: int) -> Product:
    """Lock a product of a shop ``actor`` manages; other shops' products are "not found"."""
    product = (
        Product.objects.select_for_update().select_related("shop").filter(pk=product_id).first()
        if 0 < product_id <= selectors.MAX_ID
        else None
    )
    if product is None or not shop_can_manage(actor, product.shop):
        raise NotFound()
    return product


def _product_editable(product: Product) -> None:
    if product.status not in EDITABLE_STATUSES:
        raise ProductNotEditable(extra={"status": product.status})


def _positive_or_none(value: int | None, *, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1_000_000:
        raise ValidationFailed(code="invalid_number", extra={"field": field})
    return value


def _kind_fields(
    kind: str,
    edition_size: int | None,
    per_buyer_limit: int | None,
    lead_time_days: int | None,
    duration_minutes: int | None = None,
    location: str = "",
    online: bool = False,
) -> dict[str, object]:
    if kind not in Product.Kind.values:
        raise InvalidProductKind(extra={"kind": kind, "allowed": list(Product.Kind.values)})
    edition_size = _positive_or_none(edition_size, field="edition_size")
    per_buyer_limit = _positive_or_none(per_buyer_limit, field="per_buyer_limit")
    lead_time_days = _positive_or_none(lead_time_days, field="lead_time_days")
    duration_minutes = _positive_or_none(duration_minutes, field="duration_minutes")
    fields: dict[str, object] = {
        "edition_size": None,
        "per_buyer_limit": None,
        "lead_time_days": None,
        "duration_minutes": None,
        "location": "",
        "online": False,
    }
    if kind == Product.Kind.LIMITED_EDITION:
        if edition_size is None or per_buyer_limit is None or per_buyer_limit > edition_size:
            raise InvalidProductKind(extra={"kind": kind})
        fields.update(edition_size=edition_size, per_buyer_limit=per_buyer_limit)
    elif kind == Product.Kind.MADE_TO_ORDER:
        if lead_time_days is None or lead_time_days > 365:
            raise InvalidProductKind(extra={"kind": kind})
        fields["lead_time_days"] = lead_time_days
    elif kind == Product.Kind.COURSE:
        location = _no_nul(
            _optional_text(location, field="location", max_length=120), field="location"
        )
        if duration_minutes is None or duration_minutes > COURSE_MINUTES_MAX:
            raise InvalidProductKind(extra={"kind": kind, "field": "duration_minutes"})
        if not online and not location:
            raise InvalidProductKind(extra={"kind": kind, "field": "location"})
        fields.update(duration_minutes=duration_minutes, location=location, online=bool(online))
    return fields


def _edition_stock_check(
    product: Product, *, edition_size: int | None, extra_stock: int = 0, sku: str | None = None
) -> None:
    """A limited edition's variants together never hold more pieces than the edition.

    Called with the product row locked, so concurrent upserts of one product serialise.
    """
    others = Variant.objects.filter(product=product)
    if sku is not None:
        others = others.exclude(sku=sku)
    total = (others.aggregate(total=Sum("stock"))["total"] or 0) + extra_stock
    if edition_size is None or total > edition_size:
        raise EditionStockExceeded(extra={"edition_size": edition_size, "stock_total": total})


def _category_resolve(category_slug: str | None) -> Category | None:
    if not category_slug:
        return None
    category = Category.objects.filter(slug=category_slug).first()
    if category is None:
        raise UnknownCategory(extra={"category": category_slug})
    return category


def _no_nul(value: str, *, field: str) -> str:
    # PostgreSQL text and JSON cannot hold NUL; it is never meaningful input anyway.
    if "\x00" in value:
        raise ValidationFailed(code="invalid_characters", extra={"field": field})
    return value


def _attributes_resolve(attribute_ids: Sequence[int]) -> list[Attribute]:
    ids = sorted(set(attribute_ids))
    if any(not 0 < pk <= selectors.MAX_ID for pk in ids):
        raise UnknownAttribute(extra={"attribute_ids": [pk for pk in ids if pk <= 0][:5]})
    found = list(Attribute.objects.filter(pk__in=ids)) if ids else []
    if len(found) != len(ids):
        missing = sorted(set(ids) - {a.pk for a in found})
        raise UnknownAttribute(extra={"attribute_ids": missing})
    return found


def _tags_resolve(tags: Sequence[str]) -> list[Tag]:
    names: list[str] = []
    for raw in tags:
        name = _no_nul(" ".join((raw or "").split()).lstrip("#"), field="tags")
        if not name:
            continue
        if len(name) > 30:
            raise ValidationFailed(code="field_too_long", extra={"field": "tags", "max": 30})
        if name not in names:
            names.append(name)
    if len(names) > TAGS_MAX:
        raise ValidationFailed(code="too_many_tags", extra={"max": TAGS_MAX})
    return [Tag.objects.get_or_create(name=name)[0] for name in names]


def _product_fields(
    *,
    title_zh: str,
    kind: str,
    title_en: str,
    story_zh: str,
    story_en: str,
    designer_notes: str,
    edition_size: int | None,
    per_buyer_limit: int | None,
    lead_time_days: int | None,
    duration_minutes: int | None = None,
    location: str = "",
    online: bool = False,
) -> dict[str, object]:
    return {
        "title_zh": _required_text(title_zh, field="title_zh", max_length=80),
        "title_en": _optional_text(title_en, field="title_en", max_length=120),
        "story_zh": _optional_text(story_zh, field="story_zh", max_length=8000),
        "story_en": _optional_text(story_en, field="story_en", max_length=8000),
        "designer_notes": _optional_text(designer_notes, field="designer_notes", max_length=4000),
        "kind": kind,
        **_kind_fields(
            kind,
            edition_size,
            per_buyer_limit,
            lead_time_days,
            duration_minutes,
            location,
            online,
        ),
    }


@transaction.atomic(durable=True)
def product_create(
    *,
    actor: User,
    shop: Shop,
    title_zh: str,
    kind: str = Product.Kind.STANDARD,
    title_en: str = "",
    story_zh: str = "",
    story_en: str = "",
    designer_notes: str = "",
    category_slug: str | None = None,
    attribute_ids: Sequence[int] = (),
    tags: Sequence[str] = (),
    edition_size: int | None = None,
    per_buyer_limit: int | None = None,
    lead_time_days: int | None = None,
    duration_minutes: int | None = None,
    location: str = "",
    online: bool = False,
) -> Product:
    """A new draft product of ``shop`` (its owner and managers only; others: not found)."""
    if not shop_can_manage(actor, shop) or shop.status != Shop.Status.ACTIVE:
        raise NotFound()
    fields = _product_fields(
        title_zh=title_zh,
        kind=kind,
        title_en=title_en,
        story_zh=story_zh,
        story_en=story_en,
        designer_notes=designer_notes,
        edition_size=edition_size,
        per_buyer_limit=per_buyer_limit,
        lead_time_days=lead_time_days,
        duration_minutes=duration_minutes,
        location=location,
        online=online,
    )
    category = _category_resolve(category_slug)
    attributes = _attributes_resolve(attribute_ids)
    tag_rows = _tags_resolve(tags)
    product = Product.objects.create(shop=shop, category=category, created_by=actor, **fields)
    product.attributes.set(attributes)
    product.tags.set(tag_rows)
    return product


@transaction.atomic(durable=True)
def product_update(
    *,
    actor: User,
    product_id: int,
    title_zh: str | None = None,
    kind: str | None = None,
    title_en: str | None = None,
    story_zh: str | None = None,
    story_en: str | None = None,
    designer_notes: str | None = None,
    category_slug: str | None = None,
    attribute_ids: Sequence[int] | None = None,
    tags: Sequence[str] | None = None,
    edition_size: int | None = None,
    per_buyer_limit: int | None = None,
    lead_time_days: int | None = None,
    duration_minutes: int | None = None,
    location: str | None = None,
    online: bool | None = None,
) -> Product:
    """Change a draft or rejected product; a ``None`` argument leaves that field as it is.

    ``category_slug=""`` clears the category.
    """
    product = _product_lock(actor=actor, product_id=product_id)
    _product_editable(product)

    def pick(value, current):  # type: ignore[no-untyped-def]
        return current if value is None else value

    fields = _product_fields(
        title_zh=pick(title_zh, product.title_zh),
        kind=pick(kind, product.kind),
        title_en=pick(title_en, product.title_en),
        story_zh=pick(story_zh, product.story_zh),
        story_en=pick(story_en, product.story_en),
        designer_notes=pick(designer_notes, product.designer_notes),
        edition_size=pick(edition_size, product.edition_size),
        per_buyer_limit=pick(per_buyer_limit, product.per_buyer_limit),
        lead_time_days=pick(lead_time_days, product.lead_time_days),
        duration_minutes=pick(duration_minutes, product.duration_minutes),
        location=pick(location, product.location),
        online=pick(online, product.online),
    )
    if fields["kind"] == Product.Kind.LIMITED_EDITION:
        _edition_stock_check(product, edition_size=fields["edition_size"])  # type: ignore[arg-type]
    if (
        fields["kind"] != Product.Kind.COURSE
        and product.variants.filter(starts_at__isnull=False).exists()
    ):
        raise InvalidSession(extra={"reason": "kind_has_sessions"})
    if (
        fields["kind"] == Product.Kind.BUNDLE
        and product.kind != Product.Kind.BUNDLE
        and product.variants.count() > 1
    ):
        raise ValidationFailed(code="bundle_single_variant", extra={"kind": fields["kind"]})
    if product.kind == Product.Kind.BUNDLE and fields["kind"] != Product.Kind.BUNDLE:
        BundleItem.objects.filter(bundle=product).delete()
    if category_slug is not None:
        product.category = _category_resolve(category_slug)
    if attribute_ids is not None:
        product.attributes.set(_attributes_resolve(attribute_ids))
    if tags is not None:
        product.tags.set(_tags_resolve(tags))
    for name, value in fields.items():
        setattr(product, name, value)
    product.save()
    return product


@transaction.atomic(durable=True)
def variant_upsert(
    *,
    actor: User,
    product_id: int,
    sku: str,
    price_fen: int,
    stock: int,
    options: dict[str, str] | None = None,
    weight_g: int = 0,
    starts_at: datetime | None = None,
) -> Variant:
    """Add a variant, or change the one with this SKU (draft or rejected products only).

    A course's variant is a session: ``starts_at`` (in the future) and its places as stock. A
    limited edition's variants together hold at most ``edition_size`` pieces
    (``edition_stock_exceeded``). A bundle has exactly one variant: its price and the number
    of sets the shop packs (``bundle_single_variant``).
    """
    product = _product_lock(actor=actor, product_id=product_id)
    _product_editable(product)
    sku = (sku or "").strip()
    if not SKU_RE.match(sku):
        raise InvalidSku(extra={"sku": sku[:40]})
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
        raise InvalidPrice(extra={"price_fen": str(price_fen)[:20]})
    if price_fen > PRICE_MAX_FEN:
        raise InvalidPrice(extra={"price_fen": price_fen, "max": PRICE_MAX_FEN})
    if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0 or stock > 10**9:
        raise InvalidStock(extra={"stock": str(stock)[:20]})
    if isinstance(weight_g, bool) or not isinstance(weight_g, int) or not 0 <= weight_g <= 10**7:
        raise ValidationFailed(code="invalid_weight", extra={"weight_g": str(weight_g)[:20]})
    clean_options: dict[str, str] = {}
    for key, value in (options or {}).items():
        key = _no_nul(str(key).strip(), field="options")
        value = _no_nul(str(value).strip(), field="options")
        if not key or not value or len(key) > 20 or len(value) > 40 or len(clean_options) >= 4:
            raise ValidationFailed(code="invalid_variant_options", extra={"option": key[:20]})
        clean_options[key] = value
    if starts_at is not None:
        if product.kind != Product.Kind.COURSE:
            raise InvalidSession(extra={"reason": "not_a_course"})
        if not isinstance(starts_at, datetime) or timezone.is_naive(starts_at):
            raise InvalidSession(extra={"reason": "timezone"})
        if starts_at <= clock.now():
            raise InvalidSession(extra={"reason": "past"})
    others = Variant.objects.filter(product=product).exclude(sku=sku)
    if product.kind == Product.Kind.LIMITED_EDITION:
        _edition_stock_check(product, edition_size=product.edition_size, extra_stock=stock, sku=sku)
    if product.kind == Product.Kind.BUNDLE and others.exists():
        raise ValidationFailed(code="bundle_single_variant", extra={"sku": sku})
    variant, _created = Variant.objects.update_or_create(
        product=product,
        sku=sku,
        defaults={
            "price_fen": price_fen,
            "stock": stock,
            "options": clean_options,
            "weight_g": weight_g,
            "starts_at": starts_at,
        },
    )
    return variant


@transaction.atomic(durable=True)
def customisation_option_add(
    *,
    actor: User,
    product_id: int,
    kind: str,
    label_zh: str,
    label_en: str = "",
    max_length: int | None = None,
    choices: Sequence[dict[str, object]] = (),
    required: bool = False,
) -> CustomisationOption:
    """A customisation option of a made-to-order product: engraving (≤ max_length characters,
    at most 200) or a choice list ``[{"value_zh", "value_en", "price_delta_fen"}]``."""
    product = _product_lock(actor=actor, product_id=product_id)
    _product_editable(product)
    if product.kind != Product.Kind.MADE_TO_ORDER:
        raise InvalidCustomisation(extra={"reason": "made_to_order_only"})
    label_zh = _required_text(label_zh, field="label_zh", max_length=40)
    label_en = _optional_text(label_en, field="label_en", max_length=60)
    clean_choices: list[dict[str, object]] = []
    if kind == CustomisationOption.Kind.ENGRAVING:
        if isinstance(max_length, bool) or not isinstance(max_length, int):
            raise InvalidCustomisation(extra={"field": "max_length"})
        if not 0 < max_length <= 200:
            raise InvalidCustomisation(extra={"field": "max_length", "max": 200})
    elif kind == CustomisationOption.Kind.CHOICE:
        max_length = None
        if not 0 < len(choices) <= 20:
            raise InvalidCustomisation(extra={"field": "choices"})
        for choice in choices:
            value_zh = _no_nul(str(choice.get("value_zh") or "").strip(), field="choices")
            delta = choice.get("price_delta_fen", 0)
            if not value_zh or len(value_zh) > 40:
                raise InvalidCustomisation(extra={"field": "choices"})
            if isinstance(delta, bool) or not isinstance(delta, int) or abs(delta) > PRICE_MAX_FEN:
                raise InvalidPrice(extra={"field": "price_delta_fen"})
            if any(c["value_zh"] == value_zh for c in clean_choices):
                raise InvalidCustomisation(extra={"field": "choices", "duplicate": value_zh})
            clean_choices.append(
                {
                    "value_zh": value_zh,
                    "value_en": _no_nul(
                        str(choice.get("value_en") or "").strip()[:60], field="choices"
                    ),
                    "price_delta_fen": delta,
                }
            )
    else:
        raise InvalidCustomisation(extra={"kind": kind})
    position = CustomisationOption.objects.filter(product=product).count()
    return CustomisationOption.objects.create(
        product=product,
        kind=kind,
        label_zh=label_zh,
        label_en=label_en,
        max_length=max_length,
        choices=clean_choices,
        required=bool(required),
        position=position,
    )


def product_image_add(
    *, actor: User, product_id: int, upload: UploadedFile, alt: str = ""
) -> ProductImage:
    """Add a gallery image: checked and re-encoded before anything is written; the files are
    removed again if the row is not stored, so a failure leaves nothing behind."""
    alt = _no_nul(_optional_text(alt, field="alt", max_length=120), field="alt")
    with transaction.atomic(durable=True):
        product = _product_lock(actor=actor, product_id=product_id)
        _product_editable(product)
        position = ProductImage.objects.filter(product=product).count()
        if position >= IMAGES_PER_PRODUCT_MAX:
            raise TooManyImages(extra={"max": IMAGES_PER_PRODUCT_MAX})
    processed = image_process(upload)  # outside the lock: decoding may take a moment
    saved: list[str] = []
    try:
        with transaction.atomic(durable=True):
            product = _product_lock(actor=actor, product_id=product_id)
            _product_editable(product)
            position = ProductImage.objects.filter(product=product).count()
            if position >= IMAGES_PER_PRODUCT_MAX:
                raise TooManyImages(extra={"max": IMAGES_PER_PRODUCT_MAX})
            for name, content in image_files(product.pk, processed).items():
                saved.append(default_storage.save(name, content))
            full, thumb_400, thumb_1200 = saved
            return ProductImage.objects.create(
                product=product,
                file=full,
                thumb_400=thumb_400,
                thumb_1200=thumb_1200,
                width=processed.width,
                height=processed.height,
                size=len(processed.full),
                sha256=processed.sha256,
                alt=alt,
                position=position,
            )
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise


def _product_event(topic: str, product: Product) -> None:
    outbox_publish(
        topic=topic,
        payload={
            "product_id": product.pk,
            "shop_id": product.shop_id,
            "category_id": product.category_id,
        },
        key=str(product.pk),
    )


@transaction.atomic(durable=True)
def product_submit(*, actor: User, product_id: int) -> Product:
    """Send a product to review: the pre-check pipeline runs first; a failing check rejects
    it with the check's reason, a pass puts it in the reviewer queue (``in_review``)."""
    product = _product_lock(actor=actor, product_id=product_id)
    if product.status not in SUBMITTABLE_STATUSES:
        raise ProductNotEditable(extra={"status": product.status})
    missing = [
        name
        for name, present in (
            ("variants", product.variants.exists()),
            ("images", product.images.exists()),
        )
        if not present
    ]
    if product.kind == Product.Kind.DIGITAL_DOWNLOAD and not (
        DigitalFile.objects.filter(product=product).exists()
    ):
        missing.append("digital_file")
    if product.kind == Product.Kind.BUNDLE:
        items = list(BundleItem.objects.filter(bundle=product).select_related("variant__product"))
        if sum(item.quantity for item in items) < 2:
            missing.append("bundle_items")
        for item in items:
            _bundle_component_check(product, item.variant)
    if missing:
        raise ProductIncomplete(extra={"missing": missing})
    now = clock.now()
    product.status = Product.Status.SUBMITTED
    product.submitted_at = now
    product.reject_reason = ""
    product.hold_check = ""
    product.hold_reason = ""
    product.held_at = None
    product.save(
        update_fields=[
            "status",
            "submitted_at",
            "reject_reason",
            "hold_check",
            "hold_reason",
            "held_at",
            "updated_at",
        ]
    )
    outcome = precheck_run(product)
    if outcome.verdict == "reject":
        product.status = Product.Status.REJECTED
        product.reject_reason = outcome.reason
        product.reviewed_by = None
        product.reviewed_at = now
        product.save(
            update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at", "updated_at"]
        )
        audit_entry_record(
            action="product_precheck_reject",
            actor=actor,
            target_type="product",
            target_id=product.pk,
            metadata={"check": outcome.check},
        )
        return product
    product.status = Product.Status.IN_REVIEW
    if outcome.verdict == "hold":
        product.hold_check = outcome.check
        product.hold_reason = outcome.reason
        product.held_at = now
        audit_entry_record(
            action="product_precheck_hold",
            actor=actor,
            target_type="product",
            target_id=product.pk,
            metadata={"check": outcome.check},
        )
        outbox_publish(
            topic="catalog.product_held",
            payload={
                "product_id": product.pk,
                "shop_id": product.shop_id,
                "check": outcome.check,
                "reason": outcome.reason,
            },
            key=str(product.pk),
        )
    product.save(update_fields=["status", "hold_check", "hold_reason", "held_at", "updated_at"])
    return product


def _in_review_lock(product_id: int) -> Product:
    product = (
        Product.objects.select_for_update().select_related("shop").filter(pk=product_id).first()
        if 0 < product_id <= selectors.MAX_ID
        else None
    )
    if product is None:
        raise NotFound()
    if product.status != Product.Status.IN_REVIEW:
        raise ProductNotInReview(extra={"status": product.status})
    return product


@transaction.atomic(durable=True)
def product_review_approve(*, reviewer: User, product_id: int) -> Product:
    """List a product that is in review (reviewers and operators)."""
    selectors.reviewer_require(reviewer)
    product = _in_review_lock(product_id)
    if product.hold_check:
        raise ProductHeld(extra={"check": product.hold_check})
    now = clock.now()
    product.status = Product.Status.LISTED
    product.reviewed_by = reviewer
    product.reviewed_at = now
    product.listed_at = now
    product.save(update_fields=["status", "reviewed_by", "reviewed_at", "listed_at", "updated_at"])
    audit_entry_record(
        action="product_approve", actor=reviewer, target_type="product", target_id=product.pk
    )
    _product_event("catalog.product_listed", product)
    return product


@transaction.atomic(durable=True)
def product_review_reject(*, reviewer: User, product_id: int, reason: str) -> Product:
    """Turn a product down with a reason the shop sees; they may fix it and submit again."""
    selectors.reviewer_require(reviewer)
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise RejectReasonRequired()
    if len(reason) > 1000:
        raise ValidationFailed(code="field_too_long", extra={"field": "reason", "max": 1000})
    product = _in_review_lock(product_id)
    held_by = product.hold_check
    product.status = Product.Status.REJECTED
    product.reject_reason = reason
    product.reviewed_by = reviewer
    product.reviewed_at = clock.now()
    product.hold_check = ""
    product.hold_reason = ""
    product.save(
        update_fields=[
            "status",
            "reject_reason",
            "reviewed_by",
            "reviewed_at",
            "hold_check",
            "hold_reason",
            "updated_at",
        ]
    )
    audit_entry_record(
        action="product_reject",
        actor=reviewer,
        target_type="product",
        target_id=product.pk,
        metadata={"held_by": held_by} if held_by else None,
    )
    return product


def _held_lock(product_id: int, check: str) -> Product:
    product = (
        Product.objects.select_for_update().select_related("shop").filter(pk=product_id).first()
        if isinstance(product_id, int) and 0 < product_id <= selectors.MAX_ID
        else None
    )
    if product is None:
        raise NotFound()
    if not check or product.status != Product.Status.IN_REVIEW or product.hold_check != check:
        raise ProductNotHeld(
            extra={"check": check, "status": product.status, "held_by": product.hold_check}
        )
    return product


@transaction.atomic(durable=True)
def product_hold_release(*, product_id: int, check: str, actor: User | None = None) -> Product:
    """Lift the hold ``check`` put on a product: it then waits for a reviewer as usual.

    Called by the app that owns the check (not a permission check: that app decided).
    ``product_not_held`` when the product is not held by ``check``.
    """
    product = _held_lock(product_id, check)
    product.hold_check = ""
    product.hold_reason = ""
    product.save(update_fields=["hold_check", "hold_reason", "updated_at"])
    audit_entry_record(
        action="product_hold_release",
        actor=actor,
        target_type="product",
        target_id=product.pk,
        metadata={"check": check},
    )
    return product


@transaction.atomic(durable=True)
def product_hold_reject(
    *, product_id: int, check: str, reason: str, actor: User | None = None
) -> Product:
    """Reject a product ``check`` holds, with a reason the shop sees (it may fix and resubmit).

    ``product_not_held`` when the product is not held by ``check``.
    """
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise RejectReasonRequired()
    reason = reason[:1000]
    product = _held_lock(product_id, check)
    product.status = Product.Status.REJECTED
    product.reject_reason = reason
    product.reviewed_by = actor
    product.reviewed_at = clock.now()
    product.hold_check = ""
    product.hold_reason = ""
    product.save(
        update_fields=[
            "status",
            "reject_reason",
            "reviewed_by",
            "reviewed_at",
            "hold_check",
            "hold_reason",
            "updated_at",
        ]
    )
    audit_entry_record(
        action="product_hold_reject",
        actor=actor,
        target_type="product",
        target_id=product.pk,
        metadata={"check": check},
    )
    return product


@transaction.atomic(durable=True)
def product_delist(*, actor: User, product_id: int, reason: str = "") -> Product:
    """Take a listed product off sale: its shop's managers, or a reviewer/operator."""
    product = (
        Product.objects.select_for_update().select_related("shop").filter(pk=product_id).first()
        if 0 < product_id <= selectors.MAX_ID
        else None
    )
    if product is None or not (shop_can_manage(actor, product.shop) or is_shop_reviewer(actor)):
        raise NotFound()
    if product.status != Product.Status.LISTED:
        raise ProductNotListed(extra={"status": product.status})
    product.status = Product.Status.DELISTED
    product.save(update_fields=["status", "updated_at"])
    audit_entry_record(
        action="product_delist",
        actor=actor,
        target_type="product",
        target_id=product.pk,
        metadata={"reason": _optional_text(reason, field="reason", max_length=1000)},
    )
    _product_event("catalog.product_delisted", product)
    return product


# --- product kinds and media (ADR 0016) ----------------------------------------------------------
#
#   bundle_item_set(*, actor, product_id, variant_id, quantity) -> BundleItem | None  (0 removes)
#   product_video_set(*, actor, product_id, upload) -> ProductVideo
#   product_model_3d_set(*, actor, product_id, upload) -> ProductModel3D
#   product_media_remove(*, actor, product_id, media) -> None     (media: "video" | "model_3d")
#   digital_file_set(*, actor, product_id, upload) -> DigitalFile
#   digital_download_link_issue(*, product, user, ttl, max_downloads=None) -> DownloadLink
#   digital_download_open(*, token) -> OpenedDownload               (counts the download)
#   digital_download_revoke(*, actor, grant_id) -> DownloadGrant     (support; the link dies)
#   customisation_validate(*, product, choices) -> dict[int, str]   (customisation.py)
#   customisation_price(*, product, choices) -> Money


def _bundle_component_check(bundle: Product, variant: Variant | None) -> None:
    """A bundle holds variants of its own shop's *listed* products, never bundles or pieces
    made to order (their customisation cannot be chosen inside a bundle)."""
    component = variant.product if variant is not None else None
    if (
        component is None
        or component.pk == bundle.pk
        or component.shop_id != bundle.shop_id
        or component.status != Product.Status.LISTED
        or component.kind in (Product.Kind.BUNDLE, Product.Kind.MADE_TO_ORDER)
    ):
        raise BundleItemInvalid(
            extra={
                "variant_id": variant.pk if variant is not None else None,
                "status": component.status if component is not None else None,
                "kind": component.kind if component is not None else None,
            }
        )


@transaction.atomic(durable=True)
def bundle_item_set(
    *, actor: User, product_id: int, variant_id: int, quantity: int
) -> BundleItem | None:
    """Put ``quantity`` units of a variant in a bundle (0 takes it out); draft/rejected only."""
    product = _product_lock(actor=actor, product_id=product_id)
    _product_editable(product)
    if product.kind != Product.Kind.BUNDLE:
        raise InvalidProductKind(extra={"kind": product.kind, "expected": Product.Kind.BUNDLE})
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 0 <= quantity <= BUNDLE_QUANTITY_MAX
    ):
        raise BundleItemInvalid(extra={"quantity": str(quantity)[:10]})
    if isinstance(variant_id, bool) or not isinstance(variant_id, int):
        raise BundleItemInvalid(extra={"variant_id": str(variant_id)[:20]})
    if quantity == 0:
        BundleItem.objects.filter(bundle=product, variant_id=variant_id).delete()
        return None
    variant = (
        Variant.objects.select_related("product").filter(pk=variant_id).first()
        if 0 < variant_id <= selectors.MAX_ID
        else None
    )
    _bundle_component_check(product, variant)
    existing = BundleItem.objects.filter(bundle=product)
    if not existing.filter(variant=variant).exists() and existing.count() >= BUNDLE_ITEMS_MAX:
        raise BundleItemInvalid(extra={"max_items": BUNDLE_ITEMS_MAX})
    item, _created = BundleItem.objects.update_or_create(
        bundle=product,
        variant=variant,
        defaults={"quantity": quantity, "position": existing.count()},
    )
    return item


MediaRow = TypeVar("MediaRow", ProductVideo, ProductModel3D, DigitalFile)


def _media_replace(
    *,
    actor: User,
    product_id: int,
    checked: CheckedMedia,
    model: type[MediaRow],
    storage: Storage,
    prefix: str,
    digital_only: bool = False,
) -> MediaRow:
    """Store a checked file and make it the product's one ``model`` row; the previous file is
    deleted once the change commits, and the new file again if the row is not stored."""
    saved: list[str] = []
    try:
        with transaction.atomic(durable=True):
            product = _product_lock(actor=actor, product_id=product_id)
            _product_editable(product)
            if digital_only and product.kind != Product.Kind.DIGITAL_DOWNLOAD:
                raise NotDigitalProduct(extra={"kind": product.kind})
            saved.append(
                storage.save(
                    f"{prefix}/{product.pk}/{uuid.uuid4().hex}.{checked.extension}",
                    checked.upload,
                )
            )
            previous = model.objects.filter(product=product).first()
            if previous is not None:
                old_name = previous.file.name
                previous.delete()
                transaction.on_commit(lambda: storage.delete(old_name))
            return model.objects.create(
                product=product,
                file=saved[0],
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                original_name=checked.original_name,
            )
    except BaseException:
        for name in saved:
            storage.delete(name)
        raise


def product_video_set(*, actor: User, product_id: int, upload: UploadedFile) -> ProductVideo:
    """The product's video (MP4/WebM, ≤ 50 MB, checked by structure); replaces an earlier one."""
    checked = video_check(upload)
    return _media_replace(
        actor=actor,
        product_id=product_id,
        checked=checked,
        model=ProductVideo,
        storage=default_storage,
        prefix="products",
    )


def product_model_3d_set(*, actor: User, product_id: int, upload: UploadedFile) -> ProductModel3D:
    """The product's 3D model (GLB or self-contained glTF 2.0, ≤ 30 MB); replaces an earlier
    one."""
    checked = model_3d_check(upload)
    return _media_replace(
        actor=actor,
        product_id=product_id,
        checked=checked,
        model=ProductModel3D,
        storage=default_storage,
        prefix="products",
    )


@transaction.atomic(durable=True)
def product_media_remove(*, actor: User, product_id: int, media: str) -> None:
    """Take the video (``media="video"``) or the 3D model (``"model_3d"``) off a product."""
    model = {"video": ProductVideo, "model_3d": ProductModel3D}.get(media)
    if model is None:
        raise ValidationFailed(code="invalid_media", extra={"media": str(media)[:20]})
    product = _product_lock(actor=actor, product_id=product_id)
    _product_editable(product)
    row = model.objects.filter(product=product).first()
    if row is None:
        raise NotFound()
    name = row.file.name
    row.delete()
    transaction.on_commit(lambda: default_storage.delete(name))


def digital_file_set(*, actor: User, product_id: int, upload: UploadedFile) -> DigitalFile:
    """What a digital-download product delivers (private storage; ≤ 200 MB; a known type by its
    bytes); replaces an earlier file."""
    checked = download_file_check(upload)
    return _media_replace(
        actor=actor,
        product_id=product_id,
        checked=checked,
        model=DigitalFile,
        storage=private_storage,
        prefix="downloads",
        digital_only=True,
    )


# Signed download links: the token is the grant's id, signed with SECRET_KEY and a timestamp
# (django.core.signing.TimestampSigner); its age is checked against the grant's ttl, and the
# grant row (expiry, revocation, download count) is the second lock on the door.
DOWNLOAD_SALT = "yaji.catalog.download"
DOWNLOAD_TTL_MIN = timedelta(minutes=1)
DOWNLOAD_TTL_MAX = timedelta(days=30)


class _ClockTimestampSigner(TimestampSigner):
    """TimestampSigner on the platform clock (``yaji.core.clock``), so tests can move time."""

    def timestamp(self) -> str:
        return b62_encode(int(clock.now().timestamp()))

    def unsign(self, value: str, max_age: float | timedelta | None = None) -> str:
        result = Signer.unsign(self, value)
        value, stamp = result.rsplit(self.sep, 1)
        if max_age is not None:
            if isinstance(max_age, timedelta):
                max_age = max_age.total_seconds()
            age = clock.now().timestamp() - b62_decode(stamp)
            if age > max_age:
                raise SignatureExpired(f"Signature age {age} > {max_age} seconds")
        return value


def _download_signer() -> _ClockTimestampSigner:
    return _ClockTimestampSigner(salt=DOWNLOAD_SALT)


@dataclass(frozen=True)
class DownloadLink:
    url: str
    token: str
    expires_at: datetime
    grant_id: int


@transaction.atomic
def digital_download_link_issue(
    *,
    product: Product,
    user: User,
    ttl: timedelta | int,
    max_downloads: int | None = None,
) -> DownloadLink:
    """A signed link to a digital product's file for ``user``, valid for ``ttl`` (1 minute to
    30 days; an int is seconds), optionally for at most ``max_downloads`` downloads.

    For trade to call when an order is paid (no permission check: the caller decided), inside
    its own transaction if it has one. ``not_digital_product`` for other kinds,
    ``digital_file_missing`` when the product has no file.
    """
    if isinstance(ttl, bool) or not isinstance(ttl, timedelta | int):
        raise ValidationFailed(code="invalid_ttl")
    ttl = timedelta(seconds=ttl) if isinstance(ttl, int) else ttl
    if not DOWNLOAD_TTL_MIN <= ttl <= DOWNLOAD_TTL_MAX:
        raise ValidationFailed(code="invalid_ttl", extra={"ttl_seconds": int(ttl.total_seconds())})
    if max_downloads is not None and (
        isinstance(max_downloads, bool)
        or not isinstance(max_downloads, int)
        or not 0 < max_downloads <= 1000
    ):
        raise ValidationFailed(code="invalid_max_downloads")
    if user is None or not user.pk or not user.is_active:
        raise NotFound()
    if product.kind != Product.Kind.DIGITAL_DOWNLOAD:
        raise NotDigitalProduct(extra={"kind": product.kind})
    digital = DigitalFile.objects.filter(product_id=product.pk).first()
    if digital is None:
        raise DigitalFileMissing()
    now = clock.now()
    grant = DownloadGrant.objects.create(
        product_id=product.pk,
        user=user,
        file_sha256=digital.sha256,
        ttl_seconds=int(ttl.total_seconds()),
        expires_at=now + ttl,
        max_downloads=max_downloads,
    )
    token = _download_signer().sign(str(grant.pk))
    audit_entry_record(
        action="download_link_issue",
        target_user=user,
        target_type="product",
        target_id=product.pk,
        metadata={"grant_id": grant.pk, "ttl_seconds": grant.ttl_seconds},
    )
    return DownloadLink(
        url=reverse("catalog:digital_download", kwargs={"token": token}),
        token=token,
        expires_at=grant.expires_at,
        grant_id=grant.pk,
    )


@dataclass(frozen=True)
class OpenedDownload:
    grant: DownloadGrant
    file: DigitalFile


@transaction.atomic(durable=True)
def digital_download_open(*, token: str) -> OpenedDownload:
    """Check a download token and count the download (the caller then streams the file).

    ``download_link_invalid`` (404) for a forged, altered or revoked token;
    ``download_link_expired`` (410) past its ttl; ``download_limit_reached`` (410) when its
    downloads are used up — decided by one conditional UPDATE, so concurrent downloads never
    exceed the limit.
    """
    signer = _download_signer()
    try:
        raw = signer.unsign(token or "")
        grant_id = int(raw)
    except (BadSignature, ValueError) as exc:
        raise DownloadLinkInvalid() from exc
    grant = DownloadGrant.objects.filter(pk=grant_id).first() if grant_id > 0 else None
    if grant is None or grant.revoked_at is not None:
        raise DownloadLinkInvalid()
    try:
        signer.unsign(token, max_age=grant.ttl_seconds)
    except SignatureExpired as exc:
        raise DownloadLinkExpired(extra={"expired_at": grant.expires_at.isoformat()}) from exc
    now = clock.now()
    if now > grant.expires_at:
        raise DownloadLinkExpired(extra={"expired_at": grant.expires_at.isoformat()})
    digital = DigitalFile.objects.filter(product_id=grant.product_id).first()
    if digital is None:
        raise DownloadLinkInvalid()
    limit = Q(max_downloads__isnull=True) | Q(download_count__lt=F("max_downloads"))
    counted = DownloadGrant.objects.filter(limit, pk=grant.pk).update(
        download_count=F("download_count") + 1, last_downloaded_at=now
    )
    if not counted:
        raise DownloadLimitReached(extra={"max_downloads": grant.max_downloads})
    grant.refresh_from_db()
    return OpenedDownload(grant=grant, file=digital)


@transaction.atomic(durable=True)
def digital_download_revoke(*, actor: User | None, grant_id: int) -> DownloadGrant:
    """Kill an issued link (leaked, refunded): it answers 404 from now on. Idempotent."""
    grant = (
        DownloadGrant.objects.select_for_update().filter(pk=grant_id).first()
        if isinstance(grant_id, int) and 0 < grant_id <= selectors.MAX_ID
        else None
    )
    if grant is None:
        raise NotFound()
    if grant.revoked_at is None:
        grant.revoked_at = clock.now()
        grant.save(update_fields=["revoked_at", "updated_at"])
        audit_entry_record(
            action="download_link_revoke",
            actor=actor,
            target_user=grant.user,
            target_type="download_grant",
            target_id=grant.pk,
        )
    return grant
