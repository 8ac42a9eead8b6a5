"""Platform-level API endpoints (about this deployment)."""

from __future__ import annotations

from django.conf import settings
from ninja import Router, Schema

import yaji

router = Router(tags=["platform"])


class PlatformOut(Schema):
    name: str
    version: str
    languages: list[str]
    default_currency: str


@router.get("/platform", response=PlatformOut, summary="About this Yaji deployment")
def platform_info(request):
    return PlatformOut(
        name="Yaji 雅集",
        version=yaji.__version__,
        languages=[code for code, _name in settings.LANGUAGES],
        default_currency="CNY",
    )
