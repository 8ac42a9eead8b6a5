"""The versioned REST API: one NinjaAPI, one Router per app, one error body for all.

Every error leaves as ``{"code", "message", "extra"}`` with a 4xx status, whatever raised
it: a service's ApplicationError, ninja's validation of the input, a missing object, a
failed authentication or a throttle.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from yaji.accounts.api import router as accounts_router
from yaji.catalog.api import router as catalog_router
from yaji.community.api import router as community_router
from yaji.copyright.api import router as copyright_router
from yaji.core.api import router as core_router
from yaji.core.errors import ApplicationError
from yaji.moderation.api import router as moderation_router
from yaji.payments.api import router as payments_router
from yaji.redpackets.api import router as redpackets_router
from yaji.risk.api import router as risk_router
from yaji.search.api import router as search_router
from yaji.trade.api import router as trade_router

api = NinjaAPI(
    title="Yaji 雅集 API",
    version="1",
    description=(
        "REST API of the Yaji cultural-creative marketplace. Authenticate with "
        "`Authorization: Bearer <access token>` from `POST /api/v1/auth/login`. "
        "Errors are `{code, message, extra}`; POSTs that create or move things accept an "
        "`Idempotency-Key` header and replay the first response on retry."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "extra": extra or {}}, status=status
    )


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_body(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors
    ]
    return _error(request, 422, "validation_error", _("提交的数据无效。"), {"errors": errors})


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", _("请先登录或提供有效的访问令牌。"))


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return _error(
        request, 429, "rate_limited", _("操作过于频繁，请稍后再试。"), {"retry_after": exc.wait}
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
    }
    return _error(request, exc.status_code, code.get(exc.status_code, "http_error"), str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("找不到该资源。"))


@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("您没有权限执行此操作。"))


api.add_router("/", core_router)
api.add_router("/", accounts_router)
api.add_router("/", catalog_router)
api.add_router("/", search_router)
api.add_router("/", moderation_router)
api.add_router("/", community_router)
api.add_router("/", copyright_router)
api.add_router("/", payments_router)
api.add_router("/", redpackets_router)
api.add_router("/", risk_router)
api.add_router("/", trade_router)

if settings.YAJI_BENCH_PROBES:
    # `yaji bench request-path` only (ADR 0036): its server sets YAJI_BENCH_PROBES=1.
    from yaji.bench.probes import router as bench_probes_router

    api.add_router("/", bench_probes_router)


def api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """``api.urls`` with the routes grouped by their first path segment (ADR 0036).

    Django tries URL patterns one after another; ninja gives one flat list of ~170, so a
    route near its end (red-packet grab, checkout) cost ~170 regex matches per request —
    a fifth of a trivial authenticated request's CPU. Grouped, a request tries the ~40
    first segments, then its group's routes. Same names, same namespace, same order within
    a group; groups cannot overlap because every first segment is a literal.
    """
    patterns, app_name, namespace = api.urls
    routes = [str(p.pattern) for p in patterns]
    if any(route.startswith("<") for route in routes):
        return patterns, app_name, namespace  # a converter first: keep ninja's order as is
    grouped: list[URLPattern | URLResolver] = []
    groups: dict[str, list[URLPattern]] = {}
    for pattern, route in zip(patterns, routes, strict=True):
        head, slash, rest = route.partition("/")
        if not slash or not isinstance(pattern, URLPattern):
            grouped.append(pattern)
            continue
        if head not in groups:
            groups[head] = []
            grouped.append(path(f"{head}/", include(groups[head])))
        groups[head].append(path(rest, pattern.callback, pattern.default_args, name=pattern.name))
    return grouped, app_name, namespace
