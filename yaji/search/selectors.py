"""Reads of the search index: results with facets, suggestions, trending, the home zones.

Only products that are listed in an active shop come back, whatever the index holds: the query
joins the catalog's status, so a delisting is invisible at once even before its event is
delivered.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from yaji.catalog.models import Attribute, Category, Product, ProductImage, Shop, ShopType
from yaji.core import clock
from yaji.search.analysis import (
    MAX_QUERY_CHARS,
    QueryTerm,
    VocabularyEntry,
    normalize,
    query_terms,
    spelling_correct,
)
from yaji.search.backends import TEXT_RANK_WINDOW, attribute_key, backend_get, partial_levels
from yaji.search.errors import InvalidPage, QueryTooLong, UnknownFacetValue, UnknownSort
from yaji.search.models import (
    PriceBand,
    SearchActivity,
    SearchDocument,
    SearchSpellingKey,
    SearchTerm,
    SearchVocabulary,
)

PAGE_SIZE = 24
PAGE_SIZE_MAX = 60
# Like a search engine's result window: deep pages are for crawlers, not people.
RESULT_WINDOW = 1200
# Relevance re-ranks this many best text matches with the business signals.
RERANK_WINDOW = 1200
# Of those, this many best are re-ranked with the business signals (what PostgreSQL ranks
# by text, see backends.TEXT_RANK_WINDOW); the rest keep the backend's order behind them.
RERANK_HEAD = TEXT_RANK_WINDOW
# Totals are exact up to the window (all that can be paged through), "1200+" past it.
COUNT_CAP = RESULT_WINDOW
# Fetched past the page's end so that products delisted a moment ago (documents not yet
# removed by their event) can be dropped and the page still be full.
PAGE_SLACK = 4
# A query finding fewer products than this gets a spelling suggestion if one finds more.
SPELLING_FEW = 3
# A query of several words finding fewer products than this with every word also shows the
# products with most of its words (see _partial).
PARTIAL_FEW = 3

SORTS = {
    "relevance": _("综合"),
    "newest": _("最新上架"),
    "price_asc": _("价格从低到高"),
    "price_desc": _("价格从高到低"),
    "sales": _("销量"),
}
FACETS = ("category", "price", "era", "craft", "region", "shop_type")
FACET_LABELS = {
    "category": _("分类"),
    "price": _("价格"),
    "era": _("年代"),
    "craft": _("工艺"),
    "region": _("地域"),
    "shop_type": _("店铺类型"),
}
ATTRIBUTE_FACETS = ("era", "craft", "region")

# Ranking: text relevance (normalised to 0–1 within the candidates) times a boost from the
# business signals, each 0–1. Written once, here; see ADR 0015.
SALES_WEIGHT = 0.6
RATING_WEIGHT = 0.3
FRESHNESS_WEIGHT = 0.4
SALES_HALF_POINT = 50  # sales at which the sales signal reaches 0.5
RATING_PRIOR = 5  # ratings needed before the average counts half
FRESHNESS_HALF_LIFE_DAYS = 30.0
TRENDING_HALF_LIFE_HOURS = 24.0
TRENDING_HORIZON = timedelta(days=7)
TRENDING_MAX = 20


def signals_boost(*, sales: int, rating_centi: int, rating_count: int, age_days: float) -> float:
    """1 + the weighted business signals: sales (saturating), a damped average rating and
    freshness halving every 30 days."""
    sales_signal = sales / (sales + SALES_HALF_POINT)
    rating_signal = (rating_centi / 500) * (rating_count / (rating_count + RATING_PRIOR))
    freshness = 0.5 ** (max(age_days, 0.0) / FRESHNESS_HALF_LIFE_DAYS)
    return (
        1.0
        + SALES_WEIGHT * sales_signal
        + RATING_WEIGHT * rating_signal
        + FRESHNESS_WEIGHT * freshness
    )


# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    category: str = ""
    price: str = ""
    era: str = ""
    craft: str = ""
    region: str = ""
    shop_type: str = ""
    sort: str = "relevance"
    page: int = 1
    page_size: int = PAGE_SIZE
    # True: search the words exactly as typed, no spelling correction ("search instead for").
    exact: bool = False

    def filters(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FACETS if getattr(self, name)}


@dataclass(frozen=True)
class FacetBucket:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    buckets: list[FacetBucket]


@dataclass
class SearchResult:
    params: SearchParams
    hits: list[Hit]
    total: int
    facets: list[Facet]
    relaxed: bool = False  # no product had every word; these have the words' parts
    # Few products had every word: these have most of them (those with every word first).
    partial: bool = False
    scores: dict[int, float] = field(default_factory=dict)
    # Spelling: ``suggestion`` is the query re-spelt with indexed words ("did you mean …?")
    # when that finds more; ``corrected`` says the hits are already the suggestion's, because
    # the query as typed found nothing (show "showing results for …, search instead for
    # <params.q>" with ``exact=True``).
    suggestion: str = ""
    corrected: bool = False
    # False when there are more matches than COUNT_CAP: ``total`` is then the cap (show
    # ``total_label``, "1200+").
    total_exact: bool = True

    @property
    def total_label(self) -> str:
        return f"{self.total}" if self.total_exact else f"{self.total}+"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, RESULT_WINDOW) / self.params.page_size))

    @property
    def next_page(self) -> int | None:
        return self.params.page + 1 if self.params.page < self.pages else None

    @property
    def previous_page(self) -> int | None:
        return self.params.page - 1 if self.params.page > 1 else None


def _en() -> bool:
    return (get_language() or "").startswith("en")


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """What the search reads of a category (the filter's subtree, the facet's labels)."""

    pk: int
    parent_id: int | None
    slug: str
    name_zh: str
    name_en: str


CATEGORY_TREE_KEY = "search:categories"
# A change bumps the key at once (categories_cache_clear, on commit); the timeout bounds a
# change made without signals (a bulk update) or, with the in-process cache, in another process.
CATEGORY_TREE_SECONDS = 60


def _categories() -> list[CategoryRow]:
    """The whole category tree in display order: tens of rows, which a results page uses both
    for the category filter and for the category facet's labels. The same for every request
    until a category changes, so kept in the cache (ADR 0056): a list page's statement fewer."""
    tree = cache.get(CATEGORY_TREE_KEY)
    if tree is None:
        tree = [
            CategoryRow(*row)
            for row in Category.objects.order_by("position", "id").values_list(
                "pk", "parent_id", "slug", "name_zh", "name_en"
            )
        ]
        cache.set(CATEGORY_TREE_KEY, tree, CATEGORY_TREE_SECONDS)
    return tree


def categories_cache_clear(**kwargs: Any) -> None:
    """A category was saved or deleted: the next request reads the tree again (connected in
    SearchConfig.ready). Dropped at once, for this transaction's own later reads, and again
    once the change is committed: a request in between may have kept the old tree."""
    cache.delete(CATEGORY_TREE_KEY)
    transaction.on_commit(lambda: cache.delete(CATEGORY_TREE_KEY))


def _category_ids(slug: str, categories: list[CategoryRow]) -> list[int]:
    """The category with this slug and all below it (walked in memory)."""
    root = next((c.pk for c in categories if c.slug == slug), None)
    if root is None:
        raise UnknownFacetValue(extra={"facet": "category", "value": slug})
    children: dict[int | None, list[int]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c.pk)
    ids, pending = [], [root]
    while pending:
        current = pending.pop()
        ids.append(current)
        pending.extend(children.get(current, []))
    return ids


def params_validate(params: SearchParams) -> None:
    """Raise a 4xx for anything the index cannot answer (unknown values are not "no hits":
    a typo in a link should say so)."""
    if len(params.q) > MAX_QUERY_CHARS:
        raise QueryTooLong(extra={"max": MAX_QUERY_CHARS})
    if params.sort not in SORTS:
        raise UnknownSort(extra={"sort": params.sort, "allowed": list(SORTS)})
    if not 1 <= params.page_size <= PAGE_SIZE_MAX:
        raise InvalidPage(extra={"field": "page_size", "min": 1, "max": PAGE_SIZE_MAX})
    if params.page < 1 or (params.page - 1) * params.page_size >= RESULT_WINDOW:
        raise InvalidPage(
            extra={"field": "page", "min": 1, "max": RESULT_WINDOW // params.page_size}
        )
    if params.price and params.price not in PriceBand.values:
        raise UnknownFacetValue(extra={"facet": "price", "value": params.price})
    if params.shop_type and params.shop_type not in ShopType.values:
        raise UnknownFacetValue(extra={"facet": "shop_type", "value": params.shop_type})
    for kind in ATTRIBUTE_FACETS:
        value = getattr(params, kind)
        if value and not Attribute.objects.filter(kind=kind, value_zh=value).exists():
            raise UnknownFacetValue(extra={"facet": kind, "value": value})


# --- querying -----------------------------------------------------------------------------------


def _visible(qs: QuerySet[SearchDocument] | None = None) -> QuerySet[SearchDocument]:
    qs = SearchDocument.objects.all() if qs is None else qs
    return qs.filter(
        product__status=Product.Status.LISTED, product__shop__status=Shop.Status.ACTIVE
    )


def _filtered(
    qs: QuerySet[SearchDocument], params: SearchParams, *, category_ids: list[int] | None, skip: str
) -> QuerySet[SearchDocument]:
    if category_ids is not None and skip != "category":
        qs = qs.filter(category_id__in=category_ids)
    if params.price and skip != "price":
        qs = qs.filter(price_band=params.price)
    if params.shop_type and skip != "shop_type":
        qs = qs.filter(shop_type=params.shop_type)
    for kind in ATTRIBUTE_FACETS:
        value = getattr(params, kind)
        if value and skip != kind:
            qs = qs.filter(backend_get().attribute_match(attribute_key(kind, value)))
    return qs


FACET_CACHE_SECONDS = 60
FACET_GENERATION_KEY = "search:facets:generation"
_FIELD_FACETS = {"category": "category_id", "price": "price_band", "shop_type": "shop_type"}


def facets_generation() -> int:
    """Bumped after every index write (see services); part of the facet cache key."""
    return int(cache.get(FACET_GENERATION_KEY) or 0)


def facets_generation_bump() -> None:
    try:
        cache.incr(FACET_GENERATION_KEY)
    except ValueError:
        cache.add(FACET_GENERATION_KEY, 1, timeout=None)


def _counts(qs: QuerySet[SearchDocument], names: list[str], kinds: list[str]) -> dict[str, Any]:
    """Counts per value of several document fields (``names``) and attribute kinds (most
    frequent value first) in one GROUP BY pass over the matches: grouped by the fields and the
    row's own ``attribute_values`` list, each group's count then added to every value of its
    list — no join to a table of facet values (ADR 0055). The groups are the distinct
    combinations among the matches (396 over all 100k documents of the bulk catalogue)."""
    columns = [_FIELD_FACETS[n] for n in names] + (["attribute_values"] if kinds else [])
    fields: dict[str, dict[Any, int]] = {n: defaultdict(int) for n in names}
    attributes: dict[str, dict[str, int]] = {k: defaultdict(int) for k in kinds}
    for *values, n in qs.order_by().values_list(*columns).annotate(n=Count("pk")):
        for name, value in zip(names, values, strict=False):
            if value is not None:
                fields[name][value] += n
        for key in values[-1] if kinds else ():
            kind, _, value = key.partition(":")
            if kind in attributes:
                attributes[kind][value] += n
    return {
        **{n: dict(v) for n, v in fields.items()},
        **{k: sorted(v.items(), key=lambda row: (-row[1], row[0])) for k, v in attributes.items()},
    }


def _facet_counts(
    matched: QuerySet[SearchDocument],
    params: SearchParams,
    category_ids: list[int] | None,
    *,
    match_key: str,
) -> dict[str, Any]:
    """Each facet counts under every filter but its own. Facets with no selected value share
    one filtered set, so they are counted together (one statement for the document fields and
    the attributes); a facet with a selected value gets its own.

    Each such group is cached on its own, under the match and the filters it was counted
    under: the category facet of a category browse counts under no filter at all, so the 12
    top-level categories share one count of it instead of each paying a GROUP BY over the
    whole index (ADR 0051). Counts do not depend on the language (labels are added after)."""
    counts: dict[str, Any] = {}
    shared = [n for n in FACETS if not getattr(params, n)]
    groups: list[tuple[str, list[str]]] = [("", shared)] + [
        (n, [n]) for n in FACETS if getattr(params, n)
    ]
    generation = facets_generation()
    filters = params.filters()
    keyed = []
    for skip, names in groups:
        if not names:
            continue
        applied = "|".join(f"{k}={v}" for k, v in sorted(filters.items()) if k != skip)
        raw = f"{match_key}|{','.join(names)}|{applied}"
        key = f"search:facets:{generation}:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
        keyed.append((key, skip, names))
    cached = cache.get_many([key for key, _skip, _names in keyed])  # one round trip
    for key, skip, names in keyed:
        found = cached.get(key)
        if found is None:
            qs = _filtered(matched, params, category_ids=category_ids, skip=skip)
            found = _counts(
                qs,
                [n for n in names if n in _FIELD_FACETS],
                [n for n in names if n in ATTRIBUTE_FACETS],
            )
            cache.set(key, found, FACET_CACHE_SECONDS)
        counts.update(found)
    return counts


def _facets(
    matched: QuerySet[SearchDocument],
    params: SearchParams,
    category_ids: list[int] | None,
    *,
    match_key: str,
    tree: list[CategoryRow],
) -> list[Facet]:
    en = _en()
    counts = _facet_counts(matched, params, category_ids, match_key=match_key)
    facets = []
    for name in FACETS:
        selected = getattr(params, name)
        buckets: list[FacetBucket] = []
        found = counts.get(name) or {}
        if name == "category":
            categories = [c for c in tree if c.pk in found]
            buckets = [
                FacetBucket(
                    c.slug,
                    (c.name_en if en and c.name_en else c.name_zh),
                    found[c.pk],
                    c.slug == selected,
                )
                for c in categories
            ]
        elif name == "price":
            buckets = [
                FacetBucket(str(band), str(label), found[band], band == selected)
                for band, label in PriceBand.choices
                if found.get(band)
            ]
        elif name == "shop_type":
            buckets = [
                FacetBucket(str(value), str(label), found[value], value == selected)
                for value, label in ShopType.choices
                if found.get(value)
            ]
        else:
            rows = found or []
            english = (
                dict(
                    Attribute.objects.filter(kind=name, value_zh__in=[v for v, _n in rows])
                    .exclude(value_en="")
                    .values_list("value_zh", "value_en")
                )
                if en and rows
                else {}
            )
            buckets = [
                FacetBucket(value, english.get(value, value), n, value == selected)
                for value, n in rows
            ]
        facets.append(Facet(name, str(FACET_LABELS[name]), buckets))
    return facets


@dataclass(frozen=True, slots=True)
class HitShop:
    slug: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class HitImage:
    pk: int
    product_id: int
    alt: str


@dataclass(frozen=True, slots=True)
class Hit:
    """What a result card (and the API's hit) shows of one product, read as one plain row:
    no model instances, no prefetch (ADR 0055). Attribute names follow the models', so the
    card template and ``localized`` read it as they read a product."""

    pk: int
    title_zh: str
    title_en: str
    shop: HitShop
    category_slug: str | None
    price_from_fen: int | None  # the cheapest variant, as indexed; None when 0
    image: HitImage | None  # the first image (by position)


def _first_image(column: str) -> Subquery:
    return Subquery(
        ProductImage.objects.filter(product_id=OuterRef("product_id"))
        .order_by("position", "id")
        .values(column)[:1]
    )


_HIT_COLUMNS = (
    "product_id",
    "product__title_zh",
    "product__title_en",
    "product__shop__slug",
    "product__shop__name_zh",
    "product__shop__name_en",
    "product__category__slug",
    "price_fen",
    "image_id",
    "image_alt",
)


def _hit_rows(qs: QuerySet[SearchDocument]) -> QuerySet[Any]:
    """The card columns of these documents' products, still live in the catalog (a delisting
    is invisible at once, before its event removes the document): one statement, the first
    image's id and alt text as correlated subqueries."""
    return (
        _visible(qs)
        .annotate(image_id=_first_image("id"), image_alt=_first_image("alt"))
        .values_list(*_HIT_COLUMNS)
    )


def _hit(row: tuple[Any, ...]) -> Hit:
    pk, title_zh, title_en, slug, name_zh, name_en, category, price, image_id, alt = row
    return Hit(
        pk=pk,
        title_zh=title_zh,
        title_en=title_en,
        shop=HitShop(slug, name_zh, name_en),
        category_slug=category,
        price_from_fen=price or None,
        image=HitImage(image_id, pk, alt) if image_id is not None else None,
    )


def _hits(ids: list[int]) -> list[Hit]:
    """The cards of these products, in that order, leaving out those delisted since they were
    indexed (the page and the prices are the index's; the titles, shop and image the
    catalog's)."""
    by_id = {row[0]: row for row in _hit_rows(SearchDocument.objects.filter(pk__in=ids))}
    return [_hit(by_id[pk]) for pk in ids if pk in by_id]


# --- browsing without words: prepared SQL (ADR 0056) --------------------------------------------
#
# A list page (a category, a sort, a page, no words) is the catalogue's most frequent request.
# Its two statements — the capped count and the page with its cards — were built by the ORM on
# every request (a queryset per filter, then compiling it: ~1 ms of CPU). The text of each is
# fixed by the shape of the filters (how many category ids, which facets are set, the sort),
# so it is written once per shape here and only the values change. It is the statements the
# ORM wrote (``_count``, ``_hit_rows``); attribute filters are the backend's own fragment.

# The table keeps its name (no alias): the backends' attribute fragments are written over it.
_D = SearchDocument._meta.db_table
_BROWSE_ORDER = {
    "relevance": f"{_D}.sales_count DESC, {_D}.listed_at DESC, {_D}.product_id DESC",
    "newest": f"{_D}.listed_at DESC, {_D}.product_id DESC",
    "price_asc": f"{_D}.price_fen ASC, {_D}.product_id DESC",
    "price_desc": f"{_D}.price_fen DESC, {_D}.product_id DESC",
    "sales": f"{_D}.sales_count DESC, {_D}.listed_at DESC, {_D}.product_id DESC",
}


def _browse_filters(
    params: SearchParams, category_ids: list[int] | None
) -> tuple[tuple[Any, ...], list[Any]]:
    """The shape of a browse's filters (what its SQL text depends on) and their values."""
    shape: list[Any] = []
    values: list[Any] = []
    if category_ids is not None:
        shape.append(("category", len(category_ids)))
        values.extend(category_ids)
    if params.price:
        shape.append("price")
        values.append(params.price)
    if params.shop_type:
        shape.append("shop_type")
        values.append(params.shop_type)
    backend = backend_get()
    for kind in ATTRIBUTE_FACETS:
        value = getattr(params, kind)
        if value:
            match = backend.attribute_match(attribute_key(kind, value))
            shape.append(("attribute", match.sql))
            values.extend(match.params)
    return tuple(shape), values


@functools.lru_cache(maxsize=256)
def _browse_where(shape: tuple[Any, ...]) -> str:
    conditions = []
    for part in shape:
        if part == "price":
            conditions.append(f"{_D}.price_band = %s")
        elif part == "shop_type":
            conditions.append(f"{_D}.shop_type = %s")
        elif part[0] == "category":
            conditions.append(f"{_D}.category_id IN ({', '.join(['%s'] * part[1])})")
        else:  # the backend's own fragment (over the table's name)
            conditions.append(f"({part[1]})")
    return " AND ".join(conditions) or "1 = 1"


@functools.lru_cache(maxsize=256)
def _browse_count_sql(shape: tuple[Any, ...]) -> str:
    return (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {_D}"  # noqa: S608  # names only
        f" WHERE {_browse_where(shape)} LIMIT %s) capped"
    )


def _browse_count(params: SearchParams, category_ids: list[int] | None) -> tuple[int, bool]:
    """``_count`` of a browse without words: (matches, exact), capped past the window."""
    shape, values = _browse_filters(params, category_ids)
    with connection.cursor() as cursor:
        cursor.execute(_browse_count_sql(shape), [*values, COUNT_CAP + 1])
        (n,) = cursor.fetchone()
    return min(n, COUNT_CAP), n <= COUNT_CAP


@functools.lru_cache(maxsize=256)
def _browse_rows_sql(shape: tuple[Any, ...], sort: str) -> str:
    product, shop, category, image = (
        model._meta.db_table for model in (Product, Shop, Category, ProductImage)
    )
    first = f"FROM {image} i WHERE i.product_id = {_D}.product_id ORDER BY i.position, i.id LIMIT 1"
    # The columns of _HIT_COLUMNS, in that order.
    return (
        f"SELECT {_D}.product_id, p.title_zh, p.title_en, s.slug, s.name_zh, s.name_en, c.slug,"  # noqa: S608  # names only
        f" {_D}.price_fen, (SELECT i.id {first}), (SELECT i.alt {first})"
        f" FROM {_D} JOIN {product} p ON p.id = {_D}.product_id"
        f" JOIN {shop} s ON s.id = p.shop_id LEFT JOIN {category} c ON c.id = p.category_id"
        f" WHERE {_browse_where(shape)} AND p.status = %s AND s.status = %s"
        f" ORDER BY {_BROWSE_ORDER[sort]} LIMIT %s OFFSET %s"
    )


def _browse_rows(
    params: SearchParams, category_ids: list[int] | None, *, start: int
) -> list[tuple[Any, ...]]:
    """One page of a browse without words as ``_hit_rows`` reads it (the catalog's live status
    part of the statement, so the page is full even right after a delisting)."""
    shape, values = _browse_filters(params, category_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            _browse_rows_sql(shape, params.sort),
            [
                *values,
                Product.Status.LISTED.value,
                Shop.Status.ACTIVE.value,
                params.page_size,
                start,
            ],
        )
        return cursor.fetchall()


def _reranked(
    matched: QuerySet[SearchDocument],
    terms: list[QueryTerm],
    *,
    relaxed: bool,
    matches: int | None = None,
    min_match: int | None = None,
    limit: int = RERANK_WINDOW,
) -> list[tuple[int, float, int | None]]:
    """(id, score, price or None past the head) of the best text matches, best first: the
    first RERANK_HEAD re-ranked with the business signals, the rest of the window behind them
    in the backend's order."""
    now = clock.now()
    top = backend_get().top(
        matched, terms, relaxed=relaxed, limit=limit, matches=matches, min_match=min_match
    )
    head, rest = top[:RERANK_HEAD], top[RERANK_HEAD:]
    signals = {
        row[0]: row[1:]
        for row in SearchDocument.objects.filter(pk__in=[pk for pk, _text in head]).values_list(
            "pk", "sales_count", "rating_centi", "rating_count", "listed_at", "price_fen"
        )
    }
    rows = [(pk, text, *signals[pk]) for pk, text in head if pk in signals]
    best = max((abs(r[1] or 0.0) for r in rows), default=0.0) or 1.0
    scored = [
        (
            pk,
            (abs(text or 0.0) / best)
            * signals_boost(
                sales=sales,
                rating_centi=rating,
                rating_count=rating_count,
                age_days=(now - listed_at).total_seconds() / 86400,
            ),
            price,
        )
        for pk, text, sales, rating, rating_count, listed_at, price in rows
    ]
    scored.sort(key=lambda item: (-item[1], -item[0]))
    # Behind the head: below its lowest score, in the backend's order.
    floor = min((score for _pk, score, _price in scored), default=0.0)
    return scored + [(pk, floor * 0.5, None) for pk, _text in rest]


class _VocabularyLookup:
    """The spelling corrector's view of the vocabulary: two indexed lookups per query."""

    def known(self, tokens: set[str]) -> set[str]:
        if not tokens:
            return set()
        return set(
            SearchVocabulary.objects.filter(token__in=sorted(tokens), documents__gt=0).values_list(
                "token", flat=True
            )
        )

    def by_keys(self, keys: set[str]) -> list[VocabularyEntry]:
        if not keys:
            return []
        tokens = SearchSpellingKey.objects.filter(key__in=sorted(keys)).values("token")
        rows = SearchVocabulary.objects.filter(token__in=tokens, documents__gt=0).values_list(
            "token", "documents"
        )
        return [VocabularyEntry(token, documents) for token, documents in rows]


def search_spelling(q: str) -> str | None:
    """The query re-spelt towards indexed words (景泰兰 → 景泰蓝, scraf → scarf), or None."""
    if not q.strip() or len(q) > MAX_QUERY_CHARS:
        return None
    return spelling_correct(q, _VocabularyLookup())


def _match_key(terms: list[QueryTerm], *, relaxed: bool, min_match: int | None) -> str:
    """What the facet counts depend on besides the filters: the match (not sort or page)."""
    text = "|".join("/".join((t.word, *t.alternatives)) for t in terms)
    return f"{text}|{int(relaxed)}|{min_match}"


def _count(results: QuerySet[SearchDocument]) -> tuple[int, bool]:
    """(matches, exact): counted up to one past the result window, which is all a shopper can
    page through; past it the page says "1200+" instead of paying for every match."""
    n = results.order_by().values("pk")[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n <= COUNT_CAP


@dataclass
class _Match:
    terms: list[QueryTerm]
    relaxed: bool
    indexed: QuerySet[SearchDocument]  # the text match alone (what the facets count)
    # With the filters; None for a browse without words, whose count and page are read in
    # prepared SQL instead (_browse_count, _browse_rows).
    results: QuerySet[SearchDocument] | None
    total: int
    exact: bool
    # Set when not every word had to match: at least this many of the terms did.
    min_match: int | None = None
    # Not every word of the query (some dropped, or min_match set): said on the page.
    partial: bool = False


def _match(
    terms: list[QueryTerm],
    params: SearchParams,
    category_ids: list[int] | None,
    *,
    relaxed: bool = False,
    min_match: int | None = None,
) -> _Match:
    indexed = SearchDocument.objects.all()
    if not terms:
        total, exact = _browse_count(params, category_ids)
        return _Match(terms, relaxed, indexed, None, total, exact, min_match)
    indexed = indexed.filter(backend_get().match(terms, relaxed=relaxed, min_match=min_match))
    results = _filtered(indexed, params, category_ids=category_ids, skip="")
    total, exact = _count(results)
    return _Match(terms, relaxed, indexed, results, total, exact, min_match)


def _partial(found: _Match, params: SearchParams, category_ids: list[int] | None) -> _Match | None:
    """Best partial matching of a query of several words that too few products match in
    full ("送给妈妈的真丝丝巾"): the products with at least k of the n words — the last, the
    phrase's head (丝巾), always among them while some product has it — for the largest k
    that finds PARTIAL_FEW (or else the most) products. Ranking puts more words first."""
    terms = _partial_terms(found.terms, relaxed=found.relaxed)
    best: _Match | None = None
    if len(terms) < len(found.terms):  # what is left of the words, every one of them first
        level = _match(terms, params, category_ids, relaxed=found.relaxed)
        level.partial = True
        if level.total > found.total:
            best = level
        if level.total >= PARTIAL_FEW:
            return best
    for k in partial_levels(len(terms)):
        level = _match(terms, params, category_ids, relaxed=found.relaxed, min_match=k)
        level.partial = True
        if level.total > (best.total if best else found.total):
            best = level
        if level.total >= PARTIAL_FEW:
            break
    return best


# Particles that carry no product meaning: left out of a partial match (a lone Han character
# is a prefix search, and 的:* costs a large GIN scan for nothing).
PARTIAL_PARTICLES = frozenset("的之地得了着和与及或给把被让在是很也都就吗呢吧啊")


def _partial_terms(terms: list[QueryTerm], *, relaxed: bool) -> list[QueryTerm]:
    """The words a partial match is built from: not particles, and not words no indexed
    product carries (送给, 妈妈) — one vocabulary lookup; with no vocabulary, all of them."""
    terms = [t for t in terms if t.word not in PARTIAL_PARTICLES] or terms
    exact = [t for t in terms if not t.prefix]
    tokens = {a for t in exact for a in (*t.alternatives, *(t.relaxed if relaxed else ()))}
    if not tokens or not SearchVocabulary.objects.exists():
        return terms
    known = _VocabularyLookup().known(tokens)
    kept = [
        t
        for t in terms
        if t.prefix or known.intersection((*t.alternatives, *(t.relaxed if relaxed else ())))
    ]
    return kept or terms


def _partial_ranked(found: _Match) -> list[tuple[int, float, int | None]]:
    """A partial match ranked level by level: the products with every word, then those
    missing one, and so on; within a level by text relevance and the business signals."""
    out: list[tuple[int, float, int | None]] = []
    seen: set[int] = set()
    levels = partial_levels(len(found.terms))
    levels = [
        len(found.terms),
        *(levels[: levels.index(found.min_match) + 1] if found.min_match is not None else []),
    ]
    backend = backend_get()
    for position, level in enumerate(levels):
        if len(out) >= RERANK_WINDOW:
            break
        matched = found.results.filter(
            backend.match(found.terms, relaxed=found.relaxed, min_match=level)
        )
        if seen:
            matched = matched.exclude(pk__in=seen)
        ranked = _reranked(
            matched,
            found.terms,
            relaxed=found.relaxed,
            min_match=-1,  # ranked by every word it has (an OR of them all)
            limit=RERANK_WINDOW - len(out),
        )
        # Scores stay comparable across levels: every product of a level above any below.
        rank = len(levels) - position
        out.extend((pk, rank + score / (1 + score), price) for pk, score, price in ranked)
        seen.update(pk for pk, _score, _price in ranked)
    return out


def search_run(params: SearchParams, *, facets: bool = True) -> SearchResult:
    """Search listed products: text + filters, facet counts (unless ``facets`` is False, for
    rows that show no sidebar), one sorted page.

    A product is searchable while its document exists: the outbox path deletes it on a
    delisting or when the shop is no longer active, so counting and ranking read only
    ``search_document`` (no join to the catalog). The page itself is checked against the
    catalog's live status, so a product delisted a moment ago — before its event is delivered
    — is never shown."""
    params_validate(params)
    tree = _categories() if params.category or facets else []
    category_ids = _category_ids(params.category, tree) if params.category else None
    terms = query_terms(params.q) if params.q.strip() else []
    backend = backend_get()
    suggestion, corrected = "", False
    with backend.planned(text=bool(terms)):
        found = _match(terms, params, category_ids)
        if terms and found.total < SPELLING_FEW and not params.exact:
            respelt = search_spelling(params.q)
            respelt_terms = query_terms(respelt) if respelt else []
            if respelt_terms:
                other = _match(respelt_terms, params, category_ids)
                if not other.total and any(t.relaxed for t in respelt_terms):
                    other = _match(respelt_terms, params, category_ids, relaxed=True)
                if other.total > found.total:
                    suggestion = respelt or ""
                    if not found.total:  # nothing as typed: show the correction's products
                        found, corrected = other, True
        if found.terms and not found.total and any(t.relaxed for t in found.terms):
            found = _match(found.terms, params, category_ids, relaxed=True)
        if len(found.terms) > 1 and found.total < PARTIAL_FEW and not params.exact:
            found = _partial(found, params, category_ids) or found
        start = (params.page - 1) * params.page_size
        # A few more than the page, in case some were delisted a moment ago (see _hits).
        end = start + params.page_size + PAGE_SLACK
        scores: dict[int, float] = {}
        if params.sort == "relevance" and found.terms:
            ranked = (
                _partial_ranked(found)
                if found.partial
                else _reranked(
                    found.results, found.terms, relaxed=found.relaxed, matches=found.total
                )
            )
            window = ranked[start:end]
            scores = {pk: score for pk, score, _price in window}
            hits = _hits([pk for pk, _score, _price in window])
        else:
            order = {  # as _BROWSE_ORDER
                "relevance": ("-sales_count", "-listed_at", "-pk"),
                "newest": ("-listed_at", "-pk"),
                "price_asc": ("price_fen", "-pk"),
                "price_desc": ("-price_fen", "-pk"),
                "sales": ("-sales_count", "-listed_at", "-pk"),
            }[params.sort]
            # Browsing picks the page and reads its cards in one statement; the catalog's live
            # status is part of it, so the page is full even right after a delisting.
            if found.results is None:
                page = _browse_rows(params, category_ids, start=start)
            else:
                page = _hit_rows(found.results.order_by(*order))[start : start + params.page_size]
            hits = [_hit(row) for row in page]
        # The facet counts read every match, so they run under the same plan settings as the
        # match itself: outside them PostgreSQL scanned (and de-TOASTed) all 100k vectors for
        # each of the two counting statements, 250–370 ms apiece for a broad query.
        facet_list = (
            _facets(
                found.indexed,
                params,
                category_ids,
                match_key=_match_key(found.terms, relaxed=found.relaxed, min_match=found.min_match),
                tree=tree,
            )
            if facets
            else []
        )
    return SearchResult(
        params=params,
        hits=hits[: params.page_size],
        total=found.total,
        facets=facet_list,
        relaxed=found.relaxed,
        partial=found.partial,
        scores=scores,
        suggestion=suggestion,
        corrected=corrected,
        total_exact=found.exact,
    )


# --- suggestions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    text: str
    text_en: str
    source: str
    product_id: int | None


SUGGEST_MAX = 10
_SOURCE_ORDER = {"attribute": 0, "category": 1, "tag": 2, "shop": 3, "title": 4}


def search_suggest(*, q: str, limit: int = 8) -> list[Suggestion]:
    """Completions of what is being typed: terms and titles starting with it, or whose pinyin
    or pinyin initials start with it (``qhc`` → 青花瓷)."""
    if not 1 <= limit <= SUGGEST_MAX:
        raise InvalidPage(extra={"field": "limit", "min": 1, "max": SUGGEST_MAX})
    if len(q) > MAX_QUERY_CHARS:
        raise QueryTooLong(extra={"max": MAX_QUERY_CHARS})
    text = " ".join(normalize(q).split())
    compact = text.replace(" ", "")
    if not compact:
        return []
    condition = Q(normalized__startswith=text)
    if compact.isascii() and compact.isalnum():
        condition |= (
            Q(pinyin__startswith=compact)
            | Q(initials__startswith=compact)
            | Q(text_en__istartswith=q.strip())
        )
    rows = list(
        SearchTerm.objects.filter(condition)
        .filter(Q(product__isnull=True) | Q(product__product__status=Product.Status.LISTED))
        .order_by("-weight", "normalized")
        .values_list("text", "text_en", "source", "product_id")[: limit * 4]
    )
    rows.sort(key=lambda r: (_SOURCE_ORDER.get(r[2], 9), len(r[0])))
    out: list[Suggestion] = []
    seen: set[str] = set()
    for text_zh, text_en, source, product_id in rows:
        if text_zh in seen:
            continue
        seen.add(text_zh)
        out.append(Suggestion(text_zh, text_en, source, product_id))
        if len(out) >= limit:
            break
    return out


# --- trending -----------------------------------------------------------------------------------


def _decayed(kind: str, *, now: datetime) -> list[tuple[str, float]]:
    scores: dict[str, float] = defaultdict(float)
    rows = SearchActivity.objects.filter(kind=kind, hour__gte=now - TRENDING_HORIZON).values_list(
        "key", "hour", "count"
    )
    for key, hour, count in rows:
        age_hours = max((now - hour).total_seconds() / 3600, 0.0)
        scores[key] += count * 0.5 ** (age_hours / TRENDING_HALF_LIFE_HOURS)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Trending:
    queries: list[tuple[str, float]]
    products: list[Hit]


def search_trending(*, limit: int = 8, now: datetime | None = None) -> Trending:
    """The most searched queries and most viewed products lately (counts halving daily)."""
    if not 1 <= limit <= TRENDING_MAX:
        raise InvalidPage(extra={"field": "limit", "min": 1, "max": TRENDING_MAX})
    now = now or clock.now()
    queries = _decayed(SearchActivity.Kind.QUERY, now=now)[:limit]
    ranked = [int(key) for key, _score in _decayed(SearchActivity.Kind.PRODUCT, now=now)]
    return Trending(queries=queries, products=_hits(ranked[: limit * 3])[:limit])


# --- home zones ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    slug: str
    title: Any
    title_en: str
    blurb: Any
    params: dict[str, str]


ZONES = (
    Zone(
        "song",
        _("宋代美学"),
        "Song aesthetics",
        _("天青釉色、点茶焚香、挂画插花——宋人的极简与雅致。"),
        {"era": "宋代"},
    ),
    Zone(
        "heritage",
        _("非遗手作"),
        "Intangible heritage",
        _("每件作品都署上匠人的名字，讲清技艺的来处。"),
        {"shop_type": "heritage_workshop"},
    ),
    Zone(
        "museum",
        _("博物馆文创"),
        "Museum creations",
        _("从馆藏纹样到限量复刻，把千年故事带进日常。"),
        {"shop_type": "museum"},
    ),
    Zone(
        "guochao",
        _("国潮设计"),
        "Guochao design",
        _("年轻设计师用当代语言重写传统纹样。"),
        {"q": "国潮"},
    ),
)


@dataclass(frozen=True)
class ZoneRow:
    zone: Zone
    products: list[Hit]
    total: int


def zones_home(*, per_zone: int = 8) -> list[ZoneRow]:
    """Each themed zone as a saved search: its best products, newest first among equals."""
    rows = []
    for zone in ZONES:
        params = SearchParams(**zone.params, page_size=per_zone)  # type: ignore[arg-type]
        try:
            result = search_run(params, facets=False)
        except UnknownFacetValue:  # an attribute an operator removed: the zone is just empty
            rows.append(ZoneRow(zone, [], 0))
            continue
        rows.append(ZoneRow(zone, result.hits, result.total))
    return rows
