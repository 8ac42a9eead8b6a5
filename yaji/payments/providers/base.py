"""The interface every payment provider adapter implements.

An adapter turns an intent into something a payer can act on (a redirect URL or a QR payload)
and authenticates the provider's asynchronous notifications. It never touches the ledger or the
intent's status: :mod:`yaji.payments.services` does that with what the adapter returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from yaji.core.money import Money

if TYPE_CHECKING:
    from yaji.payments.models import PaymentIntent

NotificationStatus = Literal["succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """What the provider gave us for an intent: where to send the payer and its own reference."""

    reference: str
    redirect_url: str
    qr_payload: str = ""


@dataclass(frozen=True, slots=True)
class Notification:
    """An authenticated notification, decoded: the provider says ``reference`` reached ``status``."""

    event_id: str
    reference: str
    status: NotificationStatus
    amount: Money
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProviderPaymentState:
    """The provider's answer to "what happened to this payment?" (``query_payment``)."""

    reference: str
    status: Literal["pending", "succeeded", "failed", "unknown"]
    amount: Money | None


# --- refunds ----------------------------------------------------------------------------------

RefundStatusName = Literal["succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """A refund of (part of) a provider payment. ``out_reference`` is our refund id: providers
    are idempotent on it, so a resubmission cannot refund twice."""

    out_reference: str
    payment_reference: str
    amount: Money
    payment_total: Money
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """The provider accepted the refund; its outcome arrives later as a refund notification."""

    reference: str


@dataclass(frozen=True, slots=True)
class RefundNotification:
    """An authenticated refund notification: refund ``out_reference`` reached ``status``."""

    event_id: str
    reference: str
    out_reference: str
    status: RefundStatusName
    amount: Money
    failure_reason: str = ""


# --- daily statements ---------------------------------------------------------------------------

StatementKind = Literal["payment", "refund"]


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """One line of a provider's daily statement, seen from the merchant: a payment brings
    ``amount`` in, a refund sends it back (both positive here)."""

    kind: StatementKind
    payment_reference: str  # the payment as the platform knows it (intent.provider_reference)
    refund_reference: str  # for refunds: our refund id (the merchant refund number); else ""
    amount: Money
    occurred_at: datetime


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, intent: PaymentIntent, *, return_url: str = "") -> ProviderPayment:
        """Register the payment with the provider (no money moves yet)."""
        ...

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Authenticate and decode a notification, or raise ``InvalidSignature``,
        ``StaleNotification`` or ``MalformedNotification``."""
        ...

    def query_payment(self, reference: str) -> ProviderPaymentState:
        """Ask the provider for the payment's current state (for reconciliation and polling)."""
        ...

    # refunds: the outcome arrives as a signed refund notification

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        """Ask the provider to refund; ``ProviderRefundRefused`` on a refusal,
        ``ProviderUnavailable`` when it cannot be reached."""
        ...

    def verify_refund_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> RefundNotification:
        """Authenticate and decode a refund notification, or raise ``InvalidSignature``,
        ``StaleNotification`` or ``MalformedNotification``."""
        ...

    # the daily statement (bill) for reconciliation

    def statement_download(self, day: date) -> bytes:
        """The provider's statement file for ``day`` (in the provider's time zone), raw."""
        ...

    def statement_parse(self, content: bytes) -> list[StatementRecord]:
        """The records of a downloaded statement file (``MalformedStatement`` if unreadable)."""
        ...


# --- payouts (withdrawals to bank cards) --------------------------------------------------------

PayoutStatus = Literal["succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """What the platform asks a payout provider to pay: ``out_reference`` is our id for it
    (the withdrawal id); providers are idempotent on it, so a resubmission cannot pay twice."""

    out_reference: str
    amount: Money
    card_number: str
    holder_name: str
    bank_name: str


@dataclass(frozen=True, slots=True)
class ProviderPayout:
    reference: str


@dataclass(frozen=True, slots=True)
class PayoutNotification:
    """An authenticated payout callback: the payout ``out_reference`` reached ``status``."""

    event_id: str
    reference: str
    out_reference: str
    status: PayoutStatus
    amount: Money
    failure_reason: str = ""


class PayoutProvider(Protocol):
    name: str

    def create_payout(self, request: PayoutRequest) -> ProviderPayout:
        """Hand the payout to the provider; the outcome arrives later as a callback."""
        ...

    def verify_payout_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> PayoutNotification:
        """Authenticate and decode a payout callback, or raise ``InvalidSignature``,
        ``StaleNotification`` or ``MalformedNotification``."""
        ...
