"""Shapes of the search API (``/api/v1/search``)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any] = {}


class SearchQueryIn(Schema):
    """Query-string parameters of ``GET /search``; facet values are those the facets list."""

    q: str = Field("", max_length=400, description="words, pinyin, initials or English")
    category: str = Field("", max_length=60, description="category slug (with subcategories)")
    price: str = Field("", max_length=12, description="price band, e.g. `100-300`")
    era: str = Field("", max_length=40)
    craft: str = Field("", max_length=40)
    region: str = Field("", max_length=40)
    shop_type: str = Field("", max_length=20)
    sort: str = Field("relevance", max_length=20, description="relevance, newest, price_asc, ...")
    page: int = Field(1, description="1-based page number")
    page_size: int = Field(24, description="results per page (1–60)")
    exact: bool = Field(False, description="the words as typed, without spelling correction")


class HitOut(Schema):
    id: int
    title_zh: str
    title_en: str
    shop_slug: str
    shop_name_zh: str
    category_slug: str | None
    price_from_fen: int | None
    thumbnail_url: str | None
    url: str
    score: float | None = Field(None, description="relevance × business signals (relevance sort)")


class FacetBucketOut(Schema):
    value: str
    label: str
    count: int
    selected: bool


class FacetOut(Schema):
    name: str
    label: str
    buckets: list[FacetBucketOut]


class SearchOut(Schema):
    q: str
    sort: str
    page: int
    page_size: int
    pages: int
    next_page: int | None
    total: int = Field(description="matching products, counted up to the result window")
    total_exact: bool = Field(description="false: there are more than `total` (shown as 1200+)")
    relaxed: bool = Field(description="no product had every word; these have parts of them")
    partial: bool = Field(
        description="few products had every word: these have most of them, every word first"
    )
    suggestion: str = Field(description="the query re-spelt with indexed words, or empty")
    corrected: bool = Field(description="the hits are the suggestion's: the query found nothing")
    hits: list[HitOut]
    facets: list[FacetOut]


class SuggestionOut(Schema):
    text: str
    text_en: str
    source: str
    product_id: int | None
    url: str


class SuggestOut(Schema):
    q: str
    suggestions: list[SuggestionOut]


class TrendingQueryOut(Schema):
    q: str
    score: float
    url: str


class TrendingOut(Schema):
    queries: list[TrendingQueryOut]
    products: list[HitOut]
