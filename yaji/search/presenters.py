"""Search results as plain dicts for the API and the suggestion box (one place that knows
their public shape)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from yaji.catalog.presenters import product_image_url
from yaji.search.selectors import Hit, SearchResult, Suggestion, Trending


def search_url(**params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return reverse("search:results") + (f"?{query}" if query else "")


def hit_dict(hit: Hit, score: float | None = None) -> dict[str, Any]:
    return {
        "id": hit.pk,
        "title_zh": hit.title_zh,
        "title_en": hit.title_en,
        "shop_slug": hit.shop.slug,
        "shop_name_zh": hit.shop.name_zh,
        "category_slug": hit.category_slug,
        "price_from_fen": hit.price_from_fen,
        "thumbnail_url": product_image_url(hit.image) if hit.image else None,  # type: ignore[arg-type]
        "url": reverse("catalog:product_detail", kwargs={"product_id": hit.pk}),
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
