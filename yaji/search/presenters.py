"""Search results as plain dicts for the API and the suggestion box (one place that knows
their public shape)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from yaji.catalog.models import Product
from yaji.catalog.presenters import product_image_url
from yaji.search.selectors import SearchResult, Suggestion, Trending


def search_url(**params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return reverse("search:results") + (f"?{query}" if query else "")


def hit_dict(product: Product, score: float | None = None) -> dict[str, Any]:
    images = list(product.images.all())
    return {
        "id": product.pk,
        "title_zh": product.title_zh,
        "title_en": product.title_en,
        "shop_slug": product.shop.slug,
        "shop_name_zh": product.shop.name_zh,
        "category_slug": product.category.slug if product.category else None,
        "price_from_fen": getattr(product, "price_from_fen", None),
        "thumbnail_url": product_image_url(images[0]) if images else None,
        "url": reverse("catalog:product_detail", kwargs={"product_id": product.pk}),
        "score": round(score, 6) if score is not None else None,
    }


def result_dict(result: SearchResult) -> dict[str, Any]:
    params = result.params
    return {
        "q": params.q,
        "sort": params.sort,
        "page": params.page,
        "page_size": params.page_size,
        "pages": result.pages,
        "next_page": result.next_page,
        "total": result.total,
        "total_exact": result.total_exact,
        "relaxed": result.relaxed,
        "partial": result.partial,
        "suggestion": result.suggestion,
        "corrected": result.corrected,
        "hits": [hit_dict(p, result.scores.get(p.pk)) for p in result.hits],
        "facets": [
            {
                "name": facet.name,
                "label": facet.label,
                "buckets": [bucket.__dict__ for bucket in facet.buckets],
            }
            for facet in result.facets
        ],
    }


def suggestion_dict(suggestion: Suggestion) -> dict[str, Any]:
    if suggestion.product_id is not None:
        url = reverse("catalog:product_detail", kwargs={"product_id": suggestion.product_id})
    else:
        url = search_url(q=suggestion.text)
    return {**suggestion.__dict__, "url": url}


def trending_dict(trending: Trending) -> dict[str, Any]:
    return {
        "queries": [
            {"q": q, "score": round(score, 4), "url": search_url(q=q)}
            for q, score in trending.queries
        ],
        "products": [hit_dict(p) for p in trending.products],
    }
