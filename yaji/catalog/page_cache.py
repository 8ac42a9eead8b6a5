"""Rendered public pages for visitors without a session, keyed by content versions (ADR 0037).

A first-time visitor, a crawler or a shared link's reader sees the same product page, list
page or category page as every other such visitor, so the HTML is rendered once and kept in the
cache under a key made of the URL, the language, the HTMX variant and the **content versions**
the page depends on (``PageVersion`` rows, read in one query per request). A committed change
bumps the versions it touches (signals below, ``transaction.on_commit``), so the next request
misses and renders the new state: the cache never serves what the database no longer says.

The versions live in the database, not in the cache: with the in-process cache (no Redis)
every worker process keeps its own copy of a page, and a bump made in one process (or in the
outbox worker) must still retire all of them.

What differs between two such visitors is only the CSRF token: pages are rendered with a
placeholder in its place and every response gets this visitor's own token. Visitors with a
session (signed in, a guest cart, flash messages) are never served from here: their header,
cart and messages are theirs.

Stock is not versioned: the product page's key includes its variants' prices and stock (and,
for a bundle, its components'), read in the same statement as its versions
(``product_stamp``), so an order does not invalidate anything and a sold-out variant shows at
once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language

from yaji.catalog.models import (
    Attribute,
    BundleItem,
    Category,
    CustomisationOption,
    PageVersion,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVideo,
    Shop,
    Tag,
    Variant,
)

log = logging.getLogger(__name__)

# 64 characters like a real masked token, only letters so no template filter escapes it.
CSRF_PLACEHOLDER = "yajicsrfplaceholder" + "x" * 45
PATH_PLACEHOLDER = "/yajipathplaceholder"
# The shared header and footer (web/base.html) are kept this long for such visitors.
SHELL_TTL_SECONDS = 300
# A bump lost to a crash between commit and bump outlives itself by at most this long.
PAGE_TTL_SECONDS = 300
CATALOG = "catalog"
LISTS = "lists"


def product_version_name(product_id: int) -> str:
    return f"product:{product_id}"


# --- versions -----------------------------------------------------------------------------------


@functools.cache
def _versions_sql(vendor: str, names: int) -> str:
    table = connection.ops.quote_name(PageVersion._meta.db_table)
    marks = ", ".join(["%s"] * names)
    return f"SELECT name, value FROM {table} WHERE name IN ({marks})"  # noqa: S608  # marks only


def page_versions(names: list[str]) -> tuple[int, ...]:
    """The current value of each named version (0 if never bumped), in one query. Read on
    every request of a cached page, hit or miss: the statement the ORM wrote, its text kept
    (building and compiling the queryset was most of its cost, ADR 0057)."""
    if not names:
        return ()
    with connection.cursor() as cursor:
        cursor.execute(_versions_sql(connection.vendor, len(names)), names)
        found = dict(cursor.fetchall())
    return tuple(found.get(name, 0) for name in names)


def _bump_now(names: Iterable[str]) -> None:
    names = sorted(set(names))
    try:
        updated = PageVersion.objects.filter(name__in=names).update(
            value=F("value") + 1, updated_at=timezone.now()
        )
        if updated == len(names):
            return
        present = set(PageVersion.objects.filter(name__in=names).values_list("name", flat=True))
        for name in names:
            if name in present:
                continue
            try:
                with transaction.atomic():
                    PageVersion.objects.create(name=name, value=1)
            except IntegrityError:  # created meanwhile by another bump: count ours too
                PageVersion.objects.filter(name=name).update(value=F("value") + 1)
    except DatabaseError:
        # The change itself is committed; only the cache can be stale, for PAGE_TTL_SECONDS.
        log.exception("page version bump failed", extra={"names": names})


def page_versions_bump(*names: str) -> None:
    """Retire the cached pages that depend on ``names`` once the current transaction commits
    (at once outside one). After the commit, never before: a page rendered from the old state
    under the new version would outlive the change."""
    transaction.on_commit(lambda: _bump_now(names))


# --- serving ------------------------------------------------------------------------------------


def _eligible(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _key(request: HttpRequest, page: str, versions: tuple[Any, ...]) -> str:
    headers = request.headers
    htmx = "|".join(
        headers.get(h, "")
        for h in ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request")
    )
    raw = f"{page}|{get_language()}|{htmx}|{request.get_full_path()}|{versions!r}"
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def _personalised(request: HttpRequest, body: bytes) -> bytes:
    path = escape(request.get_full_path()).encode()
    return body.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode()).replace(
        PATH_PLACEHOLDER.encode(), path
    )


def page_serve(
    request: HttpRequest,
    *,
    page: str,
    versions: list[str],
    build: Callable[[dict[str, Any]], HttpResponse],
    stamp_read: Callable[[], tuple[Any, ...]] | None = None,
) -> HttpResponse:
    """The page from the cache, or ``build(extra_context)`` rendered, stored and returned.
    ``build`` must merge ``extra_context`` into its template context (it carries the CSRF
    placeholder). ``stamp_read``, if given, reads ``versions`` together with live data the page
    shows (a product's stock) in one statement (``product_stamp``), for the cache key."""
    if not (settings.YAJI_PAGE_CACHE and _eligible(request)):
        return build({})
    stamp = stamp_read() if stamp_read is not None else page_versions(versions)
    key = _key(request, page, stamp)
    hit = cache.get(key)
    if hit is not None:
        content_type, vary, body = hit
        response = HttpResponse(_personalised(request, body), content_type=content_type)
        if vary:
            response["Vary"] = vary
        response["X-Page-Cache"] = "hit"
        return response
    response = build(
        {
            "csrf_token": CSRF_PLACEHOLDER,
            "page_path": PATH_PLACEHOLDER,
            "shell_ttl": SHELL_TTL_SECONDS,
        }
    )
    if response.status_code == 200 and not response.streaming:
        body = response.content
        cache.set(
            key,
            (response["Content-Type"], response.get("Vary", ""), body),
            PAGE_TTL_SECONDS,
        )
        response.content = _personalised(request, body)
        response["X-Page-Cache"] = "miss"
    else:
        response.content = _personalised(request, response.content)
    return response


# --- the shell of such a page --------------------------------------------------------------------
#
# A page that misses the cache is still rendered through ``web/base.html`` (head, header, footer;
# ~300 nodes, which ``{% extends %}`` walks again on every render to find its blocks) around
# the blocks a view wrote in Python (ADR 0054, 0057). For a visitor without a session that shell
# is the same for every page of a kind but for the blocks: it is rendered once per language,
# URL name and what the view says it varies with, with a mark in place of each block, kept in
# the process, and each page is the shell's text with its blocks put in (ADR 0057).

_SHELL_MARK = "yajishellblock"  # letters only: no filter or escaping changes it
_SHELL_KEYS_MAX = 64
_shells: dict[tuple[Any, ...], tuple[float, tuple[str, ...]]] = {}


def _shells_clear(**kwargs: Any) -> None:
    _shells.clear()


setting_changed.connect(_shells_clear, dispatch_uid="catalog.page_cache.shells")


def _shell(
    request: HttpRequest, template_name: str, context: dict[str, Any], names: list[str]
) -> tuple[str, ...] | None:
    """The template rendered with a mark for each block, split around them: text, name, text,
    …, text. ``None`` when a block does not appear exactly once (rendered as usual then)."""
    marks = {name: f"{_SHELL_MARK}{name}{_SHELL_MARK}" for name in names}
    text = render_to_string(template_name, {**context, "page": marks}, request)
    parts = tuple(re.split(f"{_SHELL_MARK}([a-z_]+){_SHELL_MARK}", text))
    found = parts[1::2]
    if sorted(found) != sorted(names):
        return None
    return parts


def page_shell_render(
    request: HttpRequest,
    template_name: str,
    context: dict[str, Any],
    *,
    blocks: dict[str, str],
    vary: tuple[Any, ...] = (),
    status: int = 200,
) -> HttpResponse:
    """``render(request, template_name, {**context, "page": blocks})``, where the template puts
    each of ``blocks`` (safe HTML) into ``web/base.html`` as ``{{ page.<name> }}``.

    When ``page_serve`` builds the page for a visitor without a session (``context`` carries
    its ``shell_ttl`` and placeholders), the rest of the page is taken from a shell kept in the
    process for ``SHELL_TTL_SECONDS``, keyed by the template, the language, the URL name and
    ``vary``: so outside the blocks the template may show nothing else of the request or the
    context (``web/base.html`` shows ``params.q`` in the header's search box: pass it in
    ``vary``)."""
    if context.get("shell_ttl") != SHELL_TTL_SECONDS:
        return render(request, template_name, {**context, "page": blocks}, status=status)
    match = request.resolver_match
    key = (template_name, get_language(), match.url_name if match else "", *vary)
    now = time.monotonic()
    kept = _shells.get(key)
    if kept is None or kept[0] <= now:
        parts = _shell(request, template_name, context, list(blocks))
        if parts is None:
            return render(request, template_name, {**context, "page": blocks}, status=status)
        if len(_shells) >= _SHELL_KEYS_MAX:
            _shells.clear()
        kept = _shells[key] = (now + SHELL_TTL_SECONDS, parts)
    parts = kept[1]
    out = list(parts)
    for i in range(1, len(out), 2):
        out[i] = blocks[out[i]]
    return HttpResponse("".join(out), status=status)


@functools.cache
def _product_stamp_sql(vendor: str, names: int) -> str:
    q = connection.ops.quote_name
    version, variant, item = (q(m._meta.db_table) for m in (PageVersion, Variant, BundleItem))
    marks = ", ".join(["%s"] * names)
    # The versions (as page_versions reads them) and the price and stock of the variants the
    # page shows, its own and a bundle's components' (a UNION ALL: each half uses its index,
    # where an OR scanned every variant, 19 ms at 100k), in one round trip: the product
    # page's key is read on every request, hit or miss.
    return (
        f"SELECT 0, name, value, 0, 0 FROM {version} WHERE name IN ({marks})"  # noqa: S608  # names only
        f" UNION ALL SELECT 1, '', id, price_fen, stock FROM {variant} WHERE product_id = %s"
        f" UNION ALL SELECT 1, '', v.id, v.price_fen, v.stock FROM {variant} v"
        f" JOIN {item} b ON b.variant_id = v.id WHERE b.bundle_id = %s"
    )


def product_stamp(product_id: int, names: list[str]) -> tuple[Any, ...]:
    """``(*page_versions(names), signature)`` in one statement, the signature being the
    sorted (variant id, price, stock) of the variants the product page shows: taking stock
    bumps nothing, and the next request has another key."""
    with connection.cursor() as cursor:
        cursor.execute(
            _product_stamp_sql(connection.vendor, len(names)), [*names, product_id, product_id]
        )
        rows = cursor.fetchall()
    found = {name: value for part, name, value, _, _ in rows if part == 0}
    stock = sorted({(pk, price, left) for part, _, pk, price, left in rows if part == 1})
    return (*(found.get(name, 0) for name in names), tuple(stock))


# --- what bumps what ----------------------------------------------------------------------------


def _product_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    product_id = instance.pk if isinstance(instance, Product) else instance.product_id
    page_versions_bump(product_version_name(product_id), LISTS)


def _product_part_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Shown on the product page only (options, video, 3D model, bundle contents).
    product_id = instance.bundle_id if isinstance(instance, BundleItem) else instance.product_id
    page_versions_bump(product_version_name(product_id))


def _product_links_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, Product):
        page_versions_bump(product_version_name(instance.pk), LISTS)
    else:  # from the attribute or tag side: which products is not worth working out
        page_versions_bump(CATALOG)


def _everything_changed(sender: Any, **kwargs: Any) -> None:
    page_versions_bump(CATALOG)


def _review_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    product_id = getattr(instance, "product_id", None)
    if product_id is None and hasattr(instance, "review"):  # a review photo
        product_id = instance.review.product_id
    if product_id is not None:
        page_versions_bump(product_version_name(product_id))


def page_cache_signals_connect() -> None:
    """Connect the receivers (from CatalogConfig.ready). Cache invalidation is the one thing
    signals are for here (CONVENTIONS.md): the writes themselves stay in the services."""
    uid = "catalog.page_cache"
    for model in (Product, Variant, ProductImage):
        post_save.connect(_product_changed, sender=model, dispatch_uid=f"{uid}.{model.__name__}")
        post_delete.connect(_product_changed, sender=model, dispatch_uid=f"{uid}.d{model.__name__}")
    for model in (CustomisationOption, ProductVideo, ProductModel3D, BundleItem):
        post_save.connect(
            _product_part_changed, sender=model, dispatch_uid=f"{uid}.{model.__name__}"
        )
        post_delete.connect(
            _product_part_changed, sender=model, dispatch_uid=f"{uid}.d{model.__name__}"
        )
    for through in (Product.attributes.through, Product.tags.through):
        m2m_changed.connect(
            _product_links_changed, sender=through, dispatch_uid=f"{uid}.{through.__name__}"
        )
    for model in (Shop, Category, Attribute, Tag):
        post_save.connect(_everything_changed, sender=model, dispatch_uid=f"{uid}.{model.__name__}")
        post_delete.connect(
            _everything_changed, sender=model, dispatch_uid=f"{uid}.d{model.__name__}"
        )
    # The product page shows the buyers' reviews (trade's models; trade writes them with save()).
    from yaji.trade.models import Review, ReviewPhoto

    for model in (Review, ReviewPhoto):
        post_save.connect(_review_changed, sender=model, dispatch_uid=f"{uid}.{model.__name__}")
        post_delete.connect(_review_changed, sender=model, dispatch_uid=f"{uid}.d{model.__name__}")
