"""The search index's own tables: one document per listed product (its attribute values
included), the suggestion vocabulary and the activity behind "trending".

The full-text structure itself is not a Django model: on SQLite it is the FTS5 virtual table
``search_fts`` and on PostgreSQL the ``search_vector`` column (with a GIN index) of
``search_document``; migration 0002 creates whichever applies (see ADR 0015).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PriceBand(models.TextChoices):
    UNDER_100 = "0-100", _("100 元以下")
    FROM_100 = "100-300", _("100–300 元")
    FROM_300 = "300-1000", _("300–1000 元")
    FROM_1000 = "1000-3000", _("1000–3000 元")
    OVER_3000 = "3000+", _("3000 元以上")


# Upper bounds in fen of each band, in order; the last band has none.
PRICE_BAND_LIMITS: tuple[tuple[str, int | None], ...] = (
    (PriceBand.UNDER_100, 100_00),
    (PriceBand.FROM_100, 300_00),
    (PriceBand.FROM_300, 1000_00),
    (PriceBand.FROM_1000, 3000_00),
    (PriceBand.OVER_3000, None),
)


def price_band_of(price_fen: int) -> str:
    for band, limit in PRICE_BAND_LIMITS:
        if limit is None or price_fen < limit:
            return str(band)
    raise AssertionError("unreachable")


class SearchDocument(models.Model):
    """What search knows about one listed product: the analysed text, the filterable fields
    and the business signals ranking uses. Rebuilt from the catalog at any time."""

    product = models.OneToOneField(
        "catalog.Product", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    # No index of its own: the three (category, sort key) indexes below lead with it (it had
    # two, the foreign key's and a named one; ADR 0055).
    category = models.ForeignKey(
        "catalog.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    shop_type = models.CharField(max_length=20)
    title_tokens = models.TextField(blank=True)
    body_tokens = models.TextField(blank=True)
    price_fen = models.BigIntegerField(default=0)
    price_band = models.CharField(max_length=12, choices=PriceBand.choices)
    listed_at = models.DateTimeField()
    # Business signals: trade and reviews fill these in through search_signals_update().
    sales_count = models.PositiveIntegerField(default=0)
    rating_centi = models.PositiveSmallIntegerField(default=0)  # 0–500: stars × 100
    rating_count = models.PositiveIntegerField(default=0)
    # selectors.signals_boost of the signals above, as of the last write (freshness included,
    # so it ages until the next one): the cheap order relevance picks its candidates by.
    signals_score = models.FloatField(default=1.0)
    # Every cultural attribute of the product as ``kind:value`` strings (``era:宋代``,
    # ``craft:苏绣``), sorted: attribute facets filter and count on the row itself, with no
    # join (ADR 0055). jsonb with a GIN index on PostgreSQL (migration 0007), JSON text
    # read with json_each on SQLite; see backends.attribute_match / facet_counts.
    attribute_values = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_document"
        verbose_name = _("搜索文档")
        verbose_name_plural = _("搜索文档")
        constraints = [
            models.CheckConstraint(condition=Q(rating_centi__lte=500), name="search_rating_max"),
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="search_price_non_neg"),
        ]
        indexes = [
            models.Index(fields=["-listed_at"], name="search_doc_listed_idx"),
            models.Index(fields=["price_fen"], name="search_doc_price_idx"),
            models.Index(fields=["-sales_count"], name="search_doc_sales_idx"),
            models.Index(fields=["shop_type"], name="search_doc_shop_type_idx"),
            # A category page sorted by date, price or sales: read in order within the category
            # (the global sort-key indexes above, filtered by category, walked tens of thousands
            # of rows for a category with few cheap products). Each holds the sort's whole key,
            # ties included (ADR 0056): with the first key only, a page sorted by sales sorted
            # all of a category's ~10k rows for every request (30–47 ms at 100k).
            models.Index(
                fields=["category", "-listed_at", "-product"], name="search_doc_cat_listed2_idx"
            ),
            models.Index(
                fields=["category", "price_fen", "-product"], name="search_doc_cat_price2_idx"
            ),
            models.Index(
                fields=["category", "-sales_count", "-listed_at", "-product"],
                name="search_doc_cat_sales2_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"search document of product {self.product_id}"


class SearchTerm(models.Model):
    """A suggestion: a product title (``product`` set) or a vocabulary term (category,
    attribute value, tag, shop), findable by prefix, full pinyin or pinyin initials."""

    class Source(models.TextChoices):
        TITLE = "title", _("商品")
        CATEGORY = "category", _("分类")
        ATTRIBUTE = "attribute", _("文化属性")
        TAG = "tag", _("标签")
        SHOP = "shop", _("店铺")

    source = models.CharField(max_length=12, choices=Source.choices)
    text = models.CharField(max_length=120)  # as shown
    text_en = models.CharField(max_length=120, blank=True)
    normalized = models.CharField(max_length=120, db_index=True)
    pinyin = models.CharField(max_length=240, db_index=True)
    initials = models.CharField(max_length=120, db_index=True)
    weight = models.PositiveIntegerField(default=1)
    product = models.ForeignKey(
        SearchDocument, null=True, blank=True, on_delete=models.CASCADE, related_name="terms"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_term"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "normalized"],
                condition=Q(product__isnull=True),
                name="search_term_vocabulary_uniq",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(product__isnull=False),
                name="search_term_title_uniq",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class SearchActivity(models.Model):
    """How often something happened in one hour: a search for ``key`` (kind ``query``) or a
    view of product ``key`` (kind ``product``). Trending sums these with an exponential decay."""

    class Kind(models.TextChoices):
        QUERY = "query", _("搜索")
        PRODUCT = "product", _("浏览")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=100)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_activity"
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "hour"], name="search_activity_uniq")
        ]
        indexes = [models.Index(fields=["kind", "hour"], name="search_activity_kind_hour_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}@{self.hour:%Y-%m-%d %H}"


class SearchVocabulary(models.Model):
    """A token of the index and how many documents carry it: what typo correction may correct
    towards. Kept by the services on every index write (an upsert adding the difference) and
    recounted from the full-text index by a rebuild; a token nobody carries any more stays at
    0 until then (lookups skip it)."""

    token = models.CharField(max_length=64, unique=True)
    # Not a PositiveIntegerField: concurrent first indexings of one product may briefly count
    # it twice or not at all; a rebuild recounts, nothing reads this as exact.
    documents = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_vocabulary"

    def __str__(self) -> str:
        return f"{self.token} ({self.documents})"


class SearchSpellingKey(models.Model):
    """One lookup key of a vocabulary token (analysis.spelling_keys: a one-letter deletion of
    a Latin word, or the fuzzy pinyin of a Han word)."""

    key = models.CharField(max_length=80)
    token = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "search_spelling_key"
        constraints = [
            models.UniqueConstraint(fields=["key", "token"], name="search_spelling_key_uniq")
        ]
        indexes = [models.Index(fields=["token"], name="search_spelling_token_idx")]

    def __str__(self) -> str:
        return f"{self.key} → {self.token}"
