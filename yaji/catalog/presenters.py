"""Shops and applications as plain dicts for the API (one place that knows their public shape)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from yaji.catalog.models import Shop, ShopApplication


def person_dict(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "display_name": user.display_name or str(user)}


def shop_dict(shop: Shop) -> dict[str, Any]:
    return {
        "id": shop.pk,
        "slug": shop.slug,
        "name_zh": shop.name_zh,
        "name_en": shop.name_en,
        "shop_type": shop.shop_type,
        "shop_type_label": str(shop.get_shop_type_display()),
        "story_zh": shop.story_zh,
        "story_en": shop.story_en,
        "region": shop.region,
        "logo_url": shop.logo.url if shop.logo else None,
        "owner": person_dict(shop.owner),
        "url": reverse("catalog:shop_detail", kwargs={"slug": shop.slug}),
        "created_at": shop.created_at,
    }


def application_dict(
    application: ShopApplication, *, with_applicant: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": application.pk,
        "status": application.status,
        "name_zh": application.name_zh,
        "name_en": application.name_en,
        "slug": application.slug,
        "shop_type": application.shop_type,
        "story_zh": application.story_zh,
        "story_en": application.story_en,
        "region": application.region,
        "reject_reason": application.reject_reason,
        "reviewed_at": application.reviewed_at,
        "shop_slug": application.shop.slug if application.shop_id and application.shop else None,
        "documents": [
            {
                "id": document.pk,
                "original_name": document.original_name,
                "content_type": document.content_type,
                "size": document.size,
                "download_url": reverse(
                    "catalog:document_download", kwargs={"document_id": document.pk}
                ),
            }
            for document in application.documents.all()
        ],
        "created_at": application.created_at,
    }
    if with_applicant:
        data["applicant"] = person_dict(application.applicant)
    return data
