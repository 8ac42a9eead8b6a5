"""The search API (tag "search"): results with facets, suggestions as you type, trending.

Public (no token needed) and thin: parameters are checked by the selectors, which raise
stable 4xx codes (``search_unknown_facet_value``, ``search_invalid_page`` ...).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import codes_4xx

from yaji.search import services
from yaji.search.presenters import result_dict, suggestion_dict, trending_dict
from yaji.search.schemas import ErrorOut, SearchOut, SearchQueryIn, SuggestOut, TrendingOut
from yaji.search.selectors import SearchParams, search_run, search_suggest, search_trending

router = Router(tags=["search"])
ERRORS = {codes_4xx: ErrorOut}


@router.get(
    "/search",
    response={200: SearchOut, **ERRORS},
    summary="Search listed products",
    url_name="search",
)
def search(request: HttpRequest, query: Query[SearchQueryIn]) -> dict:
    result = search_run(SearchParams(**query.dict()))
    if query.q.strip() and query.page == 1 and result.total:
        services.search_activity_record(kind="query", key=query.q)
    return result_dict(result)


@router.get(
    "/search/suggest",
    response={200: SuggestOut, **ERRORS},
    summary="Suggestions as you type",
    url_name="search_suggest",
)
def suggest(request: HttpRequest, q: str = "", limit: int = 8) -> dict:
    return {"q": q, "suggestions": [suggestion_dict(s) for s in search_suggest(q=q, limit=limit)]}


@router.get(
    "/search/trending",
    response={200: TrendingOut, **ERRORS},
    summary="Trending queries and products",
    url_name="search_trending",
)
def trending(request: HttpRequest, limit: int = 8) -> dict:
    return trending_dict(search_trending(limit=limit))
