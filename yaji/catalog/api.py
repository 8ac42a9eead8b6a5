"""The catalog API: shops (onboarding, review, public pages; tag "shops") and products
(editing, images, the listing workflow, public reads; tag "products").

Thin: each endpoint validates its input (schemas), calls one service or selector, renders.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Path, Query, Router, Status, UploadedFile
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth, request_ip
from yaji.accounts.models import User
from yaji.catalog import selectors, services
from yaji.catalog.errors import NotFound
from yaji.catalog.models import SLUG_RE
from yaji.catalog.permissions import is_shop_reviewer, shop_can_manage
from yaji.catalog.presenters import (
    application_dict,
    price_display,
    product_dict,
    product_image_url,
    product_media_url,
    product_summary_dict,
    shop_dict,
    variant_dict,
)
from yaji.catalog.schemas import (
    BundleItemIn,
    CustomisationOptionIn,
    DigitalFileOut,
    ErrorOut,
    MediaOut,
    ProductImageOut,
    ProductIn,
    ProductOut,
    ProductPageOut,
    ProductPatchIn,
    ProductSummaryOut,
    QuoteIn,
    QuoteOut,
    RejectIn,
    ShopApplicationIn,
    ShopApplicationOut,
    ShopApplicationReviewOut,
    ShopOut,
    ShopPageOut,
    ShopTypeName,
    VariantIn,
    VariantOut,
)
from yaji.core.idempotency import idempotent

router = Router(tags=["shops"], auth=api_auth)

MAX_ID = 2**63 - 1
ERRORS = {codes_4xx: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]


@router.post(
    "/shop-applications",
    response={201: ShopApplicationOut, **ERRORS},
    summary="Apply for a shop (multipart: fields + documents; real-name verified users)",
)
@idempotent
def shop_application_create(
    request: HttpRequest,
    payload: Form[ShopApplicationIn],
    documents: File[list[UploadedFile]],
    logo: File[UploadedFile | None] = None,
):
    application = services.shop_application_submit(
        applicant=_user(request),
        name_zh=payload.name_zh,
        name_en=payload.name_en,
        slug=payload.slug,
        shop_type=payload.shop_type,
        story_zh=payload.story_zh,
        story_en=payload.story_en,
        region=payload.region,
        logo=logo,
        documents=documents,
        ip=request_ip(request),
    )
    application = selectors.applications_mine(user=_user(request)).get(pk=application.pk)
    return Status(201, application_dict(application))


@router.get(
    "/shop-applications/mine",
    response={200: list[ShopApplicationOut], **ERRORS},
    summary="My shop applications, newest first",
)
def shop_applications_mine(request: HttpRequest):
    return [application_dict(a) for a in selectors.applications_mine(user=_user(request))]


@router.get(
    "/shops",
    auth=None,
    response={200: ShopPageOut, **ERRORS},
    summary="Active shops, newest first (cursor-paginated)",
)
def shops_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=64),
    limit: int = Query(20, ge=1, le=100),
    shop_type: ShopTypeName | None = None,
):
    page = selectors.shops_active(cursor=cursor, limit=limit, shop_type=shop_type)
    return {"items": [shop_dict(shop) for shop in page.items], "next_cursor": page.next_cursor}


@router.get("/shops/{slug}", auth=None, response={200: ShopOut, **ERRORS}, summary="One shop")
def shop_detail(request: HttpRequest, slug: str = Path(..., max_length=40)):
    return shop_dict(selectors.shop_get_public(slug=slug))


@router.get(
    "/review/shop-applications",
    response={200: list[ShopApplicationReviewOut], **ERRORS},
    summary="Submitted shop applications, oldest first (reviewers)",
)
def review_queue(request: HttpRequest):
    return [
        application_dict(a, with_applicant=True)
        for a in selectors.applications_queue(reviewer=_user(request))
    ]


@router.post(
    "/review/shop-applications/{application_id}/approve",
    response={200: ShopOut, **ERRORS},
    summary="Approve a shop application: opens the shop (reviewers)",
)
@idempotent
def review_approve(request: HttpRequest, application_id: int = Path(..., ge=1, le=MAX_ID)):
    shop = services.shop_application_approve(
        reviewer=_user(request), application_id=application_id, ip=request_ip(request)
    )
    return shop_dict(shop)


@router.post(
    "/review/shop-applications/{application_id}/reject",
    response={200: ShopApplicationOut, **ERRORS},
    summary="Reject a shop application with a reason the applicant sees (reviewers)",
)
@idempotent
def review_reject(
    request: HttpRequest, payload: RejectIn, application_id: int = Path(..., ge=1, le=MAX_ID)
):
    reviewer = _user(request)
    services.shop_application_reject(
        reviewer=reviewer,
        application_id=application_id,
        reason=payload.reason,
        ip=request_ip(request),
    )
    application = selectors.application_get_for_review(
        reviewer=reviewer, application_id=application_id
    )
    return application_dict(application)


# --- products -----------------------------------------------------------------------------------

products_router = Router(tags=["products"], auth=api_auth)


def _anyone(request: HttpRequest) -> AnonymousUser:
    # Last in an auth list: the endpoint is public, and a signed-in caller is still recognised.
    return AnonymousUser()


OPTIONAL_AUTH = [*api_auth, _anyone]


def _managed(request: HttpRequest, product_id: int):  # type: ignore[no-untyped-def]
    return product_dict(
        selectors.product_get_managed(user=_user(request), product_id=product_id), private=True
    )


def _private_for(user: object, product: object) -> bool:
    return shop_can_manage(user, product.shop) or is_shop_reviewer(user)  # type: ignore[attr-defined]


@products_router.post(
    "/shops/{slug}/products",
    response={201: ProductOut, **ERRORS},
    summary="Create a draft product in a shop you manage",
)
@idempotent
def product_create(request: HttpRequest, payload: ProductIn, slug: str = Path(..., max_length=40)):
    if not SLUG_RE.match(slug):
        raise NotFound()
    shop = selectors.shop_get_managed(user=_user(request), slug=slug)
    product = services.product_create(
        actor=_user(request),
        shop=shop,
        title_zh=payload.title_zh,
        title_en=payload.title_en,
        kind=payload.kind,
        story_zh=payload.story_zh,
        story_en=payload.story_en,
        designer_notes=payload.designer_notes,
        category_slug=payload.category,
        attribute_ids=payload.attribute_ids,
        tags=payload.tags,
        edition_size=payload.edition_size,
        per_buyer_limit=payload.per_buyer_limit,
        lead_time_days=payload.lead_time_days,
        duration_minutes=payload.duration_minutes,
        location=payload.location,
        online=payload.online,
    )
    return Status(201, _managed(request, product.pk))


@products_router.patch(
    "/products/{product_id}",
    response={200: ProductOut, **ERRORS},
    summary="Change a draft or rejected product (fields left out stay as they are)",
)
def product_update(
    request: HttpRequest, payload: ProductPatchIn, product_id: int = Path(..., ge=1, le=MAX_ID)
):
    data = payload.dict(exclude_unset=True)
    if "category" in data:
        data["category_slug"] = data.pop("category") or ""
    services.product_update(actor=_user(request), product_id=product_id, **data)
    return _managed(request, product_id)


@products_router.post(
    "/products/{product_id}/variants",
    response={200: VariantOut, **ERRORS},
    summary="Add a variant or change the one with this SKU",
)
@idempotent
def variant_upsert(
    request: HttpRequest, payload: VariantIn, product_id: int = Path(..., ge=1, le=MAX_ID)
):
    variant = services.variant_upsert(
        actor=_user(request),
        product_id=product_id,
        sku=payload.sku,
        price_fen=payload.price_fen,
        stock=payload.stock,
        options=payload.options,
        weight_g=payload.weight_g,
        starts_at=payload.starts_at,
    )
    return variant_dict(variant)


@products_router.post(
    "/products/{product_id}/customisation-options",
    response={201: ProductOut, **ERRORS},
    summary="Add a customisation option to a made-to-order product",
)
@idempotent
def customisation_option_add(
    request: HttpRequest,
    payload: CustomisationOptionIn,
    product_id: int = Path(..., ge=1, le=MAX_ID),
):
    services.customisation_option_add(
        actor=_user(request),
        product_id=product_id,
        kind=payload.kind,
        label_zh=payload.label_zh,
        label_en=payload.label_en,
        max_length=payload.max_length,
        choices=[choice.dict() for choice in payload.choices],
        required=payload.required,
    )
    return Status(201, _managed(request, product_id))


@products_router.post(
    "/products/{product_id}/images",
    response={201: ProductImageOut, **ERRORS},
    summary="Upload a gallery image (multipart `image`: JPEG/PNG/WebP, ≤ 8 MB)",
)
@idempotent
def product_image_add(
    request: HttpRequest,
    image: File[UploadedFile],
    alt: Form[str] = "",
    product_id: int = Path(..., ge=1, le=MAX_ID),
):
    row = services.product_image_add(
        actor=_user(request), product_id=product_id, upload=image, alt=alt
    )
    return Status(
        201,
        {
            "id": row.pk,
            "url": product_image_url(row, "full"),
            "thumb_400_url": product_image_url(row, "400"),
            "thumb_1200_url": product_image_url(row, "1200"),
            "width": row.width,
            "height": row.height,
            "alt": row.alt,
        },
    )


@products_router.post(
    "/products/{product_id}/bundle-items",
    response={200: ProductOut, **ERRORS},
    summary="Put a listed variant of your shop in a bundle, with a quantity (0 removes it)",
)
@idempotent
def bundle_item_set(
    request: HttpRequest, payload: BundleItemIn, product_id: int = Path(..., ge=1, le=MAX_ID)
):
    services.bundle_item_set(
        actor=_user(request),
        product_id=product_id,
        variant_id=payload.variant_id,
        quantity=payload.quantity,
    )
    return _managed(request, product_id)


def _media_out(row) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"url": product_media_url(row), "content_type": row.content_type, "size": row.size}


@products_router.post(
    "/products/{product_id}/video",
    response={201: MediaOut, **ERRORS},
    summary="Upload the product video (multipart `video`: MP4/WebM, ≤ 50 MB); replaces one",
)
@idempotent
def product_video_set(
    request: HttpRequest, video: File[UploadedFile], product_id: int = Path(..., ge=1, le=MAX_ID)
):
    row = services.product_video_set(actor=_user(request), product_id=product_id, upload=video)
    return Status(201, _media_out(row))


@products_router.post(
    "/products/{product_id}/model",
    response={201: MediaOut, **ERRORS},
    summary="Upload the 3D model (multipart `model`: GLB or self-contained glTF 2.0, ≤ 30 MB)",
)
@idempotent
def product_model_set(
    request: HttpRequest, model: File[UploadedFile], product_id: int = Path(..., ge=1, le=MAX_ID)
):
    row = services.product_model_3d_set(actor=_user(request), product_id=product_id, upload=model)
    return Status(201, _media_out(row))


@products_router.delete(
    "/products/{product_id}/video",
    response={204: None, **ERRORS},
    summary="Remove the product video (draft or rejected products)",
)
def product_video_remove(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    services.product_media_remove(actor=_user(request), product_id=product_id, media="video")
    return Status(204, None)


@products_router.delete(
    "/products/{product_id}/model",
    response={204: None, **ERRORS},
    summary="Remove the 3D model (draft or rejected products)",
)
def product_model_remove(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    services.product_media_remove(actor=_user(request), product_id=product_id, media="model_3d")
    return Status(204, None)


@products_router.post(
    "/products/{product_id}/digital-file",
    response={201: DigitalFileOut, **ERRORS},
    summary="Upload what a digital-download product delivers (multipart `file`, private, ≤ 200 MB)",
)
@idempotent
def digital_file_set(
    request: HttpRequest, file: File[UploadedFile], product_id: int = Path(..., ge=1, le=MAX_ID)
):
    row = services.digital_file_set(actor=_user(request), product_id=product_id, upload=file)
    return Status(
        201,
        {
            "content_type": row.content_type,
            "size": row.size,
            "original_name": row.original_name,
            "download_url": reverse(
                "catalog:digital_file_managed", kwargs={"product_id": product_id}
            ),
        },
    )


@products_router.post(
    "/products/{product_id}/submit",
    response={200: ProductOut, **ERRORS},
    summary="Submit for review: pre-checks run first (status in_review, or rejected + reason)",
)
@idempotent
def product_submit(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    services.product_submit(actor=_user(request), product_id=product_id)
    return _managed(request, product_id)


@products_router.post(
    "/products/{product_id}/delist",
    response={200: ProductOut, **ERRORS},
    summary="Take a listed product off sale (its shop's managers, reviewers)",
)
@idempotent
def product_delist(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    user = _user(request)
    services.product_delist(actor=user, product_id=product_id)
    return product_dict(
        selectors.product_get_viewable(user=user, product_id=product_id), private=True
    )


@products_router.get(
    "/products/{product_id}",
    auth=OPTIONAL_AUTH,
    response={200: ProductOut, **ERRORS},
    summary="One product: listed ones for everyone, any status for its shop and reviewers",
)
def product_detail(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    user = request.auth  # type: ignore[attr-defined]
    product = selectors.product_get_viewable(user=user, product_id=product_id)
    return product_dict(product, private=_private_for(user, product))


@products_router.post(
    "/products/{product_id}/quote",
    auth=None,
    response={200: QuoteOut, **ERRORS},
    summary="Unit price of a variant with customisation (checks engraving length, choices)",
)
def product_quote(
    request: HttpRequest, payload: QuoteIn, product_id: int = Path(..., ge=1, le=MAX_ID)
):
    product = selectors.product_get_public(product_id=product_id)
    price = selectors.customisation_quote(
        product=product, variant_id=payload.variant_id, selections=payload.customisation
    )
    return {
        "variant_id": payload.variant_id,
        "price_fen": price,
        "price_display": price_display(price),
    }


@products_router.get(
    "/products",
    auth=None,
    response={200: ProductPageOut, **ERRORS},
    summary="Listed products, newest first (filters: shop, category with its subcategories)",
)
def products_list(
    request: HttpRequest,
    shop: str | None = Query(None, max_length=40, pattern=r"^[a-z0-9-]+$"),
    category: str | None = Query(None, max_length=60, pattern=r"^[a-z0-9-]+$"),
    cursor: str | None = Query(None, max_length=64),
    limit: int = Query(20, ge=1, le=100),
):
    page = selectors.products_listed(
        shop_slug=shop, category_slug=category, cursor=cursor, limit=limit
    )
    return {
        "items": [product_summary_dict(p) for p in page.items],
        "next_cursor": page.next_cursor,
    }


@products_router.get(
    "/review/products",
    response={200: list[ProductSummaryOut], **ERRORS},
    summary="Products in review, oldest submission first; ?held=true|false filters (reviewers)",
)
def product_review_queue(request: HttpRequest, held: bool | None = None):
    return [
        product_summary_dict(p)
        for p in selectors.products_review_queue(reviewer=_user(request), held=held)
    ]


@products_router.post(
    "/review/products/{product_id}/approve",
    response={200: ProductOut, **ERRORS},
    summary="List a product in review (reviewers)",
)
@idempotent
def product_review_approve(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    reviewer = _user(request)
    services.product_review_approve(reviewer=reviewer, product_id=product_id)
    return product_dict(
        selectors.product_get_for_review(reviewer=reviewer, product_id=product_id), private=True
    )


@products_router.post(
    "/review/products/{product_id}/reject",
    response={200: ProductOut, **ERRORS},
    summary="Reject a product in review with a reason the shop sees (reviewers)",
)
@idempotent
def product_review_reject(
    request: HttpRequest, payload: RejectIn, product_id: int = Path(..., ge=1, le=MAX_ID)
):
    reviewer = _user(request)
    services.product_review_reject(reviewer=reviewer, product_id=product_id, reason=payload.reason)
    return product_dict(
        selectors.product_get_for_review(reviewer=reviewer, product_id=product_id), private=True
    )


router.add_router("", products_router)
