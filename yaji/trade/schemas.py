from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema

NO_NUL = r"^[^\x00]*$"


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


class CartLineIn(Schema):
    variant_id: int = Field(..., ge=1, le=2**63 - 1)
    quantity: int = Field(1, ge=1, le=99)
    customisation: dict[str, str] = Field(default_factory=dict, description="option id → value")


class CartLineQuantityIn(Schema):
    quantity: int = Field(..., ge=1, le=99)


class CartItemOut(Schema):
    line_id: int
    variant_id: int
    product_id: int
    title: str
    sku: str
    options: dict
    customisation: dict
    quantity: int
    unit_price_fen: int | None
    total_fen: int
    problem: str = Field("", description="an error code when the line cannot be bought as it is")


class CartGroupOut(Schema):
    shop_id: int
    shop_name: str
    items_fen: int
    items: list[CartItemOut]


class CartOut(Schema):
    items_fen: int
    count: int
    buyable: bool
    groups: list[CartGroupOut]


class AddressIn(Schema):
    """China: province / city / district (real divisions). Abroad: region, city, postal code."""

    recipient: str = Field(..., min_length=1, max_length=30, pattern=NO_NUL)
    phone: str = Field(..., min_length=6, max_length=24, pattern=NO_NUL)
    country: str = Field(
        "CN", min_length=2, max_length=2, description="ISO 3166-1 alpha-2, CN by default"
    )
    province: str = Field("", max_length=30, pattern=NO_NUL, description="China only")
    city: str = Field("", max_length=60, pattern=NO_NUL)
    district: str = Field("", max_length=30, pattern=NO_NUL, description="China only")
    region: str = Field(
        "", max_length=60, pattern=NO_NUL, description="abroad: state / province / region"
    )
    line: str = Field(..., min_length=1, max_length=200, pattern=NO_NUL)
    line2: str = Field("", max_length=200, pattern=NO_NUL, description="abroad only")
    postal_code: str = Field(
        "", max_length=12, pattern=NO_NUL, description="required abroad where postal codes exist"
    )
    is_default: bool = False


class AddressOut(Schema):
    id: int
    recipient_masked: str
    phone_masked: str
    country: str
    province: str
    city: str
    district: str
    postal_code: str
    region: str = Field(description="abroad: the state / region; empty in China")
    place: str = Field(description="the place as written on a parcel (region, city, country)")
    is_default: bool


class CheckoutIn(Schema):
    address_id: int | None = Field(None, ge=1, le=2**63 - 1)
    shipping_options: dict[int, str] = Field(
        default_factory=dict,
        description="shop id → standard | express | scheduled | white_glove (default standard)",
    )
    note: str = Field("", max_length=200, pattern=NO_NUL)


class OrderLineOut(Schema):
    title: str
    sku: str
    options: dict
    customisation: dict
    kind: str
    unit_price_fen: int
    quantity: int
    total_fen: int
    edition_numbers: list[int]


class OrderEventOut(Schema):
    status: str
    note: str
    created_at: datetime


class OrderOut(Schema):
    id: int
    number: str
    checkout_id: UUID
    shop_id: int
    shop_name: str
    status: str
    items_fen: int
    shipping_fen: int
    total_fen: int
    currency: str
    shipping_option: str
    lead_time_days: int
    carrier: str
    tracking_number: str
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    lines: list[OrderLineOut]
    events: list[OrderEventOut]


class OrderPageOut(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class CheckoutOut(Schema):
    id: UUID
    status: str
    total_fen: int
    currency: str
    pay_by: datetime
    paid_at: datetime | None
    orders: list[OrderOut]


class RefundIn(Schema):
    reason: str = Field("", max_length=200, pattern=NO_NUL)


class ShipIn(Schema):
    carrier: str = Field(..., min_length=1, max_length=40, pattern=NO_NUL)
    tracking_number: str = Field(..., min_length=1, max_length=40, pattern=NO_NUL)


class CallbackOut(Schema):
    outcome: str


class ReviewIn(Schema):
    product_id: int = Field(..., ge=1, le=2**63 - 1)
    rating: int = Field(..., ge=1, le=5)
    text: str = Field("", max_length=1000, pattern=NO_NUL)


class ReplyIn(Schema):
    text: str = Field(..., min_length=1, max_length=1000, pattern=NO_NUL)


class ReviewOut(Schema):
    id: int
    product_id: int
    rating: int
    text: str
    buyer_name: str
    photos: list[str]
    reply: str
    replied_at: datetime | None
    created_at: datetime


class ProductReviewsOut(Schema):
    average: float | None
    count: int
    items: list[ReviewOut]


class FlashSaleIn(Schema):
    variant_id: int = Field(..., ge=1, le=2**63 - 1)
    title: str = Field(..., min_length=1, max_length=40, pattern=NO_NUL)
    starts_at: datetime
    ends_at: datetime
    price_fen: int = Field(..., ge=1, le=10**11)
    stock: int = Field(..., ge=1, le=10**6)
    per_user_limit: int = Field(1, ge=1, le=99)


class FlashBuyIn(Schema):
    address_id: int | None = Field(None, ge=1, le=2**63 - 1)
    quantity: int = Field(1, ge=1, le=99)
    shipping_option: str = Field("standard", max_length=20, description="standard | express")
    note: str = Field("", max_length=200, pattern=NO_NUL)


class FlashSaleOut(Schema):
    id: int
    variant_id: int
    product_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    price_fen: int
    stock: int
    initial_stock: int
    per_user_limit: int


class AfterSaleIn(Schema):
    kind: str = Field(..., pattern=r"^(refund_only|return_refund)$")
    reason: str = Field(..., min_length=1, max_length=200, pattern=NO_NUL)
    amount_fen: int | None = Field(None, ge=1, le=10**11, description="default: the order total")


class AfterSaleNoteIn(Schema):
    note: str = Field("", max_length=200, pattern=NO_NUL)


class AfterSaleDecisionIn(Schema):
    refund: bool
    note: str = Field(..., min_length=1, max_length=200, pattern=NO_NUL)


class AfterSaleOut(Schema):
    id: int
    order_id: int
    kind: str
    status: str
    reason: str
    amount_fen: int
    shop_note: str
    return_carrier: str
    return_tracking: str
    decision_note: str
    created_at: datetime
    refunded_at: datetime | None


class CheckoutPaymentIn(Schema):
    wallet_amount_fen: int = Field(
        0, ge=0, le=2**63 - 1, description="paid from the wallet; the rest through the provider"
    )
    provider: str | None = Field(
        None, max_length=32, pattern=r"^[a-z0-9_]*$", description="default: the configured one"
    )


class CheckoutPaymentIntentOut(Schema):
    id: UUID
    status: str
    amount_fen: int
    wallet_amount_fen: int
    currency: str
    provider: str
    pay_url: str
    qr_payload: str
    expires_at: datetime


class CheckoutPaymentOut(Schema):
    intent: CheckoutPaymentIntentOut
    pay_url: str = Field(..., description="the provider's pay page; empty when paid already")
    checkout: CheckoutOut


class OrderRefundOut(Schema):
    """One refund of an order, back to the original payment methods (ADR 0039)."""

    amount_fen: int
    wallet_fen: int = Field(..., description="back to the wallet (at once)")
    provider_fen: int = Field(..., description="back through the payment provider")
    provider_code: str = Field(..., description="the provider; empty when only the wallet paid")
    status: str = Field(..., description="pending, succeeded, wallet_fallback or failed")
    currency: str
    created_at: datetime | None
