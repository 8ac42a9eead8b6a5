"""The results page written in Python (ADR 0057) is ``search/results.html``'s page: the same
HTML up to runs of whitespace for browsing and for text searches, with hits, without (and
what is trending), with an error, a corrected or suggested spelling, a relaxed or partial
match, selected facets, values that need escaping, in zh-hans and en; through the page cache
(miss and hit, the HTMX variants) too, in the same three statements."""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import translation

from yaji.search.fragments import results_page_html
from yaji.search.selectors import SORTS, SearchParams, SearchResult, search_run, search_trending
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open
from yaji.search.tests.test_fragments import NASTY, PARAMS, _cards, _facets
from yaji.search.views import params_from

LANGUAGES = ("zh-hans", "en")
TOKEN = "t" * 64
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _same(reference: str, written: str, what: str) -> None:
    one, two = _flat(reference), _flat(written)
    if one != two:
        diff = difflib.unified_diff(
            one.replace(">", ">\n").splitlines(), two.replace(">", ">\n").splitlines(), lineterm=""
        )
        pytest.fail(f"{what}: the Python page differs from the template:\n" + "\n".join(diff))


def _request(path: str) -> Any:
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    request.resolver_match = resolve(request.path_info)
    return request


def _both(path: str, context: dict[str, Any], *, token: str = TOKEN) -> tuple[str, str]:
    """search/results.html and search/results_page.html (the blocks written in Python) for
    the same context, request and CSRF token."""
    request = _request(path)
    context = {**context, "csrf_token": token}
    reference = render_to_string(
        "search/results.html", {**context, "sorts": SORTS.items()}, request=request
    )
    blocks = results_page_html(
        context["params"],
        result=context.get("result"),
        error=context.get("error"),
        trending=context.get("trending"),
    )
    written = render_to_string("search/results_page.html", {**context, "page": blocks}, request)
    return reference, written


def _results() -> dict[str, SearchResult]:
    hits = _cards()
    base = SearchResult(params=SearchParams(), hits=hits, total=1234, facets=_facets())
    return {
        "hits": base,
        "capped": replace(base, total=1200, total_exact=False),
        "one": replace(base, hits=hits[:1], total=1),
        "no hits": replace(base, hits=[], total=0),
        "corrected": replace(base, corrected=True, suggestion=f"改{NASTY}", total=2),
        "suggested": replace(base, suggestion=f"建议{NASTY}"),
        "relaxed": replace(base, relaxed=True, suggestion="x"),
        "partial": replace(base, partial=True),
        "past the last page": replace(base, hits=[], total=30),
    }


TRENDING = SimpleNamespace(queries=[("青花", 3.0), (NASTY, 1.5), ("a+b&c=d", 1.0)])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"q={p.q!r}/{p.category!r}/{p.page}")
def test_the_written_page_is_the_template_page(language: str, params: SearchParams) -> None:
    for case, result in _results().items():
        result = replace(result, params=params)
        for trending in (None, SimpleNamespace(queries=[]), TRENDING):
            context = {"params": params, "result": result, "trending": trending}
            with translation.override(language):
                reference, written = _both("/search/?q=x", context)
            assert "search-summary" in reference
            _same(reference, written, f"{case} ({language}, trending {trending})")
            assert "<script>alert" not in written


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("params", PARAMS[:3])
def test_an_error_is_the_template_error(language: str, params: SearchParams) -> None:
    for error in (f"页码无效{NASTY}", translation.gettext_lazy("搜索")):
        with translation.override(language):
            reference, written = _both("/search/", {"params": params, "error": error})
        assert 'data-testid="search-error"' in reference
        _same(reference, written, f"error ({language})")


def test_a_blank_query_is_written_as_the_template_writes_it() -> None:
    """``q`` of spaces: browsing for the view (not a text search) but a query for the page."""
    params = SearchParams(q="   ", category="tea")
    result = SearchResult(params=params, hits=_cards(), total=4, facets=_facets())
    for language in LANGUAGES:
        with translation.override(language):
            _same(*_both("/search/?q=+++", {"params": params, "result": result}), "blank q")


# --- served by the view -------------------------------------------------------------------------


@pytest.fixture
def world() -> None:
    reviewer = reviewer_user()
    studio = shop_open(reviewer=reviewer, name_zh=f"云纹{NASTY}", shop_type="studio")
    museum = shop_open(reviewer=reviewer, name_zh="江南织造博物馆", shop_type="museum")
    for i, (title, slug) in enumerate(
        [
            ("景泰蓝掐丝书签", "stationery"),
            ("青花瓷茶杯", "ceramics"),
            (f"青花瓷{NASTY}盘", "ceramics"),
            ("千里江山真丝丝巾", "museum"),
        ]
    ):
        listed(
            museum if slug == "museum" else studio,
            reviewer=reviewer,
            title_zh=title,
            title_en=f"Work {i} {NASTY}" if i % 2 else "",
            category_slug=slug,
            price_fen=8800 + 1000 * i,
            attributes=(("craft", "景泰蓝"),) if i == 0 else (),
        )
    relay()


PATHS = (
    "/search/",
    "/search/?category=ceramics&sort=newest&page=1",
    "/search/?category=ceramics&sort=price_asc&craft=景泰蓝",
    "/search/?category=ceramics&sort=sales&page=1&page_size=1",
    "/search/?category=ceramics&sort=relevance&page=2&page_size=1",
    "/search/?category=nowhere",  # nothing: what is trending
    "/search/?page=0",  # an error
    "/search/?sort=sideways",  # an error
    "/search/?q=青花瓷",
    "/search/?q=青花瓷&sort=price_asc&category=ceramics",
    "/search/?q=景泰兰",  # corrected
    "/search/?q=景泰兰&exact=1",  # as typed: nothing
    "/search/?q=丝巾+景泰蓝",  # partial
    f"/search/?q={NASTY}",
    "/search/?q=+++",
)


def _reference_of(path: str, language: str, token: str) -> str:
    request = _request(path)
    params = params_from(request)
    context: dict[str, Any] = {"params": params, "sorts": SORTS.items(), "csrf_token": token}
    try:
        context["result"] = result = search_run(params)
    except Exception as exc:  # the view's ApplicationError
        context["error"] = exc.message  # type: ignore[attr-defined]
    else:
        if not result.total:
            context["trending"] = search_trending(limit=8)
    return render_to_string("search/results.html", context, request=request)


def _served(client: Client, path: str, language: str, **headers: str) -> tuple[Any, str]:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language, **headers)
    served = response.content.decode()
    assert "yajicsrfplaceholder" not in served and "yajipathplaceholder" not in served
    return response, served


@pytest.mark.django_db
@pytest.mark.parametrize("cache_on", [False, True], ids=["no page cache", "page cache"])
def test_the_served_page_is_the_template_page(world, settings, cache_on) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = cache_on
    for language in LANGUAGES:
        for path in PATHS:
            response, served = _served(Client(), path, language)
            tokens = set(TOKEN_RE.findall(served))
            assert len(tokens) == 1, path
            with translation.override(language):
                reference = _reference_of(path, language, tokens.pop())
            _same(reference, served, f"{path} ({language}, status {response.status_code})")


@pytest.mark.django_db
def test_through_the_page_cache_miss_and_hit_and_htmx_variants(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = True
    variants: tuple[dict[str, str], ...] = (
        {},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "search-body", "HTTP_HX_BOOSTED": "true"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"},
    )
    path = "/search/?category=ceramics&sort=newest&page=1&from=<home>"
    for language in LANGUAGES:
        for headers in variants:
            for expected in ("miss", "hit"):
                response, served = _served(Client(), path, language, **headers)
                assert response["X-Page-Cache"] == expected, (language, headers)
                token = TOKEN_RE.search(served).group(1)  # type: ignore[union-attr]
                with translation.override(language):
                    _same(_reference_of(path, language, token), served, f"{expected} {headers}")
                assert 'name="next" value="/search/?category=ceramics&amp;' in served


@pytest.mark.django_db
def test_a_list_page_is_three_statements_at_any_page_size(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = True
    client = Client()
    client.get("/search/?category=ceramics&sort=newest")  # the facet counts, the category tree
    counts = []
    for size in (1, 2, 48):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/search/?category=ceramics&sort=newest&page_size={size}")
        assert response["X-Page-Cache"] == "miss"
        counts.append(len(captured))
    assert counts == [3, 3, 3]


@pytest.mark.django_db
def test_a_miss_takes_the_shell_kept_for_its_language(world, settings) -> None:  # type: ignore[no-untyped-def]
    """The first miss renders web/base.html once with marks for the blocks; later misses of
    other list pages in the same language only put their blocks into that shell."""
    settings.YAJI_PAGE_CACHE = True
    first = "/search/?category=ceramics&sort=newest"
    others = ("/search/?category=ceramics&sort=sales", "/search/?category=museum&craft=景泰蓝")
    for language in LANGUAGES:
        response, _ = _served(Client(), first, language)
        assert response["X-Page-Cache"] == "miss"
        assert "web/base.html" in [t.name for t in response.templates]
        for path in others:
            response, served = _served(Client(), path, language)
            assert response["X-Page-Cache"] == "miss"
            assert response.templates == []  # no template rendered: the kept shell
            token = TOKEN_RE.search(served).group(1)  # type: ignore[union-attr]
            with translation.override(language):
                _same(_reference_of(path, language, token), served, f"{path} ({language})")
            assert f'lang="{"zh-Hans" if language == "zh-hans" else "en"}"' in served


@pytest.mark.django_db
def test_a_signed_in_visitor_gets_the_template_shell(world, client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_PAGE_CACHE = True
    Client().get("/search/?category=ceramics")  # a shell kept for visitors without a session
    user = reviewer_user()
    client.force_login(user)
    response = client.get("/search/?category=ceramics&sort=sales")
    assert "X-Page-Cache" not in response
    assert "web/base.html" in [t.name for t in response.templates]
    assert 'class="account-menu"' in response.content.decode()
