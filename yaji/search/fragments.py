"""Product cards of result lists rendered without the template engine (ADR 0055).

A list page shows up to 60 cards; rendering each through ``search/partials/hit_card.html``
(an include, a ``{% url %}``, three filters) was most of the page's template time, so this
module writes the same markup with plain string formatting over the plain rows the selector
reads (:class:`yaji.search.selectors.Hit`, no model instances): each URL kind is reversed once
per list with a stand-in id and split around it, every value is escaped exactly as the
template escapes it (``conditional_escape``: ``& < > " '``).

``search/partials/hit_card.html`` stays the readable reference: ``tests/test_fragments.py``
renders both over cards with and without an image, price or English title, with markup in
every text, in both languages, and requires the same HTML. Change the markup in both places.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from yaji.catalog.templatetags.catalog_tags import monogram
from yaji.core.money import Money, format_money
from yaji.search.selectors import FACETS, SORTS, Facet, Hit, SearchParams, SearchResult

# An id no row has, reversed once per list and split around (the URL patterns take <int:…>).
_STAND_IN = 987654320123456789


def _around(name: str, **kwargs: object) -> tuple[str, ...]:
    url = reverse(name, kwargs=kwargs)
    return tuple(str(escape(part)) for part in url.split(str(_STAND_IN)))


# What ``html.escape`` replaces; most values of a list page (slugs, counts, names) have none.
_NEEDS_ESCAPE = re.compile("[&<>\"']").search


def _e(text: object) -> str:
    """``django.utils.html.escape`` without its lazy-argument wrapper (the same
    ``html.escape``), for the ~200 short values of a list page: one regex search instead of
    five replacements for a value with nothing to escape (ADR 0057)."""
    text = str(text)
    return html.escape(text) if _NEEDS_ESCAPE(text) else text


def hit_cards_html(hits: Iterable[Hit]) -> SafeString:
    """The result cards of ``hits`` as ``search/partials/hit_card.html`` renders each one."""
    hits = list(hits)
    if not hits:
        return mark_safe("")
    # ``localized`` and ``fen`` ask for the language per value; it is the page's.
    language = get_language()
    english = (language or "").startswith("en")
    click_before, click_after = _around("search:click", product_id=_STAND_IN)
    # product_id and image_id both take the stand-in: [before, between, after].
    image_before, image_between, image_after = _around(
        "catalog:product_image", product_id=_STAND_IN, image_id=_STAND_IN, size="400"
    )
    out = []
    for hit in hits:
        image = hit.image
        if image is not None:
            picture = (
                f'<img src="{image_before}{int(image.product_id)}{image_between}{int(image.pk)}'
                f'{image_after}" alt="{_e(image.alt or hit.title_zh)}" loading="lazy">'
            )
        else:
            picture = (
                '<span class="product-card-empty" aria-hidden="true">'
                f"{_e(monogram(hit.title_zh))}</span>"
            )
        price = (
            '<span class="product-card-price">'
            f"{_e(format_money(Money(int(hit.price_from_fen), 'CNY'), language))}</span>"
            if hit.price_from_fen
            else ""
        )
        shop = hit.shop
        title = (hit.title_en or hit.title_zh) if english else hit.title_zh
        shop_name = (shop.name_en or shop.name_zh) if english else shop.name_zh
        out.append(
            '<li class="product-card search-hit" data-testid="search-hit">'
            f'<a href="{click_before}{int(hit.pk)}{click_after}">{picture}'
            f'<span class="product-card-title">{_e(title)}</span>'
            f'<span class="search-hit-shop">{_e(shop_name)}</span>'
            f"{price}</a></li>"
        )
    return mark_safe("".join(out))  # noqa: S308  # every value above is escaped


# --- the results page's facets, sort links and pager (ADR 0056) ---------------------------------
#
# A list page links every facet bucket, every sort and the next and previous pages (~40 URLs);
# through the template each was a ``{% search_toggle %}`` / ``{% search_with %}`` call that
# rebuilt and re-encoded the whole query, inside two nested ``{% for %}`` loops — most of what
# the page's template still cost after the cards (ADR 0055). Here each parameter is quoted once
# per page and a link swaps one of them. The reference markup is
# ``search/partials/results_facets.html``, ``results_sort.html`` and ``results_pager.html``;
# ``tests/test_fragments.py`` holds them equal.


def _v(value: object) -> str:
    """``{{ value }}``: localised as the template engine renders a value, then escaped. A
    plain string is only escaped, and a count without thousands separators is its digits
    (what ``localize`` makes of both), the two values of almost every link here."""
    kind = type(value)
    if kind is str:
        return _e(value)
    if kind is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return str(conditional_escape(localize(value)))


class QueryLinks:
    """The URLs of one page that differ from its own query in one parameter, as
    ``search_tags._query`` writes them (same order, same encoding), escaped for an attribute."""

    def __init__(
        self, path: str, params: object, keys: tuple[str, ...], *, default_size: int | None
    ):
        self.path = path
        self.keys = keys
        self.quoted: dict[str, str] = {}
        for key in keys:
            value = getattr(params, key, "")
            if key == "sort" and value == "relevance":
                value = ""
            if value:
                self.quoted[key] = quote_plus(str(value))
        # The category page keeps a page size that is not its default (catalog_tags).
        size = getattr(params, "page_size", default_size)
        self.size = quote_plus(str(size)) if default_size and size != default_size else ""

    def _url(self, quoted: dict[str, str], page: object = None) -> str:
        parts = [f"{key}={quoted[key]}" for key in self.keys if key in quoted]
        if page:
            parts.append(f"page={quote_plus(str(page))}")
        if self.size:
            parts.append(f"page_size={self.size}")
        return _e(self.path + ("?" + "&".join(parts) if parts else ""))

    def changed(self, key: str, value: object) -> str:
        """The URL with ``key`` set to ``value`` (cleared when empty; the page reset)."""
        quoted = dict(self.quoted)
        if key == "sort" and value == "relevance":
            value = ""
        if value:
            quoted[key] = quote_plus(str(value))
        else:
            quoted.pop(key, None)
        return self._url(quoted)

    def toggled(self, key: str, value: str, selected: str) -> str:
        """``search_toggle``: set to ``value``, or cleared when it already is."""
        return self.changed(key, "" if selected == value else value)

    def page(self, number: int) -> str:
        return self._url(self.quoted, number)


# The parameters of a results URL, in the order ``search_tags`` writes them.
RESULTS_KEYS = ("q", *FACETS, "sort")


@lru_cache(maxsize=16)
def _results_path_for(prefix: str, urlconf: Any) -> str:
    return reverse("search:results")


def results_path() -> str:
    """``reverse("search:results")`` once per script prefix and URLconf: a results page links
    ~35 facet buckets and sorts, and reversing each was a sixth of its render (ADR 0051)."""
    return _results_path_for(get_script_prefix(), get_urlconf())


def search_link(**params: str) -> str:
    """The results URL of these parameters (unescaped)."""
    query = urlencode({k: v for k, v in params.items() if v})
    return results_path() + (f"?{query}" if query else "")


def search_links(params: SearchParams) -> QueryLinks:
    return QueryLinks(results_path(), params, RESULTS_KEYS, default_size=None)


def results_facets_html(params: SearchParams, facets: Iterable[Facet], links: QueryLinks) -> str:
    """``search/partials/results_facets.html``."""
    out = [f'<aside class="search-facets" aria-label="{gettext("筛选")}">\n']
    if params.filters():
        out.append(
            f'<p class="search-clear"><a href="{escape(search_link(q=params.q))}">'
            f"{gettext('清除全部筛选')}</a></p>\n"
        )
    for facet in facets:
        if not facet.buckets:
            continue
        name = _v(facet.name)
        selected = getattr(params, facet.name)
        out.append(
            f'<section class="facet" data-facet="{name}">\n<h2>{_v(facet.label)}</h2>\n<ul>\n'
        )
        for bucket in facet.buckets:
            current = ' aria-current="true"' if bucket.selected else ""
            out.append(
                f'<li><a href="{links.toggled(facet.name, bucket.value, selected)}"{current}'
                f' data-testid="facet-{name}-{_v(bucket.value)}"><span>{_v(bucket.label)}</span>'
                f'<span class="facet-count">{_v(bucket.count)}</span></a></li>\n'
            )
        out.append("</ul>\n</section>\n")
    out.append("</aside>")
    return "".join(out)


def results_sort_html(params: SearchParams, links: QueryLinks) -> str:
    """``search/partials/results_sort.html``."""
    out = [f'<nav class="search-sort" aria-label="{gettext("排序")}">\n']
    for value, label in SORTS.items():
        current = ' aria-current="true"' if params.sort == value else ""
        out.append(
            f'<a href="{links.changed("sort", value)}"{current} data-testid="sort-{_v(value)}">'
            f"{_v(label)}</a>"
        )
    out.append("\n</nav>")
    return "".join(out)


def results_pager_html(params: SearchParams, result: SearchResult, links: QueryLinks) -> str:
    """``search/partials/results_pager.html``: empty for a single page."""
    if result.pages <= 1:
        return ""
    out = [f'<nav class="pager search-pager" aria-label="{gettext("分页")}">\n']
    if result.previous_page:
        out.append(
            f'<a class="btn btn-ghost btn-sm" href="{links.page(result.previous_page)}"'
            f' rel="prev">{gettext("上一页")}</a>'
        )
    label = gettext("第 %(page)s / %(pages)s 页") % {
        "page": _v(params.page),
        "pages": _v(result.pages),
    }
    out.append(f'\n<span class="muted">{label}</span>\n')
    if result.next_page:
        out.append(
            f'<a class="btn btn-ghost btn-sm" href="{links.page(result.next_page)}"'
            f' rel="next">{gettext("下一页")}</a>'
        )
    out.append("\n</nav>")
    return "".join(out)


def results_controls_html(params: SearchParams, result: SearchResult) -> dict[str, SafeString]:
    """The facets, sort links and pager of a results page (every value above is escaped;
    translations of our own literals are safe, as in the template)."""
    links = search_links(params)
    return {
        "facets": mark_safe(results_facets_html(params, result.facets, links)),  # noqa: S308
        "sort": mark_safe(results_sort_html(params, links)),  # noqa: S308
        "pager": mark_safe(results_pager_html(params, result, links)),  # noqa: S308
    }


# --- the category page's facets, sort links and pager (ADR 0056) --------------------------------
#
# The same controls on ``catalog/partials/browse_results.html``: each link twice (``href`` and
# ``hx-get``), over the category page's URL. Reference markup:
# ``catalog/partials/browse_facets.html``, ``browse_sort.html``, ``browse_pager.html``.

# The parameters of a category page's URL, in the order ``catalog_tags._browse_query`` writes.
BROWSE_KEYS = ("price", "era", "craft", "region", "shop_type", "sort")
BROWSE_DEFAULT_SIZE = 24  # the page size catalog_tags leaves out of a link


def browse_controls_html(
    slug: str, params: SearchParams, result: SearchResult, facets: Iterable[Facet]
) -> dict[str, SafeString]:
    path = reverse("catalog:category_detail", kwargs={"slug": slug})
    links = QueryLinks(path, params, BROWSE_KEYS, default_size=BROWSE_DEFAULT_SIZE)
    out = []
    for facet in facets:
        name = _v(facet.name)
        selected = getattr(params, facet.name)
        out.append(
            f'<section class="facet" data-facet="{name}">\n<h2>{_v(facet.label)}</h2>\n<ul>\n'
        )
        for bucket in facet.buckets:
            href = links.toggled(facet.name, bucket.value, selected)
            current = ' aria-current="true"' if bucket.selected else ""
            out.append(
                f'<li><a href="{href}" hx-get="{href}"{current}'
                f' data-testid="facet-{name}-{_v(bucket.value)}"><span>{_v(bucket.label)}</span>'
                f'<span class="facet-count">{_v(bucket.count)}</span></a></li>\n'
            )
        out.append("</ul>\n</section>\n")
    sort = [f'<nav class="search-sort" aria-label="{gettext("排序")}">\n']
    for value, label in SORTS.items():
        href = links.changed("sort", value)
        current = ' aria-current="true"' if params.sort == value else ""
        sort.append(
            f'<a href="{href}" hx-get="{href}"{current} data-testid="sort-{_v(value)}">'
            f"{_v(label)}</a>"
        )
    sort.append("\n</nav>")
    pager = []
    if result.pages > 1:
        pager.append(f'<nav class="pager search-pager" aria-label="{gettext("分页")}">\n')
        if result.previous_page:
            href = links.page(result.previous_page)
            pager.append(
                f'<a class="btn btn-ghost btn-sm" href="{href}" hx-get="{href}" rel="prev">'
                f"{gettext('上一页')}</a>"
            )
        label = gettext("第 %(page)s / %(pages)s 页") % {
            "page": _v(params.page),
            "pages": _v(result.pages),
        }
        pager.append(f'\n<span class="muted" data-testid="browse-page">{label}</span>\n')
        if result.next_page:
            href = links.page(result.next_page)
            pager.append(
                f'<a class="btn btn-ghost btn-sm" href="{href}" hx-get="{href}" rel="next"'
                f' data-testid="browse-next">{gettext("下一页")}</a>'
            )
        pager.append("\n</nav>")
    # Every value above is escaped; translations of our own literals are safe.
    return {
        "facets": mark_safe("".join(out)),  # noqa: S308
        "sort": mark_safe("".join(sort)),  # noqa: S308
        "pager": mark_safe("".join(pager)),  # noqa: S308
    }


# --- the whole results page (ADR 0057) ----------------------------------------------------------
#
# After the cards and the controls, what a list page still spent in the template engine was the
# rest of ``search/results.html`` (the head, the form, the summary, ~60 nodes) and
# ``{% extends %}`` walking ``web/base.html``'s nodes on every render. The page's blocks are
# written here; ``search/results_page.html`` puts them into ``web/base.html`` (and the page
# cache keeps that shell per language for visitors without a session, ADR 0057).
# ``search/results.html`` stays the reference: ``tests/test_results_page.py`` serves both.


def _summary_html(params: SearchParams, result: SearchResult) -> str:
    """The summary line of ``search/results.html``."""
    data = {"label": _v(result.total_label)}
    if result.corrected:
        data["q"] = _v(result.suggestion)
        text = "已为你显示“%(q)s”的结果：%(label)s 件作品"
    elif params.q:
        data["q"] = _v(params.q)
        text = "“%(q)s”：找到 %(label)s 件作品"
    else:
        text = "共 %(label)s 件作品"
    parts = [ngettext(text, text, result.total) % data]
    if result.corrected:
        href = escape(search_link(q=params.q, exact="1"))
        parts.append(
            f'<span class="search-spelling" data-testid="search-corrected">· {gettext("仍然搜索")}'
            f' <a href="{href}">“{_v(params.q)}”</a></span>'
        )
    elif result.suggestion:
        href = escape(search_link(q=result.suggestion))
        parts.append(
            '<span class="search-spelling" data-testid="search-suggestion">·'
            f' {gettext("你是不是要找")} <a href="{href}">“{_v(result.suggestion)}”</a>？</span>'
        )
    if result.relaxed:
        message = gettext("没有同时包含所有词的作品，以下为部分匹配。")
        parts.append(f'<span class="muted">· {message}</span>')
    elif result.partial:
        message = gettext("同时包含所有词的作品很少，也列出了包含其中大部分词的作品。")
        parts.append(f'<span class="muted" data-testid="search-partial">· {message}</span>')
    return (
        '<p class="search-summary" data-testid="search-summary" aria-live="polite">\n'
        + "\n".join(parts)
        + "\n</p>"
    )


def _listing_html(params: SearchParams, result: SearchResult, trending: Any) -> str:
    """The facets, sort links and cards (or the empty state) of ``search/results.html``."""
    controls = results_controls_html(params, result)
    out = ['<div class="search-layout">\n', controls["facets"], '\n<div class="search-main">\n']
    out.append(controls["sort"])
    if result.hits:
        out.append('\n<ul class="product-grid search-grid" data-testid="search-results">\n')
        out.append(hit_cards_html(result.hits))
        out.append("\n</ul>\n")
        out.append(controls["pager"])
    else:
        empty = gettext(
            "没有找到相关作品。换个说法试试：拼音首字母（如 qhc）、英文（如 scarf）或更短的词。"
        )
        out.append(
            '\n<div class="search-empty" data-testid="search-empty">\n'
            f'<p class="empty">{empty}</p>\n'
        )
        queries = getattr(trending, "queries", None)
        if queries:
            chips = "".join(
                f'<a class="search-chip" href="{escape(search_link(q=q))}">{_v(q)}</a>'
                for q, _score in queries
            )
            out.append(f"<p>{gettext('大家在搜：')}{chips}</p>\n")
        out.append("</div>")
    out.append("\n</div>\n</div>")
    return "".join(out)


def results_page_html(
    params: SearchParams,
    *,
    result: SearchResult | None = None,
    error: object = None,
    trending: Any = None,
) -> dict[str, SafeString]:
    """The ``title``, ``extra_head`` and ``main`` blocks of ``search/results.html`` for the
    same context (``result``, or an ``error`` message; ``trending`` for an empty result)."""
    title = gettext("“%(q)s”的搜索结果") % {"q": _v(params.q)} if params.q else gettext("搜索")
    head = (
        f'<link rel="stylesheet" href="{escape(static("catalog/catalog.css"))}">\n'
        f'<link rel="stylesheet" href="{escape(static("search/search.css"))}">'
    )
    path = escape(results_path())
    hidden = "".join(
        f'<input type="hidden" name="{_v(name)}" value="{_v(value)}">'
        for name, value in params.filters().items()
    )
    sort = (
        f'<input type="hidden" name="sort" value="{_v(params.sort)}">'
        if params.sort != "relevance"
        else ""
    )
    search = gettext("搜索")
    out = [
        '<section class="section search-page" id="search-body" hx-boost="true"'
        ' hx-target="#search-body" hx-select="#search-body"'
        ' hx-swap="outerHTML show:window:top">\n<div class="wrap">\n<header class="search-head">\n'
        f'<span class="eyebrow">{search} · Search</span>\n'
        f'<form class="search-form" role="search" action="{path}" method="get">\n'
        f'<label class="visually-hidden" for="search-q">{gettext("搜索词")}</label>\n'
        f'<input id="search-q" name="q" type="search" value="{_v(params.q)}" maxlength="100"'
        f' placeholder="{gettext("作品、工艺、朝代、博物馆，拼音或英文都可以")}"'
        ' data-testid="search-q">\n'
        f"{hidden}\n{sort}\n"
        f'<button class="btn btn-primary" type="submit">{search}</button>\n</form>\n'
    ]
    if result is not None:
        out.append(_summary_html(params, result))
    out.append("\n</header>\n")
    if error:
        out.append(
            '<div class="status-card search-error" role="alert" data-testid="search-error">'
            f'<p>{_v(error)}</p><p><a href="{path}">{gettext("清除筛选，重新搜索")}</a></p></div>'
        )
    elif result is not None:
        out.append(_listing_html(params, result, trending))
    out.append("\n</div>\n</section>")
    # Every value above is escaped; translations of our own literals are safe (as in Django).
    return {
        "title": mark_safe(title),  # noqa: S308
        "head": mark_safe(head),  # noqa: S308
        "main": mark_safe("".join(out)),  # noqa: S308
    }
