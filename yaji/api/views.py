"""Answers for paths under /api/ that no endpoint matches: JSON, like every other API error."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    body = {"code": "not_found", "message": _("找不到该资源。"), "extra": {"path": request.path}}
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
