"""The public product page's read: a listed product and everything its page shows in two
statements, as plain rows (ADR 0054).

``selectors.product_get_public`` builds a ``Product`` with its shop, category and media
(one query) and prefetches variants, images, attributes, tags and the kind's own parts (four
to six more), each one compiled by the ORM and turned into model instances that the page
then only reads a few attributes of. Here the product row is one hand-written join and all of
its parts are one ``UNION ALL`` of the same column layout, read through a cursor: two
statements for every kind, whatever the number of variants, images or options.

The layout of a part row (``_PART_COLUMNS``): ``part`` says which table it comes from, then
``id``, four integer, three text, one JSON and one timestamp column that each part fills as
``_part_dict`` reads them, then two sort keys (the ORM orderings of the prefetches).

Anything that is not a listed product of an active shop is ``None``: the caller falls back to
``selectors.product_get_viewable`` (previews for the shop and reviewers, or a 404).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from yaji.catalog.models import (
    Attribute,
    BundleItem,
    Category,
    CustomisationOption,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVideo,
    Shop,
    Tag,
    Variant,
)

VARIANT, IMAGE, ATTRIBUTE, TAG, OPTION, BUNDLE_ITEM = range(6)

# The product row: its own fields, then the shop's, the category's and the optional media's.
_PRODUCT_FIELDS = (
    "id",
    "kind",
    "title_zh",
    "title_en",
    "story_zh",
    "story_en",
    "designer_notes",
    "edition_size",
    "per_buyer_limit",
    "lead_time_days",
    "duration_minutes",
    "location",
    "online",
    "status",
)
_SHOP_FIELDS = ("id", "slug", "name_zh", "name_en", "shop_type", "region", "logo", "owner_id")


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _c(model: Any, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@cache
def _product_sql(vendor: str) -> str:
    p, s, c = _t(Product), _t(Shop), _t(Category)
    v, m = _t(ProductVideo), _t(ProductModel3D)
    columns = [f"p.{_c(Product, f)}" for f in _PRODUCT_FIELDS]
    columns += [f"s.{_c(Shop, f)}" for f in _SHOP_FIELDS]
    columns += [f"c.{_c(Category, 'name_zh')}", f"c.{_c(Category, 'name_en')}"]
    columns += [f"v.{_c(ProductVideo, f)}" for f in ("id", "file", "content_type")]
    columns += [f"m.{_c(ProductModel3D, f)}" for f in ("id", "file")]
    return (
        f"SELECT {', '.join(columns)} FROM {p} p"  # noqa: S608
        f" JOIN {s} s ON s.{_c(Shop, 'id')} = p.{_c(Product, 'shop')}"
        f" LEFT JOIN {c} c ON c.{_c(Category, 'id')} = p.{_c(Product, 'category')}"
        f" LEFT JOIN {v} v ON v.{_c(ProductVideo, 'product')} = p.{_c(Product, 'id')}"
        f" LEFT JOIN {m} m ON m.{_c(ProductModel3D, 'product')} = p.{_c(Product, 'id')}"
        f" WHERE p.{_c(Product, 'id')} = %s AND p.{_c(Product, 'status')} = %s"
        f" AND s.{_c(Shop, 'status')} = %s"
    )


@cache
def _parts_sql(vendor: str) -> str:
    """variants, images, attributes, tags, options and bundle items of one product: every
    branch takes the product id as its one parameter (in this order)."""
    var, img, opt, item = _t(Variant), _t(ProductImage), _t(CustomisationOption), _t(BundleItem)
    attr, tag, prod = _t(Attribute), _t(Tag), _t(Product)
    links = {
        "attributes": Product.attributes.through,
        "tags": Product.tags.through,
    }
    a_link, t_link = _t(links["attributes"]), _t(links["tags"])
    q = connection.ops.quote_name
    # Typed NULLs in the first branch fix each column's type for PostgreSQL.
    text_null = "CAST(NULL AS TEXT)"
    int_null = "CAST(NULL AS BIGINT)"
    v = lambda f: f"x.{_c(Variant, f)}"  # noqa: E731
    branches = [
        # part, id, n1..n4, t1..t3, json, ts, sort_int, sort_text
        f"SELECT {VARIANT} AS part, {v('id')} AS id, {v('price_fen')} AS n1, {v('stock')} AS n2,"  # noqa: S608
        f" {int_null} AS n3, {int_null} AS n4, {v('sku')} AS t1, {text_null} AS t2,"
        f" {text_null} AS t3, {v('options')} AS j, {v('starts_at')} AS ts,"
        f" {v('position')} AS sort_int, {text_null} AS sort_text"
        f" FROM {var} x WHERE {v('product')} = %s",
        f"SELECT {IMAGE}, x.{_c(ProductImage, 'id')}, x.{_c(ProductImage, 'width')},"  # noqa: S608
        f" x.{_c(ProductImage, 'height')}, NULL, NULL, x.{_c(ProductImage, 'alt')}, NULL, NULL,"
        f" NULL, NULL, x.{_c(ProductImage, 'position')}, NULL"
        f" FROM {img} x WHERE x.{_c(ProductImage, 'product')} = %s",
        f"SELECT {ATTRIBUTE}, a.{_c(Attribute, 'id')}, NULL, NULL, NULL, NULL,"  # noqa: S608
        f" a.{_c(Attribute, 'kind')}, a.{_c(Attribute, 'value_zh')}, a.{_c(Attribute, 'value_en')},"
        f" NULL, NULL, 0, a.{_c(Attribute, 'kind')}"
        f" FROM {a_link} l JOIN {attr} a ON a.{_c(Attribute, 'id')} = l.{q('attribute_id')}"
        f" WHERE l.{q('product_id')} = %s",
        f"SELECT {TAG}, g.{_c(Tag, 'id')}, NULL, NULL, NULL, NULL, g.{_c(Tag, 'name')}, NULL,"  # noqa: S608
        f" NULL, NULL, NULL, 0, g.{_c(Tag, 'name')}"
        f" FROM {t_link} l JOIN {tag} g ON g.{_c(Tag, 'id')} = l.{q('tag_id')}"
        f" WHERE l.{q('product_id')} = %s",
        f"SELECT {OPTION}, o.{_c(CustomisationOption, 'id')},"  # noqa: S608
        f" o.{_c(CustomisationOption, 'max_length')},"
        f" CASE WHEN o.{_c(CustomisationOption, 'required')} THEN 1 ELSE 0 END, NULL, NULL,"
        f" o.{_c(CustomisationOption, 'kind')}, o.{_c(CustomisationOption, 'label_zh')},"
        f" o.{_c(CustomisationOption, 'label_en')}, o.{_c(CustomisationOption, 'choices')}, NULL,"
        f" o.{_c(CustomisationOption, 'position')}, NULL"
        f" FROM {opt} o WHERE o.{_c(CustomisationOption, 'product')} = %s",
        f"SELECT {BUNDLE_ITEM}, b.{_c(BundleItem, 'id')}, b.{_c(BundleItem, 'quantity')},"  # noqa: S608
        f" w.{_c(Variant, 'price_fen')}, w.{_c(Variant, 'stock')}, w.{_c(Variant, 'product')},"
        f" c.{_c(Product, 'title_zh')}, c.{_c(Product, 'status')}, NULL, NULL, NULL,"
        f" b.{_c(BundleItem, 'position')}, NULL"
        f" FROM {item} b JOIN {var} w ON w.{_c(Variant, 'id')} = b.{_c(BundleItem, 'variant')}"
        f" JOIN {prod} c ON c.{_c(Product, 'id')} = w.{_c(Variant, 'product')}"
        f" WHERE b.{_c(BundleItem, 'bundle')} = %s",
    ]
    return " UNION ALL ".join(branches) + " ORDER BY 1, 12, 13, 2"


def _json(value: Any) -> Any:
    # PostgreSQL's jsonb comes as text through Django's cursor (its JSONField decodes it), and
    # SQLite stores text: the same decoding either way.
    return json.loads(value) if isinstance(value, str) else value


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite through a UNION: no declared type to convert by
        value = parse_datetime(value)
    if settings.USE_TZ and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def product_page_rows(*, product_id: int) -> dict[str, Any] | None:
    """A listed product of an active shop as plain dicts for ``fragments.product_page_html``,
    or None. Two statements, whatever the kind and the number of parts."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            _product_sql(vendor), [product_id, Product.Status.LISTED, Shop.Status.ACTIVE]
        )
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(_parts_sql(vendor), [product_id] * 6)
        parts = cursor.fetchall()
    n = len(_PRODUCT_FIELDS)
    product = dict(zip(_PRODUCT_FIELDS, row[:n], strict=True))
    product["online"] = bool(product["online"])
    shop = dict(zip(_SHOP_FIELDS, row[n : n + len(_SHOP_FIELDS)], strict=True))
    rest = row[n + len(_SHOP_FIELDS) :]
    category = {"name_zh": rest[0], "name_en": rest[1]} if rest[0] is not None else None
    video = (
        {"id": rest[2], "file": rest[3], "content_type": rest[4]} if rest[2] is not None else None
    )
    model_3d = {"id": rest[5], "file": rest[6]} if rest[5] is not None else None
    page: dict[str, Any] = {
        "product": product,
        "shop": shop,
        "category": category,
        "video": video,
        "model_3d": model_3d,
        "variants": [],
        "images": [],
        "attributes": [],
        "tags": [],
        "options": [],
        "bundle_items": [],
    }
    kind = product["kind"]
    for part, pk, n1, n2, n3, n4, t1, t2, t3, j, ts, _, _ in parts:
        if part == VARIANT:
            page["variants"].append(
                {
                    "id": pk,
                    "price_fen": n1,
                    "stock": n2,
                    "sku": t1,
                    "options": _json(j),
                    "starts_at": _aware(ts),
                }
            )
        elif part == IMAGE:
            page["images"].append({"id": pk, "width": n1, "height": n2, "alt": t1})
        elif part == ATTRIBUTE:
            page["attributes"].append({"id": pk, "kind": t1, "value_zh": t2, "value_en": t3})
        elif part == TAG:
            page["tags"].append({"id": pk, "name": t1})
        elif part == OPTION and kind == Product.Kind.MADE_TO_ORDER:
            # Options of a product that is no longer made to order are not shown (the
            # selector's rule: they only count for made-to-order).
            page["options"].append(
                {
                    "id": pk,
                    "max_length": n1,
                    "required": bool(n2),
                    "kind": t1,
                    "label_zh": t2,
                    "label_en": t3,
                    "choices": _json(j),
                }
            )
        elif part == BUNDLE_ITEM and kind == Product.Kind.BUNDLE:
            page["bundle_items"].append(
                {
                    "id": pk,
                    "quantity": n1,
                    "price_fen": n2,
                    "stock": n3,
                    "product_id": n4,
                    "title_zh": t1,
                    "listed": t2 == Product.Status.LISTED,
                }
            )
    return page
