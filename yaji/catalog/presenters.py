"""Shops and applications as plain dicts for the API (one place that knows their public shape)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse

from yaji.catalog.models import (
    Category,
    DigitalFile,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVideo,
    Shop,
    ShopApplication,
    Variant,
)
from yaji.catalog.selectors import bundle_availability, product_availability
from yaji.core.money import Money, format_money


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


# --- products -----------------------------------------------------------------------------------

IMAGE_SIZES = {"full": "file", "400": "thumb_400", "1200": "thumb_1200"}


def product_image_url(image: ProductImage, size: str = "400") -> str:
    """Images are served by a catalog view (listed: public; otherwise only to the shop and
    reviewers), so they work without a separate media server; see ADR 0014."""
    return reverse(
        "catalog:product_image",
        kwargs={"product_id": image.product_id, "image_id": image.pk, "size": size},
    )


def price_display(fen: int | None) -> str:
    return format_money(Money(fen, "CNY")) if fen is not None else ""


def category_dict(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {"slug": category.slug, "name_zh": category.name_zh, "name_en": category.name_en}


def product_summary_dict(product: Product) -> dict[str, Any]:
    images = list(product.images.all())
    price_from = getattr(product, "price_from_fen", None)
    if price_from is None and "variants" in getattr(product, "_prefetched_objects_cache", {}):
        price_from = min((v.price_fen for v in product.variants.all()), default=None)
    return {
        "id": product.pk,
        "shop_slug": product.shop.slug,
        "kind": product.kind,
        "title_zh": product.title_zh,
        "title_en": product.title_en,
        "status": product.status,
        "hold_check": product.hold_check,
        "category": category_dict(product.category),
        "price_from_fen": price_from,
        "thumbnail_url": product_image_url(images[0]) if images else None,
        "url": reverse("catalog:product_detail", kwargs={"product_id": product.pk}),
    }


def product_one(product: Product, name: str) -> Any:
    """An optional one-to-one (``video``, ``model_3d``, ``digital_file``) or None."""
    try:
        return getattr(product, name)
    except ObjectDoesNotExist:
        return None


def product_media_url(row: ProductVideo | ProductModel3D) -> str:
    """Video and 3D files are served by catalog views like the images (ADR 0014/0016); the row
    id is in the URL, so a replaced file has a new URL and the old one may be cached forever."""
    name = "catalog:product_video" if isinstance(row, ProductVideo) else "catalog:product_model"
    extension = row.file.name.rsplit(".", 1)[-1]
    return reverse(
        name, kwargs={"product_id": row.product_id, "media_id": row.pk, "ext": extension}
    )


def _media_dict(row: ProductVideo | ProductModel3D | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"url": product_media_url(row), "content_type": row.content_type, "size": row.size}


def _digital_dict(row: DigitalFile | None, *, private: bool) -> dict[str, Any] | None:
    if row is None:
        return None
    data: dict[str, Any] = {"content_type": row.content_type, "size": row.size}
    if private:
        data["original_name"] = row.original_name
        data["download_url"] = reverse(
            "catalog:digital_file_managed", kwargs={"product_id": row.product_id}
        )
    return data


def bundle_dict(product: Product) -> dict[str, Any] | None:
    if product.kind != Product.Kind.BUNDLE:
        return None
    items = list(product.bundle_items.all())
    return {
        "items": [
            {
                "variant_id": item.variant_id,
                "product_id": item.variant.product_id,
                "title_zh": item.variant.product.title_zh,
                "sku": item.variant.sku,
                "quantity": item.quantity,
                "unit_price_fen": item.variant.price_fen,
                "available": item.variant.product.status == Product.Status.LISTED,
            }
            for item in items
        ],
        "components_total_fen": sum(item.variant.price_fen * item.quantity for item in items),
        "availability": bundle_availability(product=product),
    }


def product_dict(product: Product, *, private: bool = False) -> dict[str, Any]:
    """The full product; ``private`` adds what only its shop and reviewers see (file names)."""
    data = product_summary_dict(product)
    data.update(
        {
            "story_zh": product.story_zh,
            "story_en": product.story_en,
            "designer_notes": product.designer_notes,
            "reject_reason": product.reject_reason,
            "hold_reason": product.hold_reason,
            "edition_size": product.edition_size,
            "per_buyer_limit": product.per_buyer_limit,
            "lead_time_days": product.lead_time_days,
            "duration_minutes": product.duration_minutes,
            "location": product.location,
            "online": product.online,
            "availability": product_availability(product=product),
            "bundle": bundle_dict(product),
            "video": _media_dict(product_one(product, "video")),
            "model_3d": _media_dict(product_one(product, "model_3d")),
            "digital_file": _digital_dict(product_one(product, "digital_file"), private=private),
            "attributes": [
                {"id": a.pk, "kind": a.kind, "value_zh": a.value_zh, "value_en": a.value_en}
                for a in product.attributes.all()
            ],
            "tags": [tag.name for tag in product.tags.all()],
            "variants": [variant_dict(v) for v in product.variants.all()],
            "images": [
                {
                    "id": image.pk,
                    "url": product_image_url(image, "full"),
                    "thumb_400_url": product_image_url(image, "400"),
                    "thumb_1200_url": product_image_url(image, "1200"),
                    "width": image.width,
                    "height": image.height,
                    "alt": image.alt,
                }
                for image in product.images.all()
            ],
            "customisation_options": [
                {
                    "id": option.pk,
                    "kind": option.kind,
                    "label_zh": option.label_zh,
                    "label_en": option.label_en,
                    "max_length": option.max_length,
                    "choices": option.choices,
                    "required": option.required,
                }
                for option in product.customisation_options.all()
            ],
            "created_at": product.created_at,
            "listed_at": product.listed_at,
        }
    )
    return data


def variant_dict(variant: Variant) -> dict[str, Any]:
    return {
        "id": variant.pk,
        "sku": variant.sku,
        "options": variant.options,
        "price_fen": variant.price_fen,
        "price_display": price_display(variant.price_fen),
        "stock": variant.stock,
        "weight_g": variant.weight_g,
        "starts_at": variant.starts_at,
    }
