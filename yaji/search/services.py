"""Writes of the search index. The index is derived data: every function here recomputes
from the catalog's current state, so running one twice, or out of order, gives the same index.

The catalog's outbox events (listed, delisted, updated) call :func:`search_document_refresh`
for the product; ``yaji search-reindex`` calls :func:`search_index_rebuild`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Min, Prefetch, QuerySet

from yaji.catalog.models import Attribute, Category, Product, Shop, Tag
from yaji.catalog.page_cache import LISTS, page_versions_bump
from yaji.core import clock
from yaji.core.models import OutboxEvent
from yaji.core.outbox import outbox_subscribe
from yaji.search.analysis import (
    VOCABULARY_TOKEN_MAX,
    document_text,
    is_han,
    normalize,
    pinyin_full,
    pinyin_initials,
    query_normalized,
    spelling_keys,
)
from yaji.search.backends import IndexRow, attribute_key, backend_get
from yaji.search.errors import SearchValidationFailed
from yaji.search.models import (
    SearchActivity,
    SearchDocument,
    SearchSpellingKey,
    SearchTerm,
    SearchVocabulary,
    price_band_of,
)
from yaji.search.selectors import facets_generation_bump, signals_boost

logger = logging.getLogger(__name__)

# Events after which a product's document is recomputed (a topic nobody publishes is harmless).
PRODUCT_TOPICS = (
    "catalog.product_listed",
    "catalog.product_delisted",
    "catalog.product_updated",
)
SHOP_TOPICS = ("catalog.shop_suspended", "catalog.shop_reinstated")
# Long stories add little to recall past their opening; cap what is segmented per field.
BODY_FIELD_CHARS = 3000
BATCH = 200


# --- building documents -------------------------------------------------------------------------


def _source_qs() -> QuerySet[Product]:
    # Read-only use of the catalog's models: search derives its index from them.
    return (
        Product.objects.select_related("shop", "category", "category__parent")
        .prefetch_related(
            Prefetch("attributes", queryset=Attribute.objects.order_by("kind", "id")),
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
        )
        .annotate(min_price_fen=Min("variants__price_fen"))
    )


def _searchable(product: Product) -> bool:
    return product.status == Product.Status.LISTED and product.shop.status == Shop.Status.ACTIVE


def _texts(product: Product) -> tuple[str, str]:
    title = " ".join(t for t in (product.title_zh, product.title_en) if t)
    parts: list[str] = [
        product.story_zh[:BODY_FIELD_CHARS],
        product.story_en[:BODY_FIELD_CHARS],
        product.designer_notes[:BODY_FIELD_CHARS],
        product.shop.name_zh,
        product.shop.name_en,
        product.shop.region,
    ]
    category = product.category
    while category is not None:
        parts += [category.name_zh, category.name_en]
        category = category.parent
    for attribute in product.attributes.all():
        parts += [attribute.value_zh, attribute.value_en]
    parts += [tag.name for tag in product.tags.all()]
    return title, "\n".join(p for p in parts if p)


def _attribute_values(product: Product) -> list[str]:
    """Every attribute value of the product as ``kind:value``, sorted and distinct: what the
    attribute facets filter and count on (the document row itself, ADR 0055)."""
    return sorted({attribute_key(a.kind, a.value_zh) for a in product.attributes.all()})


def _spelled(text: str) -> tuple[str, str, str]:
    """(normalised, full pinyin, initials) of a suggestion's text; non-Han pieces kept."""
    norm = " ".join(normalize(text).split())[:120]
    full: list[str] = []
    initials: list[str] = []
    for ch in norm:
        if is_han(ch):
            full.append(pinyin_full(ch))
            initials.append(pinyin_initials(ch))
        elif ch.isascii() and ch.isalnum():
            full.append(ch)
            initials.append(ch)
    return norm, "".join(full)[:240], "".join(initials)[:120]


def _title_term(document: SearchDocument, product: Product) -> SearchTerm:
    norm, full, initials = _spelled(product.title_zh)
    return SearchTerm(
        source=SearchTerm.Source.TITLE,
        text=product.title_zh[:120],
        text_en=product.title_en[:120],
        normalized=norm,
        pinyin=full,
        initials=initials,
        weight=1 + document.sales_count,
        product=document,
    )


def _vocabulary_term(source: str, text: str, text_en: str = "", weight: int = 1) -> SearchTerm:
    norm, full, initials = _spelled(text)
    return SearchTerm(
        source=source,
        text=text[:120],
        text_en=text_en[:120],
        normalized=norm,
        pinyin=full,
        initials=initials,
        weight=weight,
    )


def _vocabulary_of(product: Product) -> list[SearchTerm]:
    terms = [_vocabulary_term(SearchTerm.Source.SHOP, product.shop.name_zh, product.shop.name_en)]
    if product.category is not None:
        terms.append(
            _vocabulary_term(
                SearchTerm.Source.CATEGORY, product.category.name_zh, product.category.name_en
            )
        )
    terms += [
        _vocabulary_term(SearchTerm.Source.ATTRIBUTE, a.value_zh, a.value_en)
        for a in product.attributes.all()
    ]
    terms += [_vocabulary_term(SearchTerm.Source.TAG, t.name) for t in product.tags.all()]
    return terms


def _index_products(products: list[Product]) -> dict[int, set[str]]:
    """Write the documents (attribute values included), suggestions and full-text rows of searchable products;
    returns the distinct tokens of each document written."""
    if not products:
        return {}
    now = clock.now()
    documents = []
    rows = []
    signals = {
        pk: (sales, rating, count)
        for pk, sales, rating, count in SearchDocument.objects.filter(
            pk__in=[p.pk for p in products]
        ).values_list("pk", "sales_count", "rating_centi", "rating_count")
    }
    for product in products:
        title, body = _texts(product)
        price = int(product.min_price_fen or 0)
        listed_at = product.listed_at or product.created_at
        sales, rating, rating_count = signals.get(product.pk, (0, 0, 0))
        documents.append(
            SearchDocument(
                product_id=product.pk,
                shop_id=product.shop_id,
                category_id=product.category_id,
                shop_type=product.shop.shop_type,
                title_tokens=document_text(title),
                body_tokens=document_text(body),
                price_fen=price,
                price_band=price_band_of(price),
                listed_at=listed_at,
                signals_score=_signals_score(
                    sales=sales, rating_centi=rating, rating_count=rating_count, listed_at=listed_at
                ),
                attribute_values=_attribute_values(product),
                created_at=now,
                updated_at=now,
            )
        )
    SearchDocument.objects.bulk_create(
        documents,
        update_conflicts=True,
        unique_fields=["product"],
        # The business signals are not the catalog's: a refresh keeps them.
        update_fields=[
            "shop",
            "category",
            "shop_type",
            "title_tokens",
            "body_tokens",
            "price_fen",
            "price_band",
            "listed_at",
            "signals_score",
            "attribute_values",
            "updated_at",
        ],
    )
    ids = [p.pk for p in products]
    by_id = SearchDocument.objects.in_bulk(ids)
    SearchTerm.objects.filter(product_id__in=ids).delete()
    SearchTerm.objects.bulk_create([_title_term(by_id[p.pk], p) for p in products])
    vocabulary = {(t.source, t.normalized): t for p in products for t in _vocabulary_of(p)}
    SearchTerm.objects.bulk_create(list(vocabulary.values()), ignore_conflicts=True)
    for document in by_id.values():
        rows.append(IndexRow(document.pk, document.title_tokens, document.body_tokens))
    backend_get().index(rows)
    return {d.product_id: _token_set(d.title_tokens, d.body_tokens) for d in documents}


def _signals_score(
    *, sales: int, rating_centi: int, rating_count: int, listed_at: datetime
) -> float:
    return signals_boost(
        sales=sales,
        rating_centi=rating_centi,
        rating_count=rating_count,
        age_days=(clock.now() - listed_at).total_seconds() / 86400,
    )


def _token_set(title_tokens: str, body_tokens: str) -> set[str]:
    return set(title_tokens.split()) | set(body_tokens.split())


def _indexed_token_sets(product_ids: list[int]) -> dict[int, set[str]]:
    """The tokens each of these documents carries now, rows locked (PostgreSQL) so that two
    refreshes of one product count its change once."""
    rows = (
        SearchDocument.objects.select_for_update()
        .filter(product_id__in=product_ids)
        .order_by("pk")
        .values_list("pk", "title_tokens", "body_tokens")
    )
    return {pk: _token_set(title, body) for pk, title, body in rows}


def _remove(product_ids: Iterable[int]) -> int:
    ids = list(product_ids)
    if not ids:
        return 0
    backend_get().remove(ids)
    deleted, _ = SearchDocument.objects.filter(product_id__in=ids).delete()
    return deleted


def _refresh(product_ids: list[int], *, vocabulary: bool = True) -> None:
    # Cached facet counts are keyed by the index generation: a write retires them now and
    # again on commit (so nothing counted from the uncommitted state outlives the commit).
    facets_generation_bump()
    transaction.on_commit(facets_generation_bump)
    page_versions_bump(LISTS)  # cached list pages (ADR 0037), after the commit
    before = _indexed_token_sets(product_ids) if vocabulary else {}
    products = list(_source_qs().filter(pk__in=product_ids))
    searchable = [p for p in products if _searchable(p)]
    keep = {p.pk for p in searchable}
    _remove(pk for pk in product_ids if pk not in keep)
    after = _index_products(searchable)
    if vocabulary:
        change: Counter[str] = Counter()
        for tokens in after.values():
            change.update(tokens)
        for tokens in before.values():
            change.subtract(tokens)
        vocabulary_apply(change)


# --- the spelling vocabulary --------------------------------------------------------------------

_VOCABULARY_UPSERT = (
    "INSERT INTO search_vocabulary (token, documents, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (token) DO UPDATE SET "
    "documents = search_vocabulary.documents + excluded.documents, "
    "updated_at = excluded.updated_at"
)
_CHUNK = 500  # parameters per IN (...), well under SQLite's limit


def _spelling_key_rows(tokens: Iterable[str]) -> list[SearchSpellingKey]:
    return [SearchSpellingKey(key=key, token=t) for t in tokens for key in spelling_keys(t)]


def vocabulary_apply(change: Counter[str]) -> None:
    """Add a difference in documents per token to the vocabulary (inside the caller's
    transaction). The upsert adds in the database, so concurrent writers do not lose counts;
    tokens are taken in sorted order, so two writers never wait on each other in a cycle."""
    changes = sorted(
        (token, n) for token, n in change.items() if n and len(token) <= VOCABULARY_TOKEN_MAX
    )
    if not changes:
        return
    added = [token for token, n in changes if n > 0]
    existing: set[str] = set()
    for start in range(0, len(added), _CHUNK):
        existing.update(
            SearchVocabulary.objects.filter(token__in=added[start : start + _CHUNK]).values_list(
                "token", flat=True
            )
        )
    now = clock.now()
    with connection.cursor() as cursor:
        cursor.executemany(_VOCABULARY_UPSERT, [(token, n, now, now) for token, n in changes])
    # A token seen for the first time gets its lookup keys (a racing writer adding the same
    # ones is absorbed by the unique key).
    SearchSpellingKey.objects.bulk_create(
        _spelling_key_rows(t for t in added if t not in existing),
        ignore_conflicts=True,
        batch_size=1000,
    )


@transaction.atomic
def vocabulary_recount() -> int:
    """Rebuild the spelling vocabulary from the full-text index itself (exact counts, tokens no
    document carries any more dropped). Returns the number of tokens."""
    counted = [
        (token, n)
        for token, n in backend_get().vocabulary()
        if n > 0 and len(token) <= VOCABULARY_TOKEN_MAX
    ]
    SearchSpellingKey.objects.all().delete()
    SearchVocabulary.objects.all().delete()
    now = clock.now()
    SearchVocabulary.objects.bulk_create(
        [
            SearchVocabulary(token=t, documents=n, created_at=now, updated_at=now)
            for t, n in counted
        ],
        batch_size=1000,
    )
    SearchSpellingKey.objects.bulk_create(
        _spelling_key_rows(t for t, _n in counted), ignore_conflicts=True, batch_size=1000
    )
    return len(counted)


@transaction.atomic
def search_document_refresh(*, product_id: int) -> bool:
    """Bring one product's document in line with the catalog: indexed while it is listed in an
    active shop, absent otherwise. Returns whether it is searchable now."""
    _refresh([product_id])
    return SearchDocument.objects.filter(product_id=product_id).exists()


@transaction.atomic
def search_shop_refresh(*, shop_id: int) -> int:
    """Bring every product of one shop in line with the catalog (after a suspension or a
    reinstatement): a suspended shop's documents go, an active shop's listed products come
    back. Returns how many of its products are searchable now."""
    ids = list(Product.objects.filter(shop_id=shop_id).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        _refresh(ids[start : start + BATCH])
    return SearchDocument.objects.filter(product__shop_id=shop_id).count()


def _searchable_ids() -> list[int]:
    return list(
        Product.objects.filter(status=Product.Status.LISTED, shop__status=Shop.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def search_index_rebuild(
    *, batch_size: int = BATCH, on_start: Callable[[int], Any] | None = None
) -> Iterator[int]:
    """Rebuild the whole index from the catalog, one short transaction per batch; yields the
    number of products done after each batch. Idempotent: stale documents are dropped, the rest
    replaced, the vocabulary recounted. Searching keeps working while it runs."""
    ids = _searchable_ids()
    if on_start is not None:
        on_start(len(ids))
    with transaction.atomic():
        stale = SearchDocument.objects.exclude(product_id__in=ids).values_list("pk", flat=True)
        _remove(list(stale))
        backend_get().prune()
    done = 0
    for start in range(0, len(ids), max(1, batch_size)):
        batch = ids[start : start + batch_size]
        with transaction.atomic():
            # The spelling vocabulary is recounted once at the end instead of per batch.
            _refresh(batch, vocabulary=False)
        done += len(batch)
        yield done
    vocabulary_rebuild()
    vocabulary_recount()


@transaction.atomic
def vocabulary_rebuild() -> int:
    """Recreate the non-title suggestions from what the indexed products use, weighted by how
    many of them use it. Returns the number of terms."""
    SearchTerm.objects.filter(product__isnull=True).delete()
    docs = SearchDocument.objects.all()
    terms: dict[tuple[str, str], SearchTerm] = {}

    def add(term: SearchTerm) -> None:
        key = (term.source, term.normalized)
        if key in terms:
            terms[key].weight += term.weight
        elif term.normalized:
            terms[key] = term

    counts = docs.values("category_id").annotate(n=Count("pk"))
    names = Category.objects.in_bulk([c["category_id"] for c in counts if c["category_id"]])
    for row in counts:
        category = names.get(row["category_id"])
        if category is not None:
            add(_vocabulary_term("category", category.name_zh, category.name_en, row["n"]))
    shop_counts = dict(docs.values_list("shop_id").annotate(n=Count("pk")))
    for shop in Shop.objects.filter(pk__in=list(shop_counts)):
        add(_vocabulary_term("shop", shop.name_zh, shop.name_en, shop_counts[shop.pk]))
    attribute_counts = (
        Attribute.objects.filter(products__pk__in=docs.values("product_id"))
        .annotate(n=Count("products"))
        .order_by("pk")
    )
    for attribute in attribute_counts:
        add(_vocabulary_term("attribute", attribute.value_zh, attribute.value_en, attribute.n))
    tag_counts = Tag.objects.filter(products__pk__in=docs.values("product_id")).annotate(
        n=Count("products")
    )
    for tag in tag_counts:
        add(_vocabulary_term("tag", tag.name, "", tag.n))
    SearchTerm.objects.bulk_create(list(terms.values()))
    return len(terms)


# --- business signals ---------------------------------------------------------------------------


@transaction.atomic
def search_signals_update(
    *,
    product_id: int,
    sales_count: int | None = None,
    rating_centi: int | None = None,
    rating_count: int | None = None,
) -> bool:
    """Set the ranking signals of a product (trade: sales; reviews: rating, 0–500 = stars×100).
    False when the product is not indexed (not listed): nothing to rank."""
    changes: dict[str, int] = {}
    for name, value, limit in (
        ("sales_count", sales_count, 2**31 - 1),
        ("rating_centi", rating_centi, 500),
        ("rating_count", rating_count, 2**31 - 1),
    ):
        if value is None:
            continue
        if not 0 <= value <= limit:
            raise SearchValidationFailed(extra={"field": name, "min": 0, "max": limit})
        changes[name] = value
    document = (
        SearchDocument.objects.select_for_update()
        .filter(pk=product_id)
        .values("sales_count", "rating_centi", "rating_count", "listed_at")
        .first()
    )
    if not changes or document is None:
        return document is not None
    merged = {**document, **changes}
    updated = SearchDocument.objects.filter(pk=product_id).update(
        **changes,
        signals_score=_signals_score(
            sales=merged["sales_count"],
            rating_centi=merged["rating_centi"],
            rating_count=merged["rating_count"],
            listed_at=merged["listed_at"],
        ),
        updated_at=clock.now(),
    )
    if updated:
        page_versions_bump(LISTS)  # the ranking and the sales sort of cached list pages
    if updated and "sales_count" in changes:
        SearchTerm.objects.filter(product_id=product_id).update(weight=1 + changes["sales_count"])
    return bool(updated)


# --- activity (trending) ------------------------------------------------------------------------


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@transaction.atomic
def search_activity_record(
    *, kind: str, key: str, at: datetime | None = None, count: int = 1
) -> None:
    """Count one search (``query``, its normalised text) or product view (``product``, its id)
    in the current hour's bucket. Safe under concurrency: a conditional increment, and the
    bucket's unique key decides who creates it."""
    if kind not in SearchActivity.Kind.values:
        raise SearchValidationFailed(extra={"field": "kind"})
    key = query_normalized(key) if kind == SearchActivity.Kind.QUERY else str(key)[:100]
    if not key:
        return
    if kind == SearchActivity.Kind.PRODUCT and not (
        key.isdigit() and SearchDocument.objects.filter(pk=int(key)).exists()
    ):
        return  # only searchable products trend; junk ids are not counted
    hour = _hour(at or clock.now())
    bucket = SearchActivity.objects.filter(kind=kind, key=key, hour=hour)
    if bucket.update(count=F("count") + count, updated_at=clock.now()):
        return
    try:
        with transaction.atomic():
            SearchActivity.objects.create(kind=kind, key=key, hour=hour, count=count)
    except IntegrityError:
        bucket.update(count=F("count") + count, updated_at=clock.now())


def search_activity_prune(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Drop buckets too old to matter to trending (their weight is < 2⁻³⁰)."""
    deleted, _ = SearchActivity.objects.filter(hour__lt=clock.now() - older_than).delete()
    return deleted


# --- outbox -------------------------------------------------------------------------------------


def _on_product_event(event: OutboxEvent) -> None:
    # No consume_once marker: the refresh recomputes from the catalog's current state, so a
    # redelivery or an out-of-order delivery converges to the same index.
    product_id = event.payload.get("product_id")
    if isinstance(product_id, int) and product_id > 0:
        search_document_refresh(product_id=product_id)


def _on_shop_event(event: OutboxEvent) -> None:
    # Recomputed from the shop's current status, so redelivery and reordering converge too.
    shop_id = event.payload.get("shop_id")
    if isinstance(shop_id, int) and shop_id > 0:
        search_shop_refresh(shop_id=shop_id)


def search_subscribers_register() -> None:
    for topic in PRODUCT_TOPICS:
        outbox_subscribe(topic=topic, name="search.product_index", handler=_on_product_event)
    for topic in SHOP_TOPICS:
        outbox_subscribe(topic=topic, name="search.shop_index", handler=_on_shop_event)
