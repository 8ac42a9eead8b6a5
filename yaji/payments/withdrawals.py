"""Withdrawals from a wallet to the user's own bank card, paid out through a payout provider.

Money path (integer fen, all through :func:`yaji.ledger.services.ledger_post`):

1. ``withdrawal_request``: one durable transaction creates the withdrawal and moves the amount
   wallet → payout_clearing (reference ``withdrawal:<id>:hold``). The wallet's CHECK/lock makes
   overdrafts impossible: ``insufficient_funds`` rolls back everything, withdrawal row included.
2. After commit, outside any transaction, the payout is handed to the provider
   (``withdrawal_submit``; idempotent on the withdrawal id) and the withdrawal becomes
   ``processing``.
3. The provider's signed callback (``payout_notification_receive``) settles it exactly once:
   success → payout_clearing → provider_clearing (``withdrawal:<id>:paid``), status ``paid``;
   failure → payout_clearing → wallet (``withdrawal:<id>:return``), status ``returned`` with the
   provider's ``failure_reason``.

Exactly once under duplicated, concurrent and out-of-order callbacks, as for payments: the
callback row is inserted under ``UNIQUE(provider, event_id)`` (duplicate → stop), the withdrawal
row is locked and moves only out of an open status by a conditional update, and each ledger
posting has a unique reference. **The first final callback wins**: a success after a failure
(the money is already back in the wallet) or a failure after a success does not move money a
second time; the withdrawal is flagged (``success_after_return`` / ``failure_after_paid``) for
an operator, who settles it with the provider by hand.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from yaji.accounts.errors import KycRequired
from yaji.accounts.models import User
from yaji.accounts.selectors import kyc_verified_record
from yaji.core import clock
from yaji.core.encryption import blind_index
from yaji.core.errors import InvalidAmount
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.reconciliation import Discrepancy, Progress
from yaji.ledger.services import Posting, ledger_post, system_account, wallet_account_for_user
from yaji.payments.errors import (
    BankCardAlreadyAdded,
    BankNameRequired,
    HolderNameMismatch,
    InvalidCardNumber,
    TooManyBankCards,
    WithdrawalAboveMaximum,
    WithdrawalBelowMinimum,
    WithdrawalKeyReused,
)
from yaji.payments.models import (
    WITHDRAWAL_OPEN_STATUSES,
    BankCard,
    ProviderNotification,
    ShopPayout,
    ShopPayoutStatus,
    Withdrawal,
    WithdrawalStatus,
)
from yaji.payments.notifications import (
    NotificationResult,
    apply_to_row,
    notification_receive,
    row_locked_by_uuid,
    status_settle,
)
from yaji.payments.providers import payout_provider_get
from yaji.payments.providers.base import PayoutNotification, PayoutRequest
from yaji.payments.providers.sandbox_payout import PAYOUT_PROVIDER_NAME
from yaji.payments.selectors import bank_card_get_for_user
from yaji.payments.shop_finance import SHOP_PAYOUT_PREFIX, shop_payout_callback_apply

logger = logging.getLogger(__name__)

DEFAULT_PAYOUT_PROVIDER = PAYOUT_PROVIDER_NAME
CARD_INDEX_PURPOSE = "payments.bank_card"
MAX_CARDS_PER_USER = 10
WITHDRAWAL_MIN_FEN = 100  # 1 yuan
WITHDRAWAL_MAX_FEN = 2_000_000  # 20,000 yuan
LEDGER_KIND_HOLD = "wallet_withdrawal"
LEDGER_KIND_PAID = "wallet_withdrawal_paid"
LEDGER_KIND_RETURN = "wallet_withdrawal_return"

# The first six digits (BIN) of common debit cards; anything else needs a user-given bank name.
BIN_TABLE: dict[str, str] = {
    "622202": "中国工商银行",
    "621226": "中国工商银行",
    "622848": "中国农业银行",
    "621700": "中国建设银行",
    "436742": "中国建设银行",
    "621661": "中国银行",
    "456351": "中国银行",
    "622260": "交通银行",
    "622588": "招商银行",
    "621483": "招商银行",
    "622150": "中国邮政储蓄银行",
}

_CARD_NUMBER = re.compile(r"^[0-9]{12,19}$")
_NAME_DOTS = str.maketrans({"•": "·", "．": "·", ".": "·", "・": "·"})


# --- bank cards -------------------------------------------------------------------------------


def card_number_normalize(raw: object) -> str:
    """Digits only (spaces and hyphens dropped); ``invalid_card_number`` unless 12–19 digits
    passing the Luhn check."""
    if not isinstance(raw, str):
        raise InvalidCardNumber()
    number = re.sub(r"[\s-]", "", raw)
    if not _CARD_NUMBER.match(number) or not luhn_valid(number):
        raise InvalidCardNumber()
    return number


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _name_normalize(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").translate(_NAME_DOTS)
    return "".join(text.split())


def bank_name_for(number: str) -> str:
    return BIN_TABLE.get(number[:6], "")


def _verified_real_name(user: User) -> str:
    record = kyc_verified_record(user=user)
    if record is None or not record.real_name:
        raise KycRequired()
    return str(record.real_name)


def bank_card_add(
    *, user: User, holder_name: str, card_number: str, bank_name: str = ""
) -> BankCard:
    """Add one of the user's own cards: verified KYC, holder = verified real name, Luhn."""
    real_name = _verified_real_name(user)
    number = card_number_normalize(card_number)
    holder = (holder_name or "").strip()
    if not holder or _name_normalize(holder) != _name_normalize(real_name):
        raise HolderNameMismatch()
    bank = bank_name_for(number) or (bank_name or "").strip()[:40]
    if not bank:
        raise BankNameRequired()
    index = blind_index(number, purpose=CARD_INDEX_PURPOSE)
    active = BankCard.objects.filter(user=user, removed_at__isnull=True)
    if active.filter(card_index=index).exists():
        raise BankCardAlreadyAdded()
    if active.count() >= MAX_CARDS_PER_USER:
        raise TooManyBankCards(extra={"max": MAX_CARDS_PER_USER})
    try:
        with transaction.atomic():
            return BankCard.objects.create(
                user=user,
                holder_name=real_name,
                card_number=number,
                card_index=index,
                bank_name=bank,
                last4=number[-4:],
            )
    except IntegrityError:  # the same card added concurrently
        raise BankCardAlreadyAdded() from None


def bank_card_remove(*, user: User, card_id: object) -> None:
    """Remove (soft) one of the user's cards; past withdrawals keep their card."""
    card = bank_card_get_for_user(card_id=card_id, user=user)
    BankCard.objects.filter(pk=card.pk, removed_at__isnull=True).update(removed_at=clock.now())


# --- requesting -------------------------------------------------------------------------------


def _withdrawal_amount(amount_fen: object, currency: str) -> Money:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidAmount(extra={"reason": "amount_fen must be a positive integer"})
    amount = Money(amount_fen, currency)  # unknown currency → invalid_currency
    if amount_fen < WITHDRAWAL_MIN_FEN:
        raise WithdrawalBelowMinimum(extra={"min_fen": WITHDRAWAL_MIN_FEN})
    if amount_fen > WITHDRAWAL_MAX_FEN:
        raise WithdrawalAboveMaximum(extra={"max_fen": WITHDRAWAL_MAX_FEN})
    return amount


def withdrawal_request(
    *,
    user: User,
    card_id: object,
    amount_fen: int,
    currency: str = "CNY",
    request_key: str = "",
    provider: str = DEFAULT_PAYOUT_PROVIDER,
) -> Withdrawal:
    """Withdraw ``amount_fen`` from the wallet to one of the user's cards.

    Holds the money (wallet → payout_clearing) in one durable transaction, then submits the
    payout outside it. ``request_key`` (optional, e.g. from a page form) makes a resubmission
    return the first withdrawal instead of a second one.
    """
    amount = _withdrawal_amount(amount_fen, currency)
    _verified_real_name(user)
    card = bank_card_get_for_user(card_id=card_id, user=user)
    payout_provider_get(provider)  # unknown provider → 404 before anything is written
    withdrawal = _withdrawal_hold(
        user=user, card=card, amount=amount, request_key=request_key[:255], provider=provider
    )
    if withdrawal.status == WithdrawalStatus.REQUESTED:
        withdrawal_submit(withdrawal=withdrawal)
        withdrawal.refresh_from_db()
    return withdrawal


@transaction.atomic(durable=True)
def _withdrawal_hold(
    *, user: User, card: BankCard, amount: Money, request_key: str, provider: str
) -> Withdrawal:
    if request_key:
        existing = Withdrawal.objects.filter(user=user, request_key=request_key).first()
        if existing is not None:
            return _replayed(existing, card=card, amount=amount)
    try:
        with transaction.atomic():
            withdrawal = Withdrawal.objects.create(
                user=user,
                card=card,
                amount_fen=amount.amount,
                currency=amount.currency,
                provider=provider,
                request_key=request_key,
            )
    except IntegrityError:  # the same request_key committed concurrently
        existing = Withdrawal.objects.filter(user=user, request_key=request_key).first()
        if existing is None:
            raise
        return _replayed(existing, card=card, amount=amount)
    ledger_post(
        kind=LEDGER_KIND_HOLD,
        postings=[
            Posting(wallet_account_for_user(user=user, currency=amount.currency), -amount),
            Posting(
                system_account(kind=AccountKind.PAYOUT_CLEARING, currency=amount.currency), amount
            ),
        ],
        reference=f"withdrawal:{withdrawal.id}:hold",
        description="提现",
        metadata={"withdrawal_id": str(withdrawal.id), "card_id": card.pk},
    )
    return withdrawal


def _replayed(existing: Withdrawal, *, card: BankCard, amount: Money) -> Withdrawal:
    if (existing.card_id, existing.amount_fen, existing.currency) != (
        card.pk,
        amount.amount,
        amount.currency,
    ):
        raise WithdrawalKeyReused()
    return existing


def withdrawal_submit(*, withdrawal: Withdrawal) -> bool:
    """Hand a ``requested`` withdrawal to its payout provider (outside any transaction).

    Safe to repeat (the provider is idempotent on the withdrawal id). If the provider cannot
    be reached the withdrawal stays ``requested`` and :func:`withdrawals_submit_pending` retries.
    """
    card = withdrawal.card
    adapter = payout_provider_get(withdrawal.provider)
    try:
        payout = adapter.create_payout(
            PayoutRequest(
                out_reference=str(withdrawal.id),
                amount=Money(withdrawal.amount_fen, withdrawal.currency),
                card_number=str(card.card_number),
                holder_name=str(card.holder_name),
                bank_name=card.bank_name,
            )
        )
    except Exception:  # network or provider trouble: the money stays held, retried later
        logger.exception("payout submission failed", extra={"withdrawal_id": str(withdrawal.id)})
        return False
    now = clock.now()
    Withdrawal.objects.filter(pk=withdrawal.pk, provider_reference="").update(
        provider_reference=payout.reference, updated_at=now
    )
    Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.REQUESTED).update(
        status=WithdrawalStatus.PROCESSING, submitted_at=now, updated_at=now
    )
    return True


def withdrawals_submit_pending() -> int:
    """Retry submitting withdrawals still ``requested`` (a provider outage); returns how many."""
    done = 0
    for withdrawal in Withdrawal.objects.filter(status=WithdrawalStatus.REQUESTED).select_related(
        "card"
    ):
        done += withdrawal_submit(withdrawal=withdrawal)
    return done


# --- settling from the provider's callbacks ---------------------------------------------------


def payout_notification_receive(
    *, provider: str, headers: Mapping[str, str], body: bytes
) -> NotificationResult:
    """Authenticate a payout callback and apply it exactly once (see the module docstring and
    :mod:`yaji.payments.notifications`).

    Outcomes: ``paid``, ``returned``, ``duplicate``, ``already_paid``, ``already_returned``,
    ``late_success``, ``ignored_paid``, ``unknown_reference``; raises ``InvalidSignature`` /
    ``StaleNotification`` / ``MalformedNotification`` (kept for audit, nothing else changes) and
    ``AmountMismatch`` (withdrawal flagged, no money moves).
    """
    adapter = payout_provider_get(provider)

    def apply(
        record: ProviderNotification, notification: PayoutNotification
    ) -> tuple[str, str | None]:
        if notification.out_reference.startswith(SHOP_PAYOUT_PREFIX):
            # A payout of a shop's payable (same provider, same callbacks): ADR 0032.
            outcome, payout = shop_payout_callback_apply(notification)
            return outcome, str(payout.pk) if payout else None
        withdrawal = row_locked_by_uuid(Withdrawal, notification.out_reference, provider=provider)
        return apply_to_row(
            record,
            notification,
            provider=provider,
            row=withdrawal,
            link="withdrawal",
            amount_fen=lambda w: w.amount_fen,
            on_success=lambda: _withdrawal_paid(withdrawal, notification),  # type: ignore[arg-type]  # not None: apply_to_row checked
            on_failure=lambda: _withdrawal_returned(withdrawal, notification),  # type: ignore[arg-type]  # not None: apply_to_row checked
        )

    return notification_receive(
        provider=provider,
        headers=headers,
        body=body,
        verify=adapter.verify_payout_notification,
        apply=apply,
        subject_key="withdrawal_id",
    )


def _withdrawal_paid(withdrawal: Withdrawal, notification: PayoutNotification) -> str:
    now = clock.now()
    # Returned already (the money is back in the wallet): never pay it a second time.
    stopped = status_settle(
        withdrawal,
        open_statuses=WITHDRAWAL_OPEN_STATUSES,
        final=WithdrawalStatus.PAID,
        already="already_paid",
        contradicted="late_success",
        flag="success_after_return",
        paid_at=now,
    )
    if stopped:
        return stopped
    amount = Money(withdrawal.amount_fen, withdrawal.currency)
    ledger_post(
        kind=LEDGER_KIND_PAID,
        postings=[
            Posting(
                system_account(kind=AccountKind.PAYOUT_CLEARING, currency=amount.currency), -amount
            ),
            Posting(
                system_account(kind=AccountKind.PROVIDER_CLEARING, currency=amount.currency), amount
            ),
        ],
        reference=f"withdrawal:{withdrawal.id}:paid",
        description="提现到账",
        metadata={"withdrawal_id": str(withdrawal.id), "event_id": notification.event_id},
    )
    return "paid"


def _withdrawal_returned(withdrawal: Withdrawal, notification: PayoutNotification) -> str:
    now = clock.now()
    stopped = status_settle(
        withdrawal,
        open_statuses=WITHDRAWAL_OPEN_STATUSES,
        final=WithdrawalStatus.RETURNED,
        already="already_returned",
        contradicted=f"ignored_{withdrawal.status}",
        flag="failure_after_paid",
        failure_reason=notification.failure_reason or "payout_failed",
        returned_at=now,
    )
    if stopped:
        return stopped
    amount = Money(withdrawal.amount_fen, withdrawal.currency)
    ledger_post(
        kind=LEDGER_KIND_RETURN,
        postings=[
            Posting(
                system_account(kind=AccountKind.PAYOUT_CLEARING, currency=amount.currency), -amount
            ),
            Posting(
                wallet_account_for_user(user=withdrawal.user, currency=amount.currency), amount
            ),
        ],
        reference=f"withdrawal:{withdrawal.id}:return",
        description="提现失败退回",
        metadata={"withdrawal_id": str(withdrawal.id), "event_id": notification.event_id},
    )
    return "returned"


# --- reconciliation ---------------------------------------------------------------------------


def check_payout_clearing(progress: Progress) -> list[Discrepancy]:
    """payout_clearing balance == the money of withdrawals still requested/processing, per
    currency, compared in one SQL statement (one snapshot)."""
    open_total = (
        Withdrawal.objects.filter(
            status__in=WITHDRAWAL_OPEN_STATUSES, currency=OuterRef("currency")
        )
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    # Shop payouts in flight wait in the same clearing account (ADR 0032).
    open_shop = (
        ShopPayout.objects.filter(status=ShopPayoutStatus.PROCESSING, currency=OuterRef("currency"))
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    rows = list(
        LedgerAccount.objects.filter(
            kind=AccountKind.PAYOUT_CLEARING, owner__isnull=True, owner_ref=""
        )
        .annotate(expected=Coalesce(Subquery(open_total), 0) + Coalesce(Subquery(open_shop), 0))
        .values("pk", "currency", "balance", "expected")
    )
    progress.start(len(rows) + 1)
    found = []
    for row in rows:
        progress.advance()
        if row["balance"] != row["expected"]:
            found.append(
                Discrepancy(
                    subject=f"payout_clearing account #{row['pk']} {row['currency']}",
                    expected=f"{row['expected']} minor units (open withdrawals and shop payouts)",
                    actual=f"{row['balance']} minor units",
                )
            )
    with_account = {row["currency"] for row in rows}
    orphans = (
        Withdrawal.objects.filter(status__in=WITHDRAWAL_OPEN_STATUSES)
        .exclude(currency__in=with_account)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_fen"))
    )
    for row in orphans:
        found.append(
            Discrepancy(
                subject=f"payout_clearing {row['currency']} (no account)",
                expected=f"{row['total']} minor units (open withdrawals)",
                actual="0",
            )
        )
    progress.advance()
    return found
