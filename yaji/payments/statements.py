"""Reconciling provider clearing with the providers' daily statements (对账单).

Each provider publishes a statement per day: the payments it collected and the refunds it paid
out for us. The platform's side of the same money is the ``provider_clearing`` account: a
payment posts ``payment:<intent>`` (clearing −amount), a refund ``refund:<id>`` (clearing
+provider part). :func:`provider_statement_compare` matches the two record by record:

- every statement line must have the clearing posting of the same record, for the same amount
  (a line we never posted: the notification was lost; another amount: someone is wrong);
- every clearing posting made that day must be on that day's statement — or the previous
  day's: a payment made at 23:59:59 may be notified (and posted) after midnight.

Days are calendar days in ``settings.TIME_ZONE`` (China time, as the providers cut them). The
registered check compares closed days only (the last :data:`STATEMENT_DAYS` before today):
today's statement is still growing and notifications may still be on their way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum

from yaji.core import clock
from yaji.core.money import Money
from yaji.ledger.models import AccountKind, LedgerEntry
from yaji.ledger.reconciliation import MAX_REPORTED, Discrepancy, Progress
from yaji.payments.models import PaymentIntent, Refund
from yaji.payments.providers import PAYMENT_PROVIDER_NAMES, provider_get
from yaji.payments.providers.base import StatementRecord
from yaji.payments.refunds import LEDGER_KIND_REFUND
from yaji.payments.services import LEDGER_KIND_CHECKOUT, LEDGER_KIND_TOPUP

T = TypeVar("T")
STATEMENT_DAYS = 7
# IN-lists are sent in chunks: SQLite caps the number of parameters of one statement.
LOOKUP_CHUNK = 500
_CLEARING_KINDS = (LEDGER_KIND_TOPUP, LEDGER_KIND_CHECKOUT, LEDGER_KIND_REFUND)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> date:
    return clock.now().astimezone(_zone()).date()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=_zone())
    return start, start + timedelta(days=1)


def _fmt(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def _refund_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def _clearing_by_reference(references: Iterable[str]) -> dict[str, int]:
    """What each ledger transaction moved on provider clearing (signed, per reference)."""
    found: dict[str, int] = {}
    for chunk in _chunks(references):
        for row in (
            LedgerEntry.objects.filter(
                account__kind=AccountKind.PROVIDER_CLEARING, transaction__reference__in=chunk
            )
            .order_by()
            .values("transaction__reference")
            .annotate(total=Sum("amount"))
        ):
            found[row["transaction__reference"]] = row["total"]
    return found


def _intents_by_reference(provider: str, references: Iterable[str]) -> dict[str, PaymentIntent]:
    found: dict[str, PaymentIntent] = {}
    for chunk in _chunks(references):
        for intent in PaymentIntent.objects.filter(
            provider=provider, provider_reference__in=chunk
        ).only("id", "provider_reference"):
            found[intent.provider_reference] = intent
    return found


def _existing(model: type[PaymentIntent] | type[Refund], provider: str, ids: Iterable) -> list:
    rows: list = []
    for chunk in _chunks(i for i in ids if i):
        rows += list(
            model.objects.filter(provider=provider, pk__in=chunk).only("id", "provider_reference")
        )
    return rows


def _record_key(record: StatementRecord) -> tuple[str, str]:
    return (record.kind, record.refund_reference or record.payment_reference)


def provider_statement_records(*, provider: str, day: date) -> list[StatementRecord]:
    adapter = provider_get(provider)
    return adapter.statement_parse(adapter.statement_download(day))


def provider_statement_compare(
    *,
    provider: str,
    day: date,
    records: list[StatementRecord] | None = None,
    previous: list[StatementRecord] | None = None,
) -> list[Discrepancy]:
    """Compare ``provider``'s statement of ``day`` with our provider clearing (see above)."""
    if records is None:
        records = provider_statement_records(provider=provider, day=day)
    if previous is None:
        previous = provider_statement_records(provider=provider, day=day - timedelta(days=1))
    label = f"{provider} {day.isoformat()}"
    found: list[Discrepancy] = []

    # 1. statement → our books
    payment_refs = {r.payment_reference for r in records if r.kind == "payment"}
    intents = _intents_by_reference(provider, payment_refs)
    refund_ids = {
        key for r in records if r.kind == "refund" if (key := _refund_uuid(r.refund_reference))
    }
    refunds = {str(refund.id): refund for refund in _existing(Refund, provider, refund_ids)}
    ledger_refs: dict[tuple[str, str], str] = {}
    for record in records:
        if record.kind == "payment":
            intent = intents.get(record.payment_reference)
            if intent is not None:
                ledger_refs[_record_key(record)] = f"payment:{intent.id}"
        elif record.refund_reference in refunds:
            ledger_refs[_record_key(record)] = f"refund:{record.refund_reference}"
    clearing = _clearing_by_reference(ledger_refs.values())
    for record in records:
        reference = ledger_refs.get(_record_key(record))
        posted = clearing.get(reference, 0) if reference else 0
        # A payment takes money out of clearing (it is at the provider now); a refund puts the
        # provider's part back. Seen from the statement both are positive.
        ours = -posted if record.kind == "payment" else posted
        if ours != record.amount.amount:
            what = record.refund_reference or record.payment_reference
            found.append(
                Discrepancy(
                    subject=f"{label} {record.kind} {what}",
                    expected=f"statement {record.amount}",
                    actual=f"provider clearing {_fmt(ours, record.amount.currency)}"
                    + ("" if reference in clearing else " (never posted)"),
                )
            )

    # 2. our clearing postings of the day → statement (of the day or the day before)
    listed = {_record_key(r) for r in records} | {_record_key(r) for r in previous}
    start, end = _day_bounds(day)
    rows = (
        LedgerEntry.objects.filter(
            account__kind=AccountKind.PROVIDER_CLEARING,
            transaction__kind__in=_CLEARING_KINDS,
            created_at__gte=start,
            created_at__lt=end,
        )
        .order_by("pk")
        .values("transaction__reference", "amount", "currency")
    )
    posted_refs = {row["transaction__reference"]: row for row in rows}
    intent_ids = {
        _refund_uuid(ref.split(":", 1)[1]) for ref in posted_refs if ref.startswith("payment:")
    }
    refund_ids_posted = {
        _refund_uuid(ref.split(":", 1)[1]) for ref in posted_refs if ref.startswith("refund:")
    }
    ours_payments = {
        f"payment:{intent.id}": ("payment", intent.provider_reference)
        for intent in _existing(PaymentIntent, provider, intent_ids)
    }
    ours_refunds = {
        f"refund:{refund.id}": ("refund", str(refund.id))
        for refund in _existing(Refund, provider, refund_ids_posted)
    }
    for reference, record_key in sorted({**ours_payments, **ours_refunds}.items()):
        if record_key not in listed:
            row = posted_refs[reference]
            found.append(
                Discrepancy(
                    subject=f"{label} {reference}",
                    expected="on the provider's statement",
                    actual=f"provider clearing {_fmt(row['amount'], row['currency'])}, "
                    "missing from the statement",
                )
            )
    return found[:MAX_REPORTED]


def _providers_in_use(since: datetime) -> list[str]:
    used = set(
        PaymentIntent.objects.filter(updated_at__gte=since)
        .order_by()
        .values_list("provider", flat=True)
        .distinct()
    )
    # The sandbox is always compared (it always exists); others once they carried payments.
    return sorted((used | {"sandbox"}) & PAYMENT_PROVIDER_NAMES)


def check_provider_statements(progress: Progress) -> list[Discrepancy]:
    """Provider clearing matches every provider's statements of the last closed days."""
    today = local_today()
    days = [today - timedelta(days=n) for n in range(STATEMENT_DAYS, 0, -1)]
    since, _ = _day_bounds(days[0] - timedelta(days=1))
    providers = _providers_in_use(since)
    progress.start(len(providers) * len(days))
    found: list[Discrepancy] = []
    for provider in providers:
        previous = provider_statement_records(provider=provider, day=days[0] - timedelta(days=1))
        for day in days:
            records = provider_statement_records(provider=provider, day=day)
            found += provider_statement_compare(
                provider=provider, day=day, records=records, previous=previous
            )
            previous = records
            progress.advance()
    return found[:MAX_REPORTED]
