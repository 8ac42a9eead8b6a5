"""Request and response bodies of the catalog API (shape only; rules live in services)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from yaji.accounts.schemas import ErrorOut

__all__ = [
    "ErrorOut",
    "RejectIn",
    "ShopApplicationIn",
    "ShopApplicationOut",
    "ShopApplicationReviewOut",
    "ShopOut",
    "ShopPageOut",
]

NO_NUL = r"^[^\x00]*$"
ShopTypeName = Literal["creator", "studio", "brand", "museum", "heritage_workshop"]


class ShopApplicationIn(Schema):
    name_zh: str = Field(..., min_length=1, max_length=60, pattern=NO_NUL)
    name_en: str = Field("", max_length=80, pattern=NO_NUL)
    slug: str = Field(..., min_length=1, max_length=40, description="3–40 of a-z, 0-9 and -")
    shop_type: ShopTypeName
    story_zh: str = Field("", max_length=4000, pattern=NO_NUL)
    story_en: str = Field("", max_length=4000, pattern=NO_NUL)
    region: str = Field("", max_length=60, pattern=NO_NUL)


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=1000, pattern=NO_NUL)


class PersonOut(Schema):
    id: int
    display_name: str


class DocumentOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    download_url: str


class ShopOut(Schema):
    id: int
    slug: str
    name_zh: str
    name_en: str
    shop_type: str
    shop_type_label: str
    story_zh: str
    story_en: str
    region: str
    logo_url: str | None
    owner: PersonOut
    url: str
    created_at: datetime


class ShopPageOut(Schema):
    items: list[ShopOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page")


class ShopApplicationOut(Schema):
    id: int
    status: Literal["submitted", "approved", "rejected"]
    name_zh: str
    name_en: str
    slug: str
    shop_type: str
    story_zh: str
    story_en: str
    region: str
    reject_reason: str
    reviewed_at: datetime | None
    shop_slug: str | None
    documents: list[DocumentOut]
    created_at: datetime


class ShopApplicationReviewOut(ShopApplicationOut):
    applicant: PersonOut
