"""The site's middleware, passed by for bearer-token API calls without cookies (ADR 0053).

CSRF, flash messages and htmx details serve the site (cookies, forms, templates). An API call
with ``Authorization: Bearer`` and no ``Cookie`` header uses none of them, yet paid for them on
every request: a message storage built (three cookie signers), the CSRF cookie looked for, then
each asked on the way out whether it changed. These subclasses run the original unchanged for
every other request, in the same place of ``MIDDLEWARE``, and step aside for such a call, which
leaves its response as it was:

- no cookie: no CSRF secret to read, none malformed to replace, no stored messages; a CSRF
  cookie is only ever set after a template asked for a token, and no API view adds a message or
  reads ``request.htmx``;
- ninja's views are CSRF-exempt and its session fallback (``django_auth``) runs its own check,
  which needs no middleware; a plain Django view under /api/ (the JSON 404) is still checked;
- sessions and the session user stay as they are: a failed bearer token falls back to the
  session user, whose look-up marks the session accessed (``Vary: Cookie``), so skipping them
  would change that answer.

The admin's checks (admin.E408–E410) accept these subclasses of Django's classes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django_htmx.middleware import HtmxMiddleware

API_PREFIX = "/api/"
_FLAG = "_yaji_bearer_api"


def bearer_api_call(request: HttpRequest) -> bool:
    """An API request with a bearer token (as ninja's ``HttpBearer`` reads the header) and no
    cookie at all; decided once per request."""
    known = request.__dict__.get(_FLAG)
    if known is None:
        meta = request.META
        known = (
            not meta.get("HTTP_COOKIE")
            and request.path_info.startswith(API_PREFIX)
            and meta.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
        )
        request.__dict__[_FLAG] = known
    return bool(known)


class _SiteOnly:
    get_response: Any
    async_mode: bool

    def __call__(self, request: HttpRequest) -> Any:
        if not self.async_mode and bearer_api_call(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SiteCsrfViewMiddleware(_SiteOnly, CsrfViewMiddleware):
    def process_view(self, request: HttpRequest, callback: Any, args: Any, kwargs: Any) -> Any:
        if bearer_api_call(request) and not getattr(callback, "csrf_exempt", False):
            # A plain Django view under /api/ (the JSON 404): checked as before, so first
            # what the check reads, which the way in skipped.
            self.process_request(request)
        return super().process_view(request, callback, args, kwargs)


class SiteMessageMiddleware(_SiteOnly, MessageMiddleware):
    pass


class SiteHtmxMiddleware(_SiteOnly, HtmxMiddleware):
    pass
