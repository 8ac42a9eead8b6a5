from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


class TopupIn(Schema):
    amount_fen: int


class IntentOut(Schema):
    id: uuid.UUID
    purpose: str
    status: str
    amount_fen: int
    wallet_amount_fen: int
    refunded_fen: int
    currency: str
    provider: str
    provider_reference: str
    pay_url: str
    flag: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    succeeded_at: datetime | None


class TopupOut(Schema):
    intent: IntentOut
    pay_url: str


class WalletOut(Schema):
    balance_fen: int
    currency: str
    balance_display: str


class WalletEntryOut(Schema):
    id: int
    amount_fen: int
    currency: str
    balance_after_fen: int
    kind: str
    reference: str
    description: str
    created_at: datetime


class WalletEntriesOut(Schema):
    items: list[WalletEntryOut]
    next_cursor: int | None


class NotifyOut(Schema):
    code: str
    outcome: str


class BankCardIn(Schema):
    holder_name: str = Field(max_length=100)
    card_number: str = Field(max_length=40)
    bank_name: str = Field("", max_length=40)


class BankCardOut(Schema):
    id: int
    bank_name: str
    last4: str
    masked_number: str
    created_at: datetime


class BankCardsOut(Schema):
    items: list[BankCardOut]


class WithdrawalIn(Schema):
    card_id: int
    amount_fen: int
    currency: str = Field("CNY", max_length=3)


class WithdrawalOut(Schema):
    id: uuid.UUID
    card_id: int
    card_masked: str
    amount_fen: int
    currency: str
    status: str
    failure_reason: str
    provider: str
    provider_reference: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    paid_at: datetime | None
    returned_at: datetime | None

    @staticmethod
    def resolve_card_masked(obj: Any) -> str:
        return str(obj.card.masked_number)


class WithdrawalsOut(Schema):
    items: list[WithdrawalOut]


class RefundIn(Schema):
    amount_fen: int
    reason: str = Field("", max_length=80)


class RefundOut(Schema):
    id: uuid.UUID
    intent_id: uuid.UUID
    amount_fen: int
    wallet_amount_fen: int
    provider_amount_fen: int
    currency: str
    status: str
    reason: str
    failure_reason: str
    provider: str
    provider_reference: str
    created_at: datetime
    updated_at: datetime
    succeeded_at: datetime | None
    failed_at: datetime | None


class RefundsOut(Schema):
    items: list[RefundOut]
