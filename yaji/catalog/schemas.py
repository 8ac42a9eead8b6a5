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


# --- products -----------------------------------------------------------------------------------

ProductKindName = Literal[
    "standard", "limited_edition", "made_to_order", "digital_download", "course", "bundle"
]
SLUG_PATTERN = r"^[a-z0-9-]{0,60}$"


class ProductIn(Schema):
    title_zh: str = Field(..., min_length=1, max_length=80, pattern=NO_NUL)
    title_en: str = Field("", max_length=120, pattern=NO_NUL)
    kind: ProductKindName = "standard"
    story_zh: str = Field("", max_length=8000, pattern=NO_NUL)
    story_en: str = Field("", max_length=8000, pattern=NO_NUL)
    designer_notes: str = Field("", max_length=4000, pattern=NO_NUL)
    category: str | None = Field(None, max_length=60, pattern=SLUG_PATTERN)
    attribute_ids: list[int] = Field(default_factory=list, max_length=30)
    tags: list[str] = Field(default_factory=list, max_length=30)
    edition_size: int | None = Field(None, ge=1, le=1_000_000)
    per_buyer_limit: int | None = Field(None, ge=1, le=1_000_000)
    lead_time_days: int | None = Field(None, ge=1, le=365)
    duration_minutes: int | None = Field(None, ge=1, le=10080, description="course: per session")
    location: str = Field("", max_length=120, pattern=NO_NUL, description="course: where")
    online: bool = Field(False, description="course: held online")


class ProductPatchIn(Schema):
    title_zh: str | None = Field(None, min_length=1, max_length=80, pattern=NO_NUL)
    title_en: str | None = Field(None, max_length=120, pattern=NO_NUL)
    kind: ProductKindName | None = None
    story_zh: str | None = Field(None, max_length=8000, pattern=NO_NUL)
    story_en: str | None = Field(None, max_length=8000, pattern=NO_NUL)
    designer_notes: str | None = Field(None, max_length=4000, pattern=NO_NUL)
    category: str | None = Field(None, max_length=60, pattern=SLUG_PATTERN)
    attribute_ids: list[int] | None = Field(None, max_length=30)
    tags: list[str] | None = Field(None, max_length=30)
    edition_size: int | None = Field(None, ge=1, le=1_000_000)
    per_buyer_limit: int | None = Field(None, ge=1, le=1_000_000)
    lead_time_days: int | None = Field(None, ge=1, le=365)
    duration_minutes: int | None = Field(None, ge=1, le=10080)
    location: str | None = Field(None, max_length=120, pattern=NO_NUL)
    online: bool | None = None


class VariantIn(Schema):
    sku: str = Field(..., min_length=1, max_length=40)
    # Range rules live in the service, so a bad price or stock gets its own error code.
    price_fen: int = Field(..., description="Price in fen (minor units), > 0")
    stock: int = Field(..., description="Units in stock, >= 0")
    options: dict[str, str] = Field(default_factory=dict)
    weight_g: int = Field(0, ge=0, le=10_000_000)
    starts_at: datetime | None = Field(
        None, description="course: the session's start (with a UTC offset); stock = places"
    )


class BundleItemIn(Schema):
    variant_id: int = Field(..., ge=1, le=2**63 - 1)
    quantity: int = Field(..., description="0 takes the variant out of the bundle; 1–99")


class CustomisationChoiceIn(Schema):
    value_zh: str = Field(..., min_length=1, max_length=40, pattern=NO_NUL)
    value_en: str = Field("", max_length=60, pattern=NO_NUL)
    price_delta_fen: int = 0


class CustomisationOptionIn(Schema):
    kind: Literal["engraving", "choice"]
    label_zh: str = Field(..., min_length=1, max_length=40, pattern=NO_NUL)
    label_en: str = Field("", max_length=60, pattern=NO_NUL)
    max_length: int | None = None
    choices: list[CustomisationChoiceIn] = Field(default_factory=list, max_length=20)
    required: bool = False


class QuoteIn(Schema):
    variant_id: int = Field(..., ge=1)
    customisation: dict[str, str] = Field(default_factory=dict)


class QuoteOut(Schema):
    variant_id: int
    price_fen: int
    price_display: str


class VariantOut(Schema):
    id: int
    sku: str
    options: dict[str, str]
    price_fen: int
    price_display: str
    stock: int
    weight_g: int
    starts_at: datetime | None = None


class CustomisationOptionOut(Schema):
    id: int
    kind: str
    label_zh: str
    label_en: str
    max_length: int | None
    choices: list[dict[str, object]]
    required: bool


class ProductImageOut(Schema):
    id: int
    url: str
    thumb_400_url: str
    thumb_1200_url: str
    width: int
    height: int
    alt: str


class AttributeOut(Schema):
    id: int
    kind: str
    value_zh: str
    value_en: str


class CategoryOut(Schema):
    slug: str
    name_zh: str
    name_en: str


class ProductSummaryOut(Schema):
    id: int
    shop_slug: str
    kind: str
    title_zh: str
    title_en: str
    status: str
    hold_check: str = Field(
        "", description="Set while a pre-check holds the product in review (cannot be approved)"
    )
    category: CategoryOut | None
    price_from_fen: int | None
    thumbnail_url: str | None
    url: str


class MediaOut(Schema):
    url: str
    content_type: str
    size: int


class DigitalFileOut(Schema):
    content_type: str
    size: int
    original_name: str | None = Field(None, description="Only for the shop and reviewers")
    download_url: str | None = Field(None, description="Only for the shop and reviewers")


class BundleItemOut(Schema):
    variant_id: int
    product_id: int
    title_zh: str
    sku: str
    quantity: int
    unit_price_fen: int
    available: bool


class BundleOut(Schema):
    items: list[BundleItemOut]
    components_total_fen: int
    availability: int


class ProductOut(ProductSummaryOut):
    story_zh: str
    story_en: str
    designer_notes: str
    reject_reason: str
    hold_reason: str
    edition_size: int | None
    per_buyer_limit: int | None
    lead_time_days: int | None
    duration_minutes: int | None
    location: str
    online: bool
    availability: int = Field(
        ..., description="Units (places, sets) sellable now; a bundle's is min over components"
    )
    bundle: BundleOut | None
    video: MediaOut | None
    model_3d: MediaOut | None
    digital_file: DigitalFileOut | None
    attributes: list[AttributeOut]
    tags: list[str]
    variants: list[VariantOut]
    images: list[ProductImageOut]
    customisation_options: list[CustomisationOptionOut]
    created_at: datetime
    listed_at: datetime | None


class ProductPageOut(Schema):
    items: list[ProductSummaryOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page")
