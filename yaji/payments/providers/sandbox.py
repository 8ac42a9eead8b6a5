"""The sandbox payment provider: behaves like a real one, runs entirely inside the platform.

- ``create_payment`` opens a :class:`SandboxPayment` (the provider's own record) and returns
  the hosted pay page ``/pay/sandbox/<reference>/`` as the redirect URL and QR payload.
- On that page a person presses "支付 Pay" or "模拟失败 Fail" (:func:`sandbox_payer_decide`).
  The decision is final on the provider's side (a conditional update from ``pending``).
- The provider then notifies the platform **asynchronously**: the decision publishes an outbox
  event ``payments.sandbox_notify`` carrying the notification body; the relay delivers it (at
  least once, retried with backoff) to :func:`sandbox_notify_deliver`, which — like a real
  provider's sender on each attempt — signs the body afresh and hands the signed bytes and
  headers to the very function the HTTP endpoint ``POST /api/v1/payments/notify/sandbox``
  calls, so the signature and timestamp checks run on every delivery.
- **Duplicates, out of order**: with probability ``settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE``
  (env ``YAJI_SANDBOX_PAY_DUPLICATE_RATE``, default 0.1; 1 = always) the same notification
  (same event id) is published twice, as real providers do, and the copy's first delivery
  "times out", so it arrives after a backoff — after notifications sent in between. The
  platform processes it once.

- **Refunds** (``create_refund``): idempotent on our refund id, refused when the payment is
  not paid or the refunds would exceed it; decided at once (a refund whose amount ends in 13
  fen fails with ``account_abnormal``, anything else succeeds) and notified asynchronously
  through ``payments.sandbox_refund_notify`` the same way (signed per delivery, sometimes
  twice; several refunds of one payment arrive in whatever order the relay delivers them).
- **Daily statement** (``statement_download``): a CSV of the day's paid payments and
  succeeded refunds with a summary line, like the bill files real providers offer.

Signature: ``Yaji-Sandbox-Signature = hex(HMAC-SHA256(secret, timestamp + "\\n" + nonce +
"\\n" + body))`` with ``Yaji-Sandbox-Timestamp`` (Unix seconds) and ``Yaji-Sandbox-Nonce``;
the secret is ``settings.YAJI_SANDBOX_PAY_SECRET``. Notifications more than
:data:`TOLERANCE_SECONDS` from now (either way) are refused as stale.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import random
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish, outbox_subscribe
from yaji.payments.errors import (
    InvalidSignature,
    MalformedNotification,
    MalformedStatement,
    ProviderRefundRefused,
    SandboxPaymentClosed,
    StaleNotification,
)
from yaji.payments.models import (
    SandboxPayment,
    SandboxPaymentStatus,
    SandboxRefund,
    SandboxRefundStatus,
)
from yaji.payments.providers.base import (
    Notification,
    ProviderPayment,
    ProviderPaymentState,
    ProviderRefund,
    RefundNotification,
    RefundRequest,
    StatementRecord,
)

if TYPE_CHECKING:
    from yaji.core.models import OutboxEvent
    from yaji.payments.models import PaymentIntent

logger = logging.getLogger(__name__)

PROVIDER_NAME = "sandbox"
TOPIC_SANDBOX_NOTIFY = "payments.sandbox_notify"
SUBSCRIBER_NAME = "payments.sandbox_sender"
HEADER_TIMESTAMP = "Yaji-Sandbox-Timestamp"
HEADER_NONCE = "Yaji-Sandbox-Nonce"
HEADER_SIGNATURE = "Yaji-Sandbox-Signature"
TOLERANCE_SECONDS = 300
PAYMENT_TTL = timedelta(minutes=30)
TOPIC_SANDBOX_REFUND_NOTIFY = "payments.sandbox_refund_notify"
REFUND_SUBSCRIBER_NAME = "payments.sandbox_refund_sender"
# Test amounts: a refund whose amount ends in these fen fails at the provider.
REFUND_FAILING_CENTS: dict[int, str] = {13: "account_abnormal"}
STATEMENT_HEADER = [
    "occurred_at",
    "type",
    "payment_reference",
    "refund_no",
    "amount_fen",
    "currency",
]


def _secret() -> bytes:
    return str(settings.YAJI_SANDBOX_PAY_SECRET).encode()


def sandbox_signature(*, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(_secret(), message, hashlib.sha256).hexdigest()


def sandbox_sign(
    body: bytes, *, timestamp: int | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The headers a sandbox notification carries for ``body`` (signed now unless told)."""
    ts = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sandbox_signature(timestamp=ts, nonce=nonce, body=body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return ""


def sandbox_verify_signed(headers: Mapping[str, str], body: bytes) -> None:
    """Authenticate a sandbox-signed body (signature, then timestamp), or raise
    ``InvalidSignature`` / ``StaleNotification``. Shared by payment and payout notifications."""
    timestamp = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    signature = _header(headers, HEADER_SIGNATURE)
    if not (timestamp and nonce and signature):
        raise InvalidSignature(extra={"reason": "missing signature headers"})
    expected = sandbox_signature(timestamp=timestamp, nonce=nonce, body=body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise InvalidSignature()
    # Checked after the signature: an unauthenticated timestamp is not worth an answer.
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSignature(extra={"reason": "timestamp is not an integer"}) from None
    if abs(clock.now().timestamp() - sent) > TOLERANCE_SECONDS:
        raise StaleNotification(extra={"tolerance_seconds": TOLERANCE_SECONDS})


class SandboxProvider:
    name = PROVIDER_NAME

    def create_payment(self, intent: PaymentIntent, *, return_url: str = "") -> ProviderPayment:
        reference = "sbx_" + secrets.token_hex(12)
        SandboxPayment.objects.create(
            reference=reference,
            amount_fen=intent.provider_amount_fen,
            currency=intent.currency,
            description=str(intent.get_purpose_display()),
            return_url=return_url[:500],
            expires_at=clock.now() + PAYMENT_TTL,
        )
        url = reverse("payments:sandbox_pay", args=[reference])
        return ProviderPayment(reference=reference, redirect_url=url, qr_payload=url)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        sandbox_verify_signed(headers, body)
        try:
            data = json.loads(body)
            status = {"payment.succeeded": "succeeded", "payment.failed": "failed"}[data["type"]]
            amount = Money(data["amount_fen"], data["currency"])
            return Notification(
                event_id=str(data["id"])[:100],
                reference=str(data["reference"])[:100],
                status=status,  # type: ignore[arg-type]  # narrowed by the table above
                amount=amount,
            )
        except (ValueError, KeyError, TypeError, ApplicationError) as exc:
            raise MalformedNotification() from exc

    def query_payment(self, reference: str) -> ProviderPaymentState:
        payment = SandboxPayment.objects.filter(reference=reference).first()
        if payment is None:
            return ProviderPaymentState(reference=reference, status="unknown", amount=None)
        status = {
            SandboxPaymentStatus.PENDING: "pending",
            SandboxPaymentStatus.PAID: "succeeded",
            SandboxPaymentStatus.FAILED: "failed",
        }[SandboxPaymentStatus(payment.status)]
        return ProviderPaymentState(
            reference=reference,
            status=status,  # type: ignore[arg-type]  # values of the table above
            amount=Money(payment.amount_fen, payment.currency),
        )

    # --- refunds ------------------------------------------------------------------------------

    @transaction.atomic(durable=True)
    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        """Accept a refund (idempotent on ``out_reference``), decide it and queue its signed
        notification; refused (``ProviderRefundRefused``) when the payment is not paid, the
        currency differs or the refunds would exceed the payment — as a real provider does."""
        existing = SandboxRefund.objects.filter(out_reference=request.out_reference).first()
        if existing is not None:
            return ProviderRefund(reference=existing.reference)
        payment = (
            SandboxPayment.objects.select_for_update()
            .filter(reference=request.payment_reference)
            .first()
        )
        if payment is None or payment.status != SandboxPaymentStatus.PAID:
            raise ProviderRefundRefused(extra={"reason": "payment_not_paid"})
        if request.amount.currency != payment.currency:
            raise ProviderRefundRefused(extra={"reason": "currency_mismatch"})
        refunded = sum(
            payment.refunds.exclude(status=SandboxRefundStatus.FAILED).values_list(
                "amount_fen", flat=True
            )
        )
        if refunded + request.amount.amount > payment.amount_fen:
            raise ProviderRefundRefused(extra={"reason": "refund_exceeds_payment"})
        failure = REFUND_FAILING_CENTS.get(request.amount.amount % 100, "")
        now = clock.now()
        refund = SandboxRefund.objects.create(
            reference="sbr_" + secrets.token_hex(12),
            out_reference=request.out_reference[:100],
            payment=payment,
            amount_fen=request.amount.amount,
            currency=request.amount.currency,
            status=SandboxRefundStatus.FAILED if failure else SandboxRefundStatus.SUCCEEDED,
            failure_reason=failure,
            succeeded_at=None if failure else now,
        )
        sandbox_notifications_queue(
            topic=TOPIC_SANDBOX_REFUND_NOTIFY,
            body=sandbox_refund_body(refund=refund),
            key=refund.reference,
        )
        return ProviderRefund(reference=refund.reference)

    def verify_refund_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> RefundNotification:
        sandbox_verify_signed(headers, body)
        try:
            data = json.loads(body)
            status = {"refund.succeeded": "succeeded", "refund.failed": "failed"}[data["type"]]
            return RefundNotification(
                event_id=str(data["id"])[:100],
                reference=str(data["reference"])[:100],
                out_reference=str(data["out_reference"])[:100],
                status=status,  # type: ignore[arg-type]  # narrowed by the table above
                amount=Money(data["amount_fen"], data["currency"]),
                failure_reason=str(data.get("failure_reason") or "")[:64],
            )
        except (ValueError, KeyError, TypeError, AttributeError, ApplicationError) as exc:
            raise MalformedNotification() from exc

    # --- the daily statement ------------------------------------------------------------------

    def statement_download(self, day: date) -> bytes:
        """The day's statement as CSV (UTF-8): every payment paid and every refund that
        succeeded during ``day`` in ``settings.TIME_ZONE``, then a summary line."""
        start = datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
        end = start + timedelta(days=1)
        rows: list[list[str]] = []
        for payment in SandboxPayment.objects.filter(
            status=SandboxPaymentStatus.PAID, paid_at__gte=start, paid_at__lt=end
        ).order_by("paid_at", "pk"):
            assert payment.paid_at is not None  # filtered above
            rows.append(
                [
                    payment.paid_at.isoformat(),
                    "payment",
                    payment.reference,
                    "",
                    str(payment.amount_fen),
                    payment.currency,
                ]
            )
        for refund in (
            SandboxRefund.objects.filter(
                status=SandboxRefundStatus.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end
            )
            .select_related("payment")
            .order_by("succeeded_at", "pk")
        ):
            assert refund.succeeded_at is not None  # filtered above
            rows.append(
                [
                    refund.succeeded_at.isoformat(),
                    "refund",
                    refund.payment.reference,
                    refund.out_reference,
                    str(refund.amount_fen),
                    refund.currency,
                ]
            )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(STATEMENT_HEADER)
        writer.writerows(sorted(rows))
        paid = sum(int(r[4]) for r in rows if r[1] == "payment")
        refunded = sum(int(r[4]) for r in rows if r[1] == "refund")
        writer.writerow(["#summary", str(len(rows)), str(paid), str(refunded), "", ""])
        return out.getvalue().encode()

    def statement_parse(self, content: bytes) -> list[StatementRecord]:
        """Parse a statement file; a file whose summary disagrees with its lines is malformed."""
        try:
            reader = csv.reader(io.StringIO(content.decode()))
            header = next(reader)
            if header != STATEMENT_HEADER:
                raise ValueError("unexpected header")
            records: list[StatementRecord] = []
            summary: list[str] | None = None
            for row in reader:
                if row and row[0] == "#summary":
                    summary = row
                    continue
                occurred, kind, payment_ref, refund_ref, amount_fen, currency = row
                if kind not in ("payment", "refund"):
                    raise ValueError(f"unknown kind {kind!r}")
                records.append(
                    StatementRecord(
                        kind=kind,  # type: ignore[arg-type]  # checked above
                        payment_reference=payment_ref,
                        refund_reference=refund_ref,
                        amount=Money(int(amount_fen), currency),
                        occurred_at=datetime.fromisoformat(occurred),
                    )
                )
            if summary is None or int(summary[1]) != len(records):
                raise ValueError("summary line missing or wrong")
        except (ValueError, StopIteration, UnicodeDecodeError, ApplicationError) as exc:
            raise MalformedStatement(extra={"reason": str(exc)[:200]}) from exc
        return records


# --- the payer's side: the hosted pay page -----------------------------------------------------


def sandbox_payment_get(*, reference: str) -> SandboxPayment | None:
    return SandboxPayment.objects.filter(reference=reference).first()


def sandbox_notification_body(*, payment: SandboxPayment, paid: bool) -> str:
    return json.dumps(
        {
            "id": "evt_" + secrets.token_hex(12),
            "type": "payment.succeeded" if paid else "payment.failed",
            "reference": payment.reference,
            "amount_fen": payment.amount_fen,
            "currency": payment.currency,
            "created_at": clock.now().isoformat(),
        },
        separators=(",", ":"),
    )


@transaction.atomic(durable=True)
def sandbox_payer_decide(*, reference: str, paid: bool) -> SandboxPayment:
    """The payer pressed Pay (``paid=True``) or Fail on the pay page; queue the notification."""
    now = clock.now()
    decided = SandboxPayment.objects.filter(
        reference=reference, status=SandboxPaymentStatus.PENDING, expires_at__gt=now
    ).update(
        status=SandboxPaymentStatus.PAID if paid else SandboxPaymentStatus.FAILED,
        paid_at=now if paid else None,
        updated_at=now,
    )
    if decided != 1:
        raise SandboxPaymentClosed(extra={"reference": reference[:100]})
    payment = SandboxPayment.objects.get(reference=reference)
    body = sandbox_notification_body(payment=payment, paid=paid)
    sandbox_notifications_queue(topic=TOPIC_SANDBOX_NOTIFY, body=body, key=reference)
    return payment


class SandboxDeliveryDelayed(Exception):
    """The sandbox's simulated delivery timeout: the outbox retries the event later."""


def sandbox_notifications_queue(*, topic: str, body: str, key: str) -> None:
    """Queue a notification the way real providers deliver them: at least once, and with
    probability ``YAJI_SANDBOX_PAY_DUPLICATE_RATE`` a second copy (same event id) whose first
    delivery attempt "times out", so it arrives later — after whatever was sent in between,
    i.e. duplicated and out of order."""
    outbox_publish(topic=topic, payload={"body": body}, key=key)
    if random.random() < float(settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE):
        outbox_publish(topic=topic, payload={"body": body, "late": True}, key=key)


def _delay_late_copy(event: OutboxEvent) -> None:
    if event.payload.get("late") and event.attempts == 0:
        raise SandboxDeliveryDelayed("simulated delivery timeout; retried later")


# --- the provider's sender: delivers notifications through the outbox --------------------------


def sandbox_notify_deliver(event: OutboxEvent) -> Any:
    """Outbox handler: sign the notification now and deliver it to the platform's receiver."""
    from yaji.payments.services import payment_notification_receive

    _delay_late_copy(event)
    body = str(event.payload["body"]).encode()
    try:
        return payment_notification_receive(
            provider=PROVIDER_NAME, headers=sandbox_sign(body), body=body
        )
    except ApplicationError as exc:
        # The platform answered 4xx: a real provider would log it on its side; retrying a
        # rejected notification cannot change the answer, so it is not retried.
        logger.warning(
            "sandbox notification rejected",
            extra={"event_id": str(event.id), "code": exc.code},
        )
        return None


def sandbox_refund_body(*, refund: SandboxRefund) -> str:
    succeeded = refund.status == SandboxRefundStatus.SUCCEEDED
    return json.dumps(
        {
            "id": "revt_" + secrets.token_hex(12),
            "type": "refund.succeeded" if succeeded else "refund.failed",
            "reference": refund.reference,
            "out_reference": refund.out_reference,
            "payment_reference": refund.payment.reference,
            "amount_fen": refund.amount_fen,
            "currency": refund.currency,
            "failure_reason": refund.failure_reason,
            "created_at": clock.now().isoformat(),
        },
        separators=(",", ":"),
    )


def sandbox_refund_notify_deliver(event: OutboxEvent) -> Any:
    """Outbox handler: sign the refund notification now and deliver it to the platform."""
    from yaji.payments.refunds import refund_notification_receive

    _delay_late_copy(event)
    body = str(event.payload["body"]).encode()
    try:
        return refund_notification_receive(
            provider=PROVIDER_NAME, headers=sandbox_sign(body), body=body
        )
    except ApplicationError as exc:
        logger.warning(
            "sandbox refund notification rejected",
            extra={"event_id": str(event.id), "code": exc.code},
        )
        return None


def sandbox_subscribers_register() -> None:
    outbox_subscribe(
        topic=TOPIC_SANDBOX_NOTIFY, name=SUBSCRIBER_NAME, handler=sandbox_notify_deliver
    )
    outbox_subscribe(
        topic=TOPIC_SANDBOX_REFUND_NOTIFY,
        name=REFUND_SUBSCRIBER_NAME,
        handler=sandbox_refund_notify_deliver,
    )
