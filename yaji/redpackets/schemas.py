from __future__ import annotations

from datetime import datetime

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


class SendIn(Schema):
    total_fen: int
    count: int
    split_type: str = "lucky"
    blessing: str = ""
    work_id: int | None = None
    condition: str = "none"
    audience: str = "public"
    # Same-city packets: the sender's position (kept only as a ~150 m geohash cell) and radius.
    lat: float | None = None
    lng: float | None = None
    radius_m: int | None = None
    # "wallet" (default): the total leaves the wallet now. "payment": through a payment
    # intent (the provider's pay page); with use_wallet the balance pays first (ADR 0042).
    funding: str = "wallet"
    use_wallet: bool = True
    provider: str | None = None


class ClaimIn(Schema):
    invite_token: str | None = None
    # Same-city packets: the claimer's position, checked against the radius, never stored.
    lat: float | None = None
    lng: float | None = None


class LuckiestOut(Schema):
    user_id: int
    amount_fen: int


class ClaimOut(Schema):
    packet_id: int
    amount_fen: int
    finished: bool
    luckiest: LuckiestOut | None


class ClaimLineOut(Schema):
    user_id: int
    display_name: str
    amount_fen: int
    created_at: datetime


class PacketOut(Schema):
    id: int
    sender_id: int
    total_fen: int
    currency: str
    count: int
    split_type: str
    blessing: str
    work_id: int | None
    condition: str
    audience: str
    status: str
    claimed_count: int
    claimed_fen: int
    refunded_fen: int
    expires_at: datetime
    created_at: datetime
    invite_token: str | None = None  # only for the sender of a group packet
    radius_m: int = 0
    funding: str = "wallet"
    pay_by: datetime | None = None  # payment-funded packets: cancelled if unpaid by then


class PacketPaymentOut(Schema):
    intent_id: str
    status: str
    amount_fen: int
    wallet_amount_fen: int
    provider_amount_fen: int
    provider: str
    pay_url: str
    expires_at: datetime


class SendOut(PacketOut):
    payment: PacketPaymentOut | None = None  # funding "payment": where to pay


class PacketDetailOut(PacketOut):
    claims: list[ClaimLineOut]
    luckiest: LuckiestOut | None


class ReceivedOut(Schema):
    packet_id: int
    sender_id: int
    blessing: str
    amount_fen: int
    created_at: datetime


class GiftOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    price_fen: int
    icon_url: str


class GiftSendIn(Schema):
    gift_id: int
    quantity: int = 1


class GiftSendOut(Schema):
    id: int
    work_id: int
    creator_id: int
    gift_id: int
    quantity: int
    amount_fen: int
    platform_fen: int
    creator_fen: int
    holder_fen: int
    created_at: datetime


class GiftReceivedOut(GiftSendOut):
    sender_id: int
