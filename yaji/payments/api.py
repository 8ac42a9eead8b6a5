"""The payments API: wallet top-ups, the payer's intents, the wallet, provider notifications.

Thin: each endpoint validates its body (schemas), calls one service or selector, renders.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.core.idempotency import idempotent
from yaji.core.money import format_money
from yaji.payments import selectors, services
from yaji.payments.models import PaymentIntent
from yaji.payments.schemas import (
    ErrorOut,
    IntentOut,
    NotifyOut,
    TopupIn,
    TopupOut,
    WalletEntriesOut,
    WalletOut,
)

router = Router(tags=["payments"], auth=api_auth)

ERRORS = {codes_4xx: ErrorOut}
MAX_ID = 2**63 - 1


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]


def _pay_url(request: HttpRequest, intent: PaymentIntent) -> str:
    return request.build_absolute_uri(intent.pay_url) if intent.pay_url else ""


@router.post(
    "/wallet/topups",
    response={201: TopupOut, **ERRORS},
    summary="Top up my wallet (returns the intent and the pay page URL)",
)
@idempotent(required=True)
def wallet_topup(request: HttpRequest, payload: TopupIn):  # type: ignore[no-untyped-def]
    intent = services.wallet_topup_create(user=_user(request), amount_fen=payload.amount_fen)
    return Status(201, {"intent": intent, "pay_url": _pay_url(request, intent)})


@router.get(
    "/payments/intents/{intent_id}",
    response={200: IntentOut, **ERRORS},
    summary="One of my payment intents",
)
def intent_detail(request: HttpRequest, intent_id: str):  # type: ignore[no-untyped-def]
    return selectors.payment_intent_get_for_user(intent_id=intent_id, user=_user(request))


@router.get("/wallet", response={200: WalletOut, **ERRORS}, summary="My wallet balance")
def wallet(request: HttpRequest):  # type: ignore[no-untyped-def]
    balance = selectors.wallet_balance(user=_user(request))
    return {
        "balance_fen": balance.amount,
        "currency": balance.currency,
        "balance_display": format_money(balance),
    }


@router.get(
    "/wallet/entries",
    response={200: WalletEntriesOut, **ERRORS},
    summary="My wallet statement, newest first (cursor pagination)",
)
def wallet_entries(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    cursor: int | None = Query(None, ge=1, le=MAX_ID),  # type: ignore[arg-type]
    limit: int = Query(50, ge=1, le=200),  # type: ignore[arg-type]
):
    page = selectors.wallet_entries(user=_user(request), cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": entry.id,
                "amount_fen": entry.amount,
                "currency": entry.currency,
                "balance_after_fen": entry.balance_after,
                "kind": entry.transaction.kind,
                "reference": entry.transaction.reference,
                "description": entry.transaction.description,
                "created_at": entry.created_at,
            }
            for entry in page.entries
        ],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/payments/notify/{provider}",
    auth=None,
    response={200: NotifyOut, **ERRORS},
    summary="Provider notification endpoint (signed; called by the provider, not by clients)",
)
def provider_notify(request: HttpRequest, provider: str):  # type: ignore[no-untyped-def]
    result = services.payment_notification_receive(
        provider=provider, headers=dict(request.headers), body=request.body
    )
    return {"code": "SUCCESS", "outcome": result.outcome}
