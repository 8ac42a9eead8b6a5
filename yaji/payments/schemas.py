from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema


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
