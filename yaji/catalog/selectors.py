"""Reads of shops, applications and creator profiles. Object rules live here: what a user may
not see is "not found", never a hint that it exists."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db.models import Min, Prefetch, Q, QuerySet, prefetch_related_objects

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import has_role
from yaji.catalog.customisation import customisation_price
from yaji.catalog.errors import (
    InvalidCustomisation,
    NotFound,
    PermissionDenied,
    UnknownCategory,
    ValidationFailed,
)
from yaji.catalog.models import (
    SLUG_RE,
    Attribute,
    BundleItem,
    Category,
    CreatorProfile,
    CustomisationOption,
    DigitalFile,
    DownloadGrant,
    Product,
    ProductImage,
    Shop,
    ShopApplication,
    ShopDocument,
    ShopMembership,
    Tag,
    Variant,
)
from yaji.catalog.permissions import is_shop_reviewer, shop_can_manage

PAGE_MAX = 100
MAX_ID = 2**63 - 1


# --- shops --------------------------------------------------------------------------------------


def shop_get_public(*, slug: str) -> Shop:
    if not SLUG_RE.match(slug):
        raise NotFound()  # not even a possible address (and never a NUL sent to the database)
    shop = Shop.objects.select_related("owner").filter(slug=slug, status=Shop.Status.ACTIVE).first()
    if shop is None:
        raise NotFound()
    return shop


def shop_get_managed(*, user: Any, slug: str) -> Shop:
    """A shop the user manages; anyone else's shop is "not found"."""
    shop = Shop.objects.select_related("owner").filter(slug=slug).first()
    if shop is None or not shop_can_manage(user, shop):
        raise NotFound()
    return shop


def shop_members(*, shop: Shop) -> QuerySet[ShopMembership]:
    return (
        ShopMembership.objects.filter(shop=shop).select_related("user").order_by("created_at", "id")
    )


def shops_of_user(*, user: Any) -> QuerySet[ShopMembership]:
    """The user's memberships, with their shops: "my shops"."""
    if not getattr(user, "is_authenticated", False):
        return ShopMembership.objects.none()
    return ShopMembership.objects.filter(user=user).select_related("shop").order_by("shop__id")


@dataclass(frozen=True)
class ShopPage:
    items: list[Shop]
    next_cursor: str | None


def _cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"s{last_id}".encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s") or not raw[1:].isdigit():
            raise ValueError(raw)
        last_id = int(raw[1:])
        if not 0 < last_id <= MAX_ID:
            raise ValueError(raw)
        return last_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(code="invalid_cursor", extra={"cursor": cursor}) from exc


def shops_active(
    *, cursor: str | None = None, limit: int = 20, shop_type: str | None = None
) -> ShopPage:
    """Active shops, newest first, by an opaque cursor (stable while shops are added)."""
    limit = max(1, min(limit, PAGE_MAX))
    qs = Shop.objects.select_related("owner").filter(status=Shop.Status.ACTIVE)
    if shop_type:
        qs = qs.filter(shop_type=shop_type)
    if cursor:
        qs = qs.filter(id__lt=_cursor_decode(cursor))
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    items = rows[:limit]
    return ShopPage(items=items, next_cursor=_cursor_encode(items[-1].pk) if more else None)


# --- applications -------------------------------------------------------------------------------


def _with_documents(qs: QuerySet[ShopApplication]) -> QuerySet[ShopApplication]:
    return qs.prefetch_related(Prefetch("documents", queryset=ShopDocument.objects.order_by("id")))


def applications_mine(*, user: Any) -> QuerySet[ShopApplication]:
    """The user's applications, newest first (the first one is the current state)."""
    return _with_documents(
        ShopApplication.objects.filter(applicant=user).select_related("shop")
    ).order_by("-created_at", "-id")


def application_latest(*, user: Any) -> ShopApplication | None:
    return applications_mine(user=user).first()


def reviewer_require(user: Any) -> None:
    if not is_shop_reviewer(user):
        raise PermissionDenied(extra={"required_role": Role.REVIEWER})


def applications_queue(*, reviewer: Any, limit: int = 100) -> list[ShopApplication]:
    """Submitted applications, oldest first: the review queue."""
    reviewer_require(reviewer)
    qs = ShopApplication.objects.filter(status=ShopApplication.Status.SUBMITTED)
    return list(
        _with_documents(qs.select_related("applicant")).order_by("created_at", "id")[
            : max(1, min(limit, 500))
        ]
    )


def application_get_for_review(*, reviewer: Any, application_id: int) -> ShopApplication:
    reviewer_require(reviewer)
    application = (
        _with_documents(ShopApplication.objects.select_related("applicant", "reviewed_by", "shop"))
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    return application


def document_get_for_download(*, user: Any, document_id: int) -> ShopDocument:
    """A qualification document for its applicant or a reviewer; for anyone else, not found."""
    document = ShopDocument.objects.select_related("application").filter(pk=document_id).first()
    if document is None or not getattr(user, "is_authenticated", False):
        raise NotFound()
    if document.application.applicant_id != user.pk and not is_shop_reviewer(user):
        raise NotFound()
    return document


# --- creators -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatorCard:
    user: User
    bio: str
    bio_en: str
    shops: list[Shop]


def creator_profile_get(*, user: User) -> CreatorProfile | None:
    return CreatorProfile.objects.filter(user=user).first()


def creator_get(*, user_id: int) -> CreatorCard:
    """A creator's public card: people with the creator role or an active shop of their own."""
    user = (
        User.objects.filter(pk=user_id, is_active=True, deleted_at__isnull=True)
        .select_related("creator_profile")
        .first()
    )
    if user is None:
        raise NotFound()
    shops = list(Shop.objects.filter(owner=user, status=Shop.Status.ACTIVE).order_by("id"))
    if not shops and not has_role(user, Role.CREATOR):
        raise NotFound()
    profile = getattr(user, "creator_profile", None)
    return CreatorCard(
        user=user,
        bio=profile.bio if profile else "",
        bio_en=profile.bio_en if profile else "",
        shops=shops,
    )


def slug_is_free(*, slug: str, exclude_application_id: int | None = None) -> bool:
    taken_by_shop = Shop.objects.filter(slug=slug).exists()
    open_claim = ShopApplication.objects.filter(
        Q(slug=slug), status=ShopApplication.Status.SUBMITTED
    )
    if exclude_application_id is not None:
        open_claim = open_claim.exclude(pk=exclude_application_id)
    return not taken_by_shop and not open_claim.exists()


# --- products -----------------------------------------------------------------------------------


def _product_detail_qs() -> QuerySet[Product]:
    # The optional one-to-one media ride along in the same query (LEFT JOINs).
    return Product.objects.select_related(
        "shop", "shop__owner", "category", "video", "model_3d", "digital_file"
    ).prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        Prefetch(
            "customisation_options",
            queryset=CustomisationOption.objects.order_by("position", "id"),
        ),
        Prefetch("attributes", queryset=Attribute.objects.order_by("kind", "id")),
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch(
            "bundle_items",
            queryset=BundleItem.objects.select_related("variant", "variant__product").order_by(
                "position", "id"
            ),
        ),
    )


# Loaded for every product page; the kind-specific parts only for their kind (most products
# are standard: the options and bundle contents were two queries that found nothing).
_DETAIL_ALWAYS = ("variants", "images", "attributes", "tags")
_DETAIL_BY_KIND = {"customisation_options": "made_to_order", "bundle_items": "bundle"}


def product_get_public(*, product_id: int) -> Product:
    """A listed product of an active shop; anything else is "not found"."""
    if not 0 < product_id <= MAX_ID:
        raise NotFound()
    full = _product_detail_qs()
    product = (
        full.prefetch_related(None)
        .filter(pk=product_id, status=Product.Status.LISTED, shop__status=Shop.Status.ACTIVE)
        .first()
    )
    if product is None:
        raise NotFound()
    lookups = {p.prefetch_to: p for p in full._prefetch_related_lookups}  # type: ignore[union-attr]
    wanted = [lookups[name] for name in _DETAIL_ALWAYS]
    empty: dict[str, Any] = {}
    for name, kind in _DETAIL_BY_KIND.items():
        if product.kind == kind:
            wanted.append(lookups[name])
        else:  # the related manager answers from this, no query (options need made-to-order)
            empty[name] = getattr(product, name).none()
    prefetch_related_objects([product], *wanted)
    product._prefetched_objects_cache.update(empty)  # type: ignore[attr-defined]
    return product


def product_get_managed(*, user: Any, product_id: int) -> Product:
    """A product of a shop the user manages (any status); anyone else's is "not found"."""
    if not 0 < product_id <= MAX_ID:
        raise NotFound()
    product = _product_detail_qs().filter(pk=product_id).first()
    if product is None or not shop_can_manage(user, product.shop):
        raise NotFound()
    return product


def product_get_for_review(*, reviewer: Any, product_id: int) -> Product:
    reviewer_require(reviewer)
    if not 0 < product_id <= MAX_ID:
        raise NotFound()
    product = _product_detail_qs().filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    return product


def product_get_viewable(*, user: Any, product_id: int) -> Product:
    """Listed for everyone; any status for the shop's managers and for reviewers."""
    try:
        return product_get_public(product_id=product_id)
    except NotFound:
        pass
    if is_shop_reviewer(user):
        return product_get_for_review(reviewer=user, product_id=product_id)
    return product_get_managed(user=user, product_id=product_id)


def category_get(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound()
    return category


def categories_top() -> list[Category]:
    return list(Category.objects.filter(parent__isnull=True).order_by("position", "id"))


def category_descendant_ids(*, category_id: int) -> list[int]:
    """The category and every category below it (search facets use this too)."""
    # The tree is small (tens of rows): one query, walked in memory.
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    ids, pending = [], [category_id]
    while pending:
        current = pending.pop()
        ids.append(current)
        pending.extend(children.get(current, []))
    return ids


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    next_cursor: str | None


def _product_list_qs(qs: QuerySet[Product]) -> QuerySet[Product]:
    # Constant queries per page: one for the rows (shop, category and price joined in), one
    # for all their images.
    return (
        qs.select_related("shop", "category")
        .annotate(price_from_fen=Min("variants__price_fen"))
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
        )
    )


def _page(qs: QuerySet[Product], *, cursor: str | None, limit: int) -> ProductPage:
    limit = max(1, min(limit, PAGE_MAX))
    if cursor:
        qs = qs.filter(id__lt=_cursor_decode(cursor))
    rows = list(_product_list_qs(qs).order_by("-id")[: limit + 1])
    more = len(rows) > limit
    items = rows[:limit]
    return ProductPage(items=items, next_cursor=_cursor_encode(items[-1].pk) if more else None)


def products_listed(
    *,
    shop_slug: str | None = None,
    category_slug: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> ProductPage:
    """Listed products of active shops, newest first; a category includes its subcategories."""
    qs = Product.objects.filter(status=Product.Status.LISTED, shop__status=Shop.Status.ACTIVE)
    if shop_slug:
        qs = qs.filter(shop__slug=shop_slug)
    if category_slug:
        category = Category.objects.filter(slug=category_slug).values_list("id", flat=True).first()
        if category is None:
            raise UnknownCategory(extra={"category": category_slug})
        qs = qs.filter(category_id__in=category_descendant_ids(category_id=category))
    return _page(qs, cursor=cursor, limit=limit)


def products_of_shop_managed(*, user: Any, shop: Shop, limit: int = 200) -> list[Product]:
    """Every product of a shop the user manages (any status), newest first."""
    if not shop_can_manage(user, shop):
        raise NotFound()
    qs = Product.objects.filter(shop=shop)
    return list(_product_list_qs(qs).order_by("-id")[: max(1, min(limit, 500))])


def products_review_queue(
    *, reviewer: Any, limit: int = 100, held: bool | None = None
) -> list[Product]:
    """Products waiting for a reviewer, oldest submission first.

    ``held=False``: only those a reviewer can decide now; ``held=True``: only those a pre-check
    holds (see prechecks.py); ``None``: both.
    """
    reviewer_require(reviewer)
    qs = Product.objects.filter(status=Product.Status.IN_REVIEW)
    if held is True:
        qs = qs.exclude(hold_check="")
    elif held is False:
        qs = qs.filter(hold_check="")
    return list(
        _product_list_qs(qs)
        .select_related("shop")
        .order_by("submitted_at", "id")[: max(1, min(limit, 500))]
    )


def customisation_quote(*, product: Product, variant_id: int, selections: dict[str, str]) -> int:
    """The unit price in fen of one variant with the buyer's customisation (keys: option ids).

    Engraving text over its limit raises ``customisation_text_too_long``; an unknown option or
    choice, or a missing required one, ``invalid_customisation`` (see customisation.py).
    """
    variant = next((v for v in product.variants.all() if v.pk == variant_id), None)
    if variant is None:
        raise NotFound()
    price = variant.price_fen + customisation_price(product=product, choices=selections).amount
    if price <= 0:
        raise InvalidCustomisation(extra={"reason": "price", "price_fen": price})
    return price


# --- product kinds (ADR 0016) ---------------------------------------------------------------


def bundle_availability(*, product: Product) -> int:
    """How many sets of a bundle can be sold now: the fewest whole sets its components' stock
    allows (a component no longer listed allows none), capped by the bundle's own variant
    stock (the sets the shop packs). Uses prefetched ``bundle_items``/``variants`` if present."""
    if product.kind != Product.Kind.BUNDLE:
        raise ValidationFailed(code="not_a_bundle")
    items = list(product.bundle_items.all())
    if not items:
        return 0
    sets = min(
        (
            item.variant.stock // item.quantity
            if item.variant.product.status == Product.Status.LISTED
            else 0
        )
        for item in items
    )
    own = [v.stock for v in product.variants.all()]
    return min(sets, *own) if own else 0


def product_availability(*, product: Product) -> int:
    """Units (or places, or sets) that can be sold now, whatever the kind."""
    if product.kind == Product.Kind.BUNDLE:
        return bundle_availability(product=product)
    return sum(v.stock for v in product.variants.all())


def download_grants_of_user(*, user: Any, product_id: int | None = None) -> QuerySet[DownloadGrant]:
    """The download links issued to a user (newest first), e.g. for an order page."""
    qs = DownloadGrant.objects.filter(user=user).select_related("product")
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    return qs.order_by("-created_at", "-id")


def digital_file_get_managed(*, user: Any, product_id: int) -> DigitalFile:
    """A digital product's file for its shop's managers and for reviewers; else not found."""
    if not 0 < product_id <= MAX_ID:
        raise NotFound()
    digital = (
        DigitalFile.objects.select_related("product", "product__shop")
        .filter(product_id=product_id)
        .first()
    )
    if digital is None or not (
        shop_can_manage(user, digital.product.shop) or is_shop_reviewer(user)
    ):
        raise NotFound()
    return digital


def bundle_candidate_variants(
    *, shop: Shop, exclude_product_id: int | None = None
) -> list[Variant]:
    """Variants a bundle of ``shop`` may hold: its listed products, not bundles or made-to-order."""
    qs = (
        Variant.objects.filter(product__shop=shop, product__status=Product.Status.LISTED)
        .exclude(product__kind__in=[Product.Kind.BUNDLE, Product.Kind.MADE_TO_ORDER])
        .select_related("product")
        .order_by("product_id", "position", "id")
    )
    if exclude_product_id is not None:
        qs = qs.exclude(product_id=exclude_product_id)
    return list(qs[:500])


# --- category browsing -------------------------------------------------------------------------


@dataclass
class CategoryNode:
    """A category with the number of listed products in it and below it."""

    category: Category
    count: int
    children: list[CategoryNode]


@dataclass(frozen=True)
class CategoryBrowse:
    category: Category
    ancestors: list[Category]  # root first, without the category itself
    children: list[CategoryNode]  # direct children, each counted with its descendants
    all_categories: list[Category]

    def counted(self, counts_by_slug: dict[str, int]) -> list[CategoryNode]:
        """The children again, counted with ``counts_by_slug`` (no query)."""
        return _category_nodes(self.all_categories, counts_by_slug).get(self.category.pk, [])


def _category_nodes(
    categories: list[Category], counts_by_slug: dict[str, int]
) -> dict[int | None, list[CategoryNode]]:
    """Every category as a node, grouped by parent id, counts summed up the tree."""
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)

    def build(category: Category) -> CategoryNode:
        children = [build(child) for child in by_parent.get(category.pk, [])]
        own = counts_by_slug.get(category.slug, 0)
        return CategoryNode(category, own + sum(c.count for c in children), children)

    nodes: dict[int | None, list[CategoryNode]] = {}
    for parent_id, members in by_parent.items():
        if parent_id is None:
            nodes[None] = [build(c) for c in members]
    # Index every built node by its parent so a sub-tree can be read without rebuilding.
    pending = list(nodes.get(None, []))
    while pending:
        node = pending.pop()
        nodes[node.category.pk] = node.children
        pending.extend(node.children)
    return nodes


def category_tree(*, counts_by_slug: dict[str, int]) -> list[CategoryNode]:
    """The whole category tree (one query; the tree is tens of rows), each node with the
    products directly in it (``counts_by_slug``, as search counts them) plus its descendants'."""
    categories = list(Category.objects.order_by("position", "id"))
    return _category_nodes(categories, counts_by_slug).get(None, [])


def category_browse_get(
    *, slug: str, counts_by_slug: dict[str, int] | None = None
) -> CategoryBrowse:
    """The category of a browse page with its breadcrumb trail and its children counted.
    Raises NotFound for an unknown slug."""
    categories = list(Category.objects.order_by("position", "id"))
    by_id = {c.pk: c for c in categories}
    category = next((c for c in categories if c.slug == slug), None)
    if category is None:
        raise NotFound()
    ancestors: list[Category] = []
    parent_id = category.parent_id
    while parent_id is not None and parent_id in by_id and len(ancestors) < len(categories):
        ancestors.insert(0, by_id[parent_id])
        parent_id = by_id[parent_id].parent_id
    nodes = _category_nodes(categories, counts_by_slug or {})
    return CategoryBrowse(category, ancestors, nodes.get(category.pk, []), categories)
