"""Receiving a provider's signed notification exactly once — the one path shared by payment,
refund and payout notifications (ADR 0039 folded three copies of it into this module).

1. **Authenticate** with the adapter's ``verify`` (signature, timestamp, body). A notification
   that fails is kept for audit with no event id (a forger must not burn a real one) and the
   error is raised: nothing else changes.
2. **Deduplicate** by inserting the notification row under ``UNIQUE(provider, event_id)`` in a
   savepoint: a duplicate — sequential or concurrent (the second insert waits on the index
   until the first commits) — stops there with outcome ``duplicate``.
3. **Apply** the caller's ``apply(record, notification)`` in the same durable transaction; it
   locks its own row and moves it out of an open status only by a conditional update
   (:func:`status_settle`), so a notification arriving out of order — a failure after a
   success, a second success — cannot flip or repeat it: the first final one wins and a
   contradicting later one flags the row for an operator.
4. An ``amount_mismatch`` outcome (the row is flagged, no money moved) is raised as
   ``AmountMismatch`` after the transaction committed the audit record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django.db import IntegrityError, models, transaction

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.payments.errors import AmountMismatch, InvalidSignature
from yaji.payments.models import ProviderNotification

logger = logging.getLogger(__name__)

_HEADERS_KEPT = 40
OUTCOME_AMOUNT_MISMATCH = "amount_mismatch"


@dataclass(frozen=True, slots=True)
class NotificationResult:
    """What processing a notification did: ``succeeded``, ``failed``, ``duplicate``,
    ``already_succeeded``, ``ignored_<status>``, ``late_success``, ``unknown_reference``...
    ``intent_id`` names the row it applied to (intent, refund, withdrawal or shop payout)."""

    outcome: str
    intent_id: str | None = None


class _Event(Protocol):
    @property
    def event_id(self) -> str: ...


N = TypeVar("N", bound=_Event)
# ``apply(record, notification)`` → (outcome, the row's id or None). It may set the record's
# links (``record.intent`` ...); the record is saved as processed afterwards.
Apply = Callable[[ProviderNotification, N], tuple[str, str | None]]


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    drop = {"authorization", "cookie", "http_authorization", "http_cookie"}
    kept = {str(k): str(v)[:500] for k, v in headers.items() if str(k).lower() not in drop}
    return dict(list(kept.items())[:_HEADERS_KEPT])


def notification_receive(
    *,
    provider: str,
    headers: Mapping[str, str],
    body: bytes,
    verify: Callable[[Mapping[str, str], bytes], N],
    apply: Apply[N],
    subject_key: str,
) -> NotificationResult:
    """Authenticate, deduplicate and apply one notification (see the module docstring).

    ``subject_key`` names the id in ``AmountMismatch.extra`` (``intent_id``, ``refund_id``...).
    """
    text = body.decode("utf-8", errors="replace")
    kept = safe_headers(headers)
    try:
        notification = verify(headers, body)
    except ApplicationError as exc:
        ProviderNotification.objects.create(
            provider=provider,
            event_id=None,
            headers=kept,
            body=text,
            signature_valid=not isinstance(exc, InvalidSignature),
            processed=False,
            outcome=exc.code,
        )
        raise
    result = _apply_once(
        provider=provider, notification=notification, headers=kept, body=text, apply=apply
    )
    if result.outcome == OUTCOME_AMOUNT_MISMATCH:
        raise AmountMismatch(extra={subject_key: result.intent_id})
    return result


@transaction.atomic(durable=True)
def _apply_once(
    *, provider: str, notification: N, headers: dict[str, str], body: str, apply: Apply[N]
) -> NotificationResult:
    try:
        with transaction.atomic():  # savepoint: a duplicate leaves the outer transaction usable
            record = ProviderNotification.objects.create(
                provider=provider,
                event_id=notification.event_id,
                headers=headers,
                body=body,
                signature_valid=True,
            )
    except IntegrityError:
        return NotificationResult(outcome="duplicate")
    outcome, subject_id = apply(record, notification)
    record.processed = True
    record.outcome = outcome
    record.save()
    return NotificationResult(outcome=outcome, intent_id=subject_id)


def unknown_reference(provider: str, notification: _Event, what: str) -> tuple[str, None]:
    logger.warning(
        f"notification for an unknown {what}",
        extra={"provider": provider, "event_id": notification.event_id},
    )
    return "unknown_reference", None


def row_flag(row: models.Model, flag: str) -> None:
    """Mark a row (intent, refund, withdrawal) for an operator; no money moves on it."""
    type(row)._default_manager.filter(pk=row.pk).update(flag=flag, updated_at=clock.now())
    logger.error(
        f"{type(row).__name__.lower()} flagged", extra={"row_id": str(row.pk), "flag": flag}
    )


def status_settle(
    row: Any,
    *,
    open_statuses: Collection[str],
    final: str,
    already: str,
    contradicted: str,
    flag: str = "",
    **fields: Any,
) -> str | None:
    """Move a locked ``row`` from an open status to ``final`` by a conditional update.

    None when it moved (the caller then moves the money); otherwise the outcome: ``already``
    when it is in ``final`` already (a late duplicate under another event id), ``contradicted``
    when another final status won first — then ``flag`` (if given) marks it for an operator.
    """
    if row.status == final:
        return already
    now = clock.now()
    moved = (
        type(row)
        ._default_manager.filter(pk=row.pk, status__in=list(open_statuses))
        .update(status=final, updated_at=now, **fields)
    )
    if moved != 1:
        if flag:
            row_flag(row, flag)
        return contradicted
    return None


def amounts_differ(notification: Any, *, amount_fen: int, currency: str) -> bool:
    return (notification.amount.amount, notification.amount.currency) != (amount_fen, currency)


M = TypeVar("M", bound=models.Model)


def row_locked_by_uuid(model: type[M], raw: str, **filters: Any) -> M | None:
    """Lock the row whose id is ``raw`` (our own id, echoed by the provider), or None."""
    try:
        key = uuid.UUID(raw)
    except ValueError:
        return None
    return model._default_manager.select_for_update().filter(pk=key, **filters).first()


def apply_to_row(
    record: ProviderNotification,
    notification: Any,
    *,
    provider: str,
    row: Any,
    link: str,
    amount_fen: Callable[[Any], int],
    on_success: Callable[[], str],
    on_failure: Callable[[], str],
) -> tuple[str, str | None]:
    """The common body of an ``apply``: an unknown row, a wrong amount (flagged, nothing
    moves), then the success or failure handler of the locked ``row``; the record is linked to
    the row through its field ``link``."""
    if row is None:
        return unknown_reference(provider, notification, link)
    setattr(record, link, row)
    if amounts_differ(notification, amount_fen=amount_fen(row), currency=row.currency):
        row_flag(row, OUTCOME_AMOUNT_MISMATCH)
        return OUTCOME_AMOUNT_MISMATCH, str(row.pk)
    outcome = on_success() if notification.status == "succeeded" else on_failure()
    return outcome, str(row.pk)
