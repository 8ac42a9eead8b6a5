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
from yaji.payments import refunds, selectors, services, withdrawals
from yaji.payments.models import PaymentIntent
from yaji.payments.schemas import (
    BankCardIn,
    BankCardOut,
    BankCardsOut,
    ErrorOut,
    IntentOut,
    NotifyOut,
    RefundIn,
    RefundOut,
    RefundsOut,
    TopupIn,
    TopupOut,
    WalletEntriesOut,
    WalletOut,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalsOut,
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


# --- refunds ------------------------------------------------------------------------------------


@router.post(
    "/payments/intents/{intent_id}/refunds",
    response={201: RefundOut, **ERRORS},
    summary="Refund (part of) one of my wallet top-ups back to the original payment method",
)
@idempotent(required=True)
def refund_create(request: HttpRequest, intent_id: str, payload: RefundIn):  # type: ignore[no-untyped-def]
    refund = refunds.payer_refund_request(
        user=_user(request),
        intent_id=intent_id,
        amount_fen=payload.amount_fen,
        reason=payload.reason,
        request_key=request.headers.get("Idempotency-Key", ""),
    )
    return Status(201, refund)


@router.get(
    "/payments/intents/{intent_id}/refunds",
    response={200: RefundsOut, **ERRORS},
    summary="The refunds of one of my payment intents, newest first",
)
def refund_list(request: HttpRequest, intent_id: str):  # type: ignore[no-untyped-def]
    intent = selectors.payment_intent_get_for_user(intent_id=intent_id, user=_user(request))
    return {"items": selectors.refunds_for_intent(intent=intent)}


@router.get(
    "/payments/refunds/{refund_id}",
    response={200: RefundOut, **ERRORS},
    summary="One of my refunds",
)
def refund_detail(request: HttpRequest, refund_id: str):  # type: ignore[no-untyped-def]
    return selectors.refund_get_for_user(refund_id=refund_id, user=_user(request))


@router.post(
    "/payments/refund-notify/{provider}",
    auth=None,
    response={200: NotifyOut, **ERRORS},
    summary="Provider refund notification endpoint (signed; called by the provider)",
)
def refund_notify(request: HttpRequest, provider: str):  # type: ignore[no-untyped-def]
    result = refunds.refund_notification_receive(
        provider=provider, headers=dict(request.headers), body=request.body
    )
    return {"code": "SUCCESS", "outcome": result.outcome}


# --- bank cards and withdrawals ----------------------------------------------------------------


@router.post(
    "/wallet/cards",
    response={201: BankCardOut, **ERRORS},
    summary="Add one of my bank cards (verified real name; holder must match it)",
)
@idempotent
def bank_card_add(request: HttpRequest, payload: BankCardIn):  # type: ignore[no-untyped-def]
    card = withdrawals.bank_card_add(
        user=_user(request),
        holder_name=payload.holder_name,
        card_number=payload.card_number,
        bank_name=payload.bank_name,
    )
    return Status(201, card)


@router.get("/wallet/cards", response={200: BankCardsOut, **ERRORS}, summary="My bank cards")
def bank_cards(request: HttpRequest):  # type: ignore[no-untyped-def]
    return {"items": list(selectors.bank_cards_for_user(user=_user(request)))}


@router.delete(
    "/wallet/cards/{card_id}", response={204: None, **ERRORS}, summary="Remove one of my cards"
)
def bank_card_remove(request: HttpRequest, card_id: str):  # type: ignore[no-untyped-def]
    withdrawals.bank_card_remove(user=_user(request), card_id=card_id)
    return Status(204, None)


@router.post(
    "/wallet/withdrawals",
    response={201: WithdrawalOut, **ERRORS},
    summary="Withdraw from my wallet to one of my cards (paid out asynchronously)",
)
@idempotent(required=True)
def withdrawal_create(request: HttpRequest, payload: WithdrawalIn):  # type: ignore[no-untyped-def]
    withdrawal = withdrawals.withdrawal_request(
        user=_user(request),
        card_id=payload.card_id,
        amount_fen=payload.amount_fen,
        currency=payload.currency,
    )
    return Status(201, withdrawal)


@router.get(
    "/wallet/withdrawals",
    response={200: WithdrawalsOut, **ERRORS},
    summary="My withdrawals, newest first",
)
def withdrawal_list(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),  # type: ignore[arg-type]
):
    return {"items": selectors.withdrawals_for_user(user=_user(request), limit=limit)}


@router.get(
    "/wallet/withdrawals/{withdrawal_id}",
    response={200: WithdrawalOut, **ERRORS},
    summary="One of my withdrawals",
)
def withdrawal_detail(request: HttpRequest, withdrawal_id: str):  # type: ignore[no-untyped-def]
    return selectors.withdrawal_get_for_user(withdrawal_id=withdrawal_id, user=_user(request))


@router.post(
    "/payments/payout-notify/{provider}",
    auth=None,
    response={200: NotifyOut, **ERRORS},
    summary="Payout provider callback endpoint (signed; called by the provider)",
)
def payout_notify(request: HttpRequest, provider: str):  # type: ignore[no-untyped-def]
    result = withdrawals.payout_notification_receive(
        provider=provider, headers=dict(request.headers), body=request.body
    )
    return {"code": "SUCCESS", "outcome": result.outcome}
