"""Search pages: the results page with facets and sorting, and the click-through that counts
a product view for "trending". Thin: parse, call a selector, render."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from yaji.catalog.page_cache import CATALOG, LISTS, page_serve, page_shell_render
from yaji.core.errors import ApplicationError
from yaji.search import services
from yaji.search.fragments import results_page_html
from yaji.search.selectors import (
    FACETS,
    PAGE_SIZE,
    SearchParams,
    search_run,
    search_trending,
)

MAX_ID = 2**63 - 1


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return -1  # rejected by the selector with a clear message


def params_from(request: HttpRequest) -> SearchParams:
    get = request.GET
    return SearchParams(
        q=get.get("q", "")[:400],
        sort=get.get("sort") or "relevance",
        page=_int(get.get("page"), 1),
        page_size=_int(get.get("page_size"), PAGE_SIZE),
        exact=get.get("exact") == "1",  # "search instead for" the words as typed
        **{name: get.get(name, "")[:60] for name in FACETS},
    )


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    params = params_from(request)
    if params.q.strip():
        # A text search counts towards trending, so every one is run (and its ranking is the
        # search layer's own business to make fast).
        return _results(request, params, {})
    # Browsing without words (a facet, a sort, a page) is the same page for every visitor
    # without a session: cached until the catalog or the index changes (ADR 0037).
    return page_serve(
        request,
        page="search",
        versions=[CATALOG, LISTS],
        build=lambda extra: _results(request, params, extra),
    )


def _results(request: HttpRequest, params: SearchParams, extra: dict[str, object]) -> HttpResponse:
    status = 200
    result = trending = error = None
    try:
        result = search_run(params)
    except ApplicationError as exc:
        error = exc.message
        status = exc.status
    else:
        if params.q.strip() and params.page == 1 and result.total:
            services.search_activity_record(kind="query", key=params.q)
        if not result.total:
            trending = search_trending(limit=8)
    # The blocks of search/results.html written in Python (ADR 0057; that template is their
    # reference), put into web/base.html by search/results_page.html.
    # The header's search box shows the words (web/base.html): the shell varies with them.
    blocks = results_page_html(params, result=result, error=error, trending=trending)
    context = {"params": params, **extra}
    return page_shell_render(
        request,
        "search/results_page.html",
        context,
        blocks=blocks,
        vary=(params.q,),
        status=status,
    )


@require_GET
def click(request: HttpRequest, product_id: int) -> HttpResponse:
    """A result's link: count the view, then go to the product page."""
    if not 0 < product_id <= MAX_ID:
        raise Http404()
    services.search_activity_record(kind="product", key=str(product_id))
    return HttpResponseRedirect(
        reverse("catalog:product_detail", kwargs={"product_id": product_id})
    )
