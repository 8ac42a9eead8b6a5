"""The fast path (ADR 0043): a lean WSGI layer in front of Django for hot, cheap refusals.

A Django request costs ~1 ms of CPU here before any view runs (middleware, URL resolution,
ninja's parsing and authentication); a red-packet storm's "all taken" needs a Redis read and
nothing else. An app registers a handler for a method and a full-match path regex::

    # yaji/redpackets/fast.py, imported from RedPacketsConfig.ready()
    @fast_route("POST", r"/api/v1/red-packets/(?P<packet_id>[0-9]+)/claim")
    def claim(request: FastRequest) -> ApplicationError | None: ...

A handler returns an ``ApplicationError`` to answer it exactly as the API would (status, the
``{"code", "message", "extra"}`` body in the request's language, the headers Django's
middleware adds), or None to hand the request to Django untouched. It must answer only what
the slow path provably answers for the same request, and must not write anything.

What happens before a handler runs — everything cheap, and any doubt means Django answers:

* one dict look-up by (method, first path segment), then the route's regex; no route: Django,
  at the cost of that look-up;
* Django's own preconditions that change the answer: the Host must be one Django accepts
  (``ALLOWED_HOSTS``, else Django's 400), no HTTPS redirect due (``SECURE_SSL_REDIRECT``);
* identity: ``Authorization: Bearer <token>`` parsed as ninja parses it, found valid in the
  bearer-token cache (ADR 0036; or in the process's near copy of its entry, ADR 0060) — same
  keys, expiry and auth generation, and no "last used" touch due
  (:func:`yaji.accounts.token_auth.token_cached_user_id`). A request with a cookie (a session,
  a language cookie) or a body that is chunked or large goes to Django;
* any exception (Redis down, a handler bug) is logged once per minute and Django answers.

Each fast answer is counted in ``yaji_http_requests_total`` (route ``fast:<pattern>``) and in
``yaji_fastpath_answers_total``, and logged as one access line with ``"fast": true``, like
every request Django serves.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from prometheus_client import Counter

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.observability import _SAFE_REQUEST_ID, REQUESTS, access_log

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # larger bodies are no hot refusal: Django reads them
_MEMO_SIZE = 256  # per-process memo of hosts and Accept-Language headers already decided

FAST_ANSWERS = Counter(
    "yaji_fastpath_answers_total",
    "Requests answered by the fast path (ADR 0043) before Django, by route and status.",
    ["method", "route", "status"],
)


@dataclass(frozen=True, slots=True)
class FastRequest:
    method: str
    path: str
    params: dict[str, str]  # named groups of the route's regex
    user_id: int  # bearer-authenticated; requests without a valid cached token never get here
    headers: Mapping[str, str]  # lower-case header names, e.g. "idempotency-key"
    body: bytes  # the raw request body (may be b"")
    # The route's RedisPeek answer, read with the token in one round trip (None: not asked, or
    # it could not ride along — the handler then reads for itself).
    peeked: str | None = None


@dataclass(frozen=True, slots=True)
class RedisPeek:
    """An optional read-only Lua chunk that rides in the token check's Redis round trip, so a
    handler's own read costs no second one. The chunk sees ``uid`` (the token's user id, a
    string), ``K`` (``keys(params)``) and ``A`` (``args(params)``), returns a string and writes
    nothing; its answer is handed over only once the token proved valid. ``keys`` returning
    None skips it (e.g. no gate configured). The keys must live in the token cache's Redis,
    whose URL ``location()`` must return (else the handler reads for itself)."""

    lua: str
    keys: Callable[[dict[str, str]], list[str] | None]
    args: Callable[[dict[str, str]], list[Any]]
    location: Callable[[], str | None]


Handler = Callable[[FastRequest], ApplicationError | None]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    peek: RedisPeek | None = None


_routes: dict[tuple[str, str], list[_Route]] = {}
# (peek(token, now, **rider) -> found with .user_id and .rider, location() -> Redis URL or None)
_identity: tuple[Callable[..., Any], Callable[[], str | None]] | None = None


def fast_identity_register(peek: Callable[..., Any], location: Callable[[], str | None]) -> None:
    """The bearer-token check the fast path trusts, registered by the accounts app from its
    ``ready()`` (the kernel may not import a domain app: the import-layer contract)."""
    global _identity
    _identity = (peek, location)


_FIRST_SEGMENT = re.compile(r"/([A-Za-z0-9_\-]+)(?:/|$)")


def fast_route(
    method: str, pattern: str, *, peek: RedisPeek | None = None
) -> Callable[[Handler], Handler]:
    """Register handler(FastRequest) -> ApplicationError | None for requests matching
    method + full-match regex on PATH_INFO. Returning an ApplicationError (yaji.core.errors):
    the fast path answers it exactly as the API would (same status, same {"code","message",
    "extra"} envelope, message translated to the request's language, same headers that matter
    e.g. Content-Type/Content-Language). Returning None: the request goes on to Django
    untouched. ``peek``: see :class:`RedisPeek`."""
    method = method.upper()
    first = _FIRST_SEGMENT.match(pattern)
    if first is None:
        raise ValueError(f"a fast route starts with a literal first segment: {pattern!r}")
    key = (method, first.group(1))
    regex = re.compile(pattern)

    def register(handler: Handler) -> Handler:
        bucket = _routes.setdefault(key, [])
        # Registering the same route again (a re-imported module) replaces it.
        bucket[:] = [r for r in bucket if r.pattern != pattern]
        bucket.append(
            _Route(method=method, pattern=pattern, regex=regex, handler=handler, peek=peek)
        )
        return handler

    return register


def fast_routes() -> list[tuple[str, str]]:
    return [(r.method, r.pattern) for bucket in _routes.values() for r in bucket]


# --- the WSGI layer ---------------------------------------------------------------------------

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FastPath:
    """WSGI middleware: answers what a registered handler answers, else calls ``app``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if _routes:
            path: str = environ.get("PATH_INFO", "")
            parts = path.split("/", 2)
            bucket = (
                _routes.get((environ.get("REQUEST_METHOD", ""), parts[1]))
                if len(parts) > 1
                else None
            )
            if bucket is not None:
                for route in bucket:
                    match = route.regex.fullmatch(path)
                    if match is not None:
                        answer = _try(route, match, environ, start_response)
                        if answer is not None:
                            return answer
                        break
        return self.app(environ, start_response)


def fastpath_wrap(app: WsgiApp) -> WsgiApp:
    """``app`` behind the fast path, unless ``YAJI_FAST_PATH`` is off."""
    if isinstance(app, FastPath) or not getattr(settings, "YAJI_FAST_PATH", True):
        return app
    return FastPath(app)


_last_failure_log = [0.0]


def _try(
    route: _Route, match: re.Match[str], environ: dict[str, Any], start_response: StartResponse
) -> list[bytes] | None:
    started = time.perf_counter()
    try:
        return _answer(route, match, environ, start_response, started)
    except Exception:
        now = time.monotonic()
        if now - _last_failure_log[0] > 60:
            _last_failure_log[0] = now
            logger.warning("fast path failed; Django answers", exc_info=True)
        return None


def _answer(
    route: _Route,
    match: re.Match[str],
    environ: dict[str, Any],
    start_response: StartResponse,
    started: float,
) -> list[bytes] | None:
    if environ.get("HTTP_COOKIE") or "HTTP_TRANSFER_ENCODING" in environ:
        return None  # a session or language cookie, or a streamed body: Django's business
    token = _bearer(environ.get("HTTP_AUTHORIZATION"))
    conf = _conf_get()
    if token is None or not _host_allowed(environ, conf) or _https_redirect_due(environ, conf):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 <= length <= MAX_BODY:
        return None

    if _identity is None:
        return None  # nobody registered a token check: every request is Django's
    token_cached_peek, token_cache_location = _identity
    params = match.groupdict()
    rider: dict[str, Any] = {}
    peek = route.peek
    if peek is not None:
        keys = peek.keys(params)
        if keys is not None and peek.location() == token_cache_location():
            rider = {"rider": peek.lua, "rider_keys": keys, "rider_args": peek.args(params)}
    found = token_cached_peek(token, clock.now(), **rider)
    if found.user_id is None:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    # Django may still read it: give it the same bytes back.
    environ["wsgi.input"] = io.BytesIO(body)
    request = FastRequest(
        method=route.method,
        path=environ.get("PATH_INFO", ""),
        params=params,
        user_id=found.user_id,
        headers=_Headers(environ),
        body=body,
        peeked=found.rider,
    )
    error = route.handler(request)
    if error is None:
        return None
    return _respond(route, error, environ, start_response, started)


def _bearer(value: str | None) -> str | None:
    """The token as ninja's ``HttpBearer`` reads it, or None when it would not."""
    if not value:
        return None
    parts = value.split(" ")
    if parts[0].lower() != "bearer":
        return None
    return " ".join(parts[1:])


class _Headers(Mapping[str, str]):
    """The request's headers by lower-case name, read from the environ on demand: a handler
    asks for one or two, so no dict of all of them is built per request."""

    __slots__ = ("_environ",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self._environ = environ

    @staticmethod
    def _meta(name: str) -> str:
        key = name.upper().replace("-", "_")
        return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key

    def __getitem__(self, name: str) -> str:
        key = self._meta(name)
        value = self._environ.get(key)
        if value is None or (not value and key.startswith("CONTENT_")):
            raise KeyError(name)  # as the dict of all headers would: no empty content headers
        return value

    def _all(self) -> dict[str, str]:
        environ = self._environ
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = environ[name]
        return headers

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


# --- Django's preconditions -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Conf:
    """The settings the fast path reads per request, read once per process: a lazy
    ``settings.X`` costs a proxy look-up each, ~20 per answer. Rebuilt after any
    ``setting_changed`` (tests' ``override_settings``)."""

    forwarded_host: bool
    allowed_hosts: tuple[str, ...]
    proxy_ssl_header: tuple[str, str] | None
    ssl_redirect: bool
    headers_plain: tuple[tuple[str, str], ...]  # SecurityMiddleware's + X-Frame-Options, http
    headers_secure: tuple[tuple[str, str], ...]  # the same over https (HSTS when configured)


_conf: list[_Conf] = []


def _conf_get() -> _Conf:
    if _conf:
        return _conf[0]
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    proxy = settings.SECURE_PROXY_SSL_HEADER
    conf = _Conf(
        forwarded_host=bool(settings.USE_X_FORWARDED_HOST),
        allowed_hosts=tuple(allowed),
        proxy_ssl_header=(proxy[0], proxy[1]) if proxy else None,
        ssl_redirect=bool(settings.SECURE_SSL_REDIRECT),
        headers_plain=tuple(_static_headers(secure=False)),
        headers_secure=tuple(_static_headers(secure=True)),
    )
    _conf.append(conf)
    return conf


def _memos_clear(**_kwargs: Any) -> None:
    _conf.clear()
    _hosts.clear()
    _languages.clear()
    _bodies.clear()


setting_changed.connect(_memos_clear, dispatch_uid="yaji.core.fastpath.memos")

_hosts: dict[str, bool] = {}


def _host_allowed(environ: dict[str, Any], conf: _Conf) -> bool:
    """``HttpRequest.get_host()``'s verdict without a request (memoised per raw host)."""
    if conf.forwarded_host and "HTTP_X_FORWARDED_HOST" in environ:
        raw = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        raw = environ["HTTP_HOST"]
    else:
        return False  # Django builds one from SERVER_NAME: rare, let it
    known = _hosts.get(raw)
    if known is None:
        domain, _port = split_domain_port(raw)
        known = bool(domain) and validate_host(domain, list(conf.allowed_hosts))
        if len(_hosts) < _MEMO_SIZE:
            _hosts[raw] = known
    return known


def _secure(environ: dict[str, Any], conf: _Conf) -> bool:
    proxy = conf.proxy_ssl_header
    if proxy:
        header, expected = proxy
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == expected
    return environ.get("wsgi.url_scheme") == "https"


def _https_redirect_due(environ: dict[str, Any], conf: _Conf) -> bool:
    # SecurityMiddleware would redirect (unless exempt — then Django decides, still correct).
    return conf.ssl_redirect and not _secure(environ, conf)


# --- the answer -------------------------------------------------------------------------------


class _LanguageProbe:
    """What ``get_language_from_request`` reads of a request (no cookie: checked above)."""

    COOKIES: dict[str, str] = {}  # read only

    def __init__(self, accept_language: str) -> None:
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept_language}
        self.path_info = ""


_languages: dict[str, str] = {}


def _language(environ: dict[str, Any]) -> str:
    """LocaleMiddleware's choice for a cookieless API request (its path has no language)."""
    accept = environ.get("HTTP_ACCEPT_LANGUAGE", "")
    found = _languages.get(accept)
    if found is None:
        found = translation.get_language_from_request(_LanguageProbe(accept))  # type: ignore[arg-type]
        if len(_languages) < _MEMO_SIZE:
            _languages[accept] = found
    return found


def _static_headers(*, secure: bool) -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to an API error response."""
    headers = [("X-Frame-Options", settings.X_FRAME_OPTIONS.upper())]
    if settings.SECURE_HSTS_SECONDS and secure:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        if not isinstance(policy, str):
            policy = ",".join(policy)
        headers.append(("Referrer-Policy", policy))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers


_bodies: dict[tuple[Any, ...], bytes] = {}


def _render(error: ApplicationError, language: str) -> bytes:
    """The error's JSON body in ``language``. An error with its class's default message and a
    flat extra of plain values renders the same bytes every time: memoised per process (the
    translation switch and the encoder cost more than the rest of a fast answer's Python)."""
    key: tuple[Any, ...] | None = None
    if error.message is type(error).default_message and all(
        type(v) in (bool, int, str) for v in error.extra.values()
    ):
        key = (type(error), error.code, tuple(sorted(error.extra.items())), language)
        found = _bodies.get(key)
        if found is not None:
            return found
    from ninja.renderers import JSONRenderer

    with translation.override(language):
        body = error.as_body()
    rendered = json.dumps(
        body, cls=JSONRenderer.encoder_class, **JSONRenderer.json_dumps_params
    ).encode()
    if key is not None and len(_bodies) < _MEMO_SIZE:
        _bodies[key] = rendered
    return rendered


_counters_lock = threading.Lock()
_counters: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _count(method: str, pattern: str, status: int) -> None:
    key = (method, pattern, status)
    pair = _counters.get(key)
    if pair is None:
        with _counters_lock:
            pair = _counters[key] = (
                REQUESTS.labels(method, f"fast:{pattern}", str(status)),
                FAST_ANSWERS.labels(method, pattern, str(status)),
            )
    pair[0].inc()
    pair[1].inc()


def _respond(
    route: _Route,
    error: ApplicationError,
    environ: dict[str, Any],
    start_response: StartResponse,
    started: float,
) -> list[bytes]:
    conf = _conf_get()
    language = _language(environ)
    body = _render(error, language)
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    rid = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    status = error.status
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        *(conf.headers_secure if _secure(environ, conf) else conf.headers_plain),
        ("Vary", "Accept-Language"),
        ("Content-Language", language),
        ("Content-Length", str(len(body))),
        ("X-Request-ID", rid),
    ]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    _count(route.method, route.pattern, status)
    path = environ.get("PATH_INFO", "")
    access_log.info(
        "%s %s %s",
        route.method,
        path,
        status,
        extra={
            "request_id": rid,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "fast": True,
        },
    )
    return [body]
