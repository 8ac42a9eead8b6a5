"""The catalog API, shops part: onboarding, review, public shop pages.

Thin: each endpoint validates its input (schemas), calls one service or selector, renders.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Form, Path, Query, Router, Status, UploadedFile
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth, request_ip
from yaji.accounts.models import User
from yaji.catalog import selectors, services
from yaji.catalog.presenters import application_dict, shop_dict
from yaji.catalog.schemas import (
    ErrorOut,
    RejectIn,
    ShopApplicationIn,
    ShopApplicationOut,
    ShopApplicationReviewOut,
    ShopOut,
    ShopPageOut,
    ShopTypeName,
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
