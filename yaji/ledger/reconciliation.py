"""Reconciliation: named checks that prove the books agree with themselves (and, later, with the
world). ``yaji reconcile`` runs them all and exits non-zero on any discrepancy.

The ledger registers its own checks in ``LedgerConfig.ready``. Later apps add theirs the same
way, explicitly, from their own ``AppConfig.ready``::

    reconciliation_check_register(
        name="payments.provider_statement",
        description="provider clearing equals the provider's daily statement",
        run=provider_statement_check,      # (progress) -> list[Discrepancy]
    )

Checks aggregate in SQL (GROUP BY, window functions) rather than looping over entries in
Python, and walk accounts in primary-key batches so the progress bar moves on big tables. Every
comparison of an account's balance with its entries happens inside one SQL statement, so on a
live PostgreSQL database it sees one consistent snapshot and a posting committing mid-run cannot
produce a false alarm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import BigIntegerField, F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce

from yaji.core.money import Money
from yaji.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction

# A check reports at most this many discrepancies; past that the books need a human anyway.
MAX_REPORTED = 100
ACCOUNT_BATCH = 5_000


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, step: int = 1) -> None: ...


class NullProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, step: int = 1) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Discrepancy:
    subject: str  # what is off: "account #12 user_wallet user:5 CNY", "transaction #7 CNY"
    expected: str
    actual: str


CheckRun = Callable[[Progress], list[Discrepancy]]


@dataclass(frozen=True, slots=True)
class ReconciliationCheck:
    name: str
    description: str
    run: CheckRun


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    description: str
    discrepancies: list[Discrepancy] = field(default_factory=list)
    error: str | None = None  # a check that crashed is a failure, never a silent pass

    @property
    def ok(self) -> bool:
        return self.error is None and not self.discrepancies


_checks: dict[str, ReconciliationCheck] = {}


def reconciliation_check_register(*, name: str, description: str, run: CheckRun) -> None:
    current = _checks.get(name)
    if current is not None and current.run is not run:
        raise ValueError(f"reconciliation check {name!r} is already registered")
    _checks[name] = ReconciliationCheck(name=name, description=description, run=run)


def reconciliation_check_unregister(*, name: str) -> None:
    _checks.pop(name, None)


def reconciliation_checks() -> list[ReconciliationCheck]:
    return list(_checks.values())


def reconciliation_run(
    *,
    names: list[str] | None = None,
    progress_for: Callable[[ReconciliationCheck], Progress] | None = None,
) -> list[CheckResult]:
    """Run the registered checks (or only ``names``) in registration order."""
    if names:
        unknown = sorted(set(names) - set(_checks))
        if unknown:
            raise ValueError(f"unknown reconciliation check(s): {', '.join(unknown)}")
    results = []
    for check in reconciliation_checks():
        if names and check.name not in names:
            continue
        progress = progress_for(check) if progress_for else NullProgress()
        try:
            found = check.run(progress)
        except Exception as exc:  # reported as FAIL with the reason; the other checks still run
            results.append(
                CheckResult(
                    name=check.name,
                    description=check.description,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        results.append(
            CheckResult(name=check.name, description=check.description, discrepancies=found)
        )
    return results


# --- formatting -------------------------------------------------------------------------------


def _amount(minor: int | None, currency: str) -> str:
    if minor is None:
        return "—"
    try:
        return str(Money(int(minor), currency))
    except Exception:  # a tampered currency must not hide the discrepancy behind a crash
        return f"{minor} minor units {currency}"


def _account_label(
    *, pk: int, kind: str, owner_id: int | None, owner_ref: str, currency: str
) -> str:
    owner = f"user:{owner_id}" if owner_id else (owner_ref or "system")
    if owner_id and owner_ref:
        owner = f"{owner} {owner_ref}"
    return f"account #{pk} {kind} {owner} {currency}"


_ACCOUNT_FIELDS = ("pk", "kind", "owner_id", "owner_ref", "currency")


def _label(row: dict) -> str:
    return _account_label(
        pk=row["pk"],
        kind=row["kind"],
        owner_id=row["owner_id"],
        owner_ref=row["owner_ref"],
        currency=row["currency"],
    )


def _account_ranges(progress: Progress) -> Iterator[tuple[int, int]]:
    """(first, last) primary keys of consecutive account batches, advancing the progress bar."""
    progress.start(LedgerAccount.objects.count())
    last = 0
    while True:
        ids = list(
            LedgerAccount.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:ACCOUNT_BATCH]
        )
        if not ids:
            return
        yield ids[0], ids[-1]
        progress.advance(len(ids))
        last = ids[-1]


# --- the ledger's own checks ------------------------------------------------------------------


def check_transactions_balanced(progress: Progress) -> list[Discrepancy]:
    """Every transaction's entries sum to zero per currency, and no transaction is empty."""
    progress.start(1)
    unbalanced = (
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("transaction_id", "currency")[:MAX_REPORTED]
    )
    found = [
        Discrepancy(
            subject=f"transaction #{row['transaction_id']} {row['currency']}",
            expected=_amount(0, row["currency"]),
            actual=_amount(row["total"], row["currency"]),
        )
        for row in unbalanced
    ]
    empty = (
        LedgerTransaction.objects.filter(entries__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:MAX_REPORTED]
    )
    found += [
        Discrepancy(subject=f"transaction #{pk}", expected="≥ 2 entries", actual="0 entries")
        for pk in empty
    ]
    progress.advance(1)
    return found[:MAX_REPORTED]


def check_entry_currency(progress: Progress) -> list[Discrepancy]:
    """Every entry is in its account's currency."""
    progress.start(1)
    rows = (
        LedgerEntry.objects.exclude(currency=F("account__currency"))
        .order_by("pk")
        .values("pk", "currency", "account_id", "account__currency")[:MAX_REPORTED]
    )
    found = [
        Discrepancy(
            subject=f"entry #{row['pk']} of account #{row['account_id']}",
            expected=row["account__currency"],
            actual=row["currency"],
        )
        for row in rows
    ]
    progress.advance(1)
    return found


def check_account_balances(progress: Progress) -> list[Discrepancy]:
    """Every account's stored balance equals the sum of its entries."""
    found: list[Discrepancy] = []
    for first, last in _account_ranges(progress):
        rows = (
            LedgerAccount.objects.filter(pk__gte=first, pk__lte=last)
            .annotate(
                total=Coalesce(Sum("entries__amount"), Value(0), output_field=BigIntegerField())
            )
            .exclude(balance=F("total"))
            .order_by("pk")
            .values(*_ACCOUNT_FIELDS, "balance", "total")
        )
        found += [
            Discrepancy(
                subject=_label(row),
                expected=_amount(row["total"], row["currency"]),
                actual=_amount(row["balance"], row["currency"]),
            )
            for row in rows[: MAX_REPORTED - len(found)]
        ]
        if len(found) >= MAX_REPORTED:
            break
    return found


def check_running_balances(progress: Progress) -> list[Discrepancy]:
    """Every entry's ``balance_after`` equals the running sum of its account's entries."""
    found: list[Discrepancy] = []
    for first, last in _account_ranges(progress):
        rows = (
            LedgerEntry.objects.filter(account_id__gte=first, account_id__lte=last)
            .annotate(
                running=Window(
                    Sum("amount"), partition_by=[F("account_id")], order_by=F("id").asc()
                )
            )
            .exclude(balance_after=F("running"))
            .order_by("pk")
            .values("pk", "account_id", "currency", "balance_after", "running")
        )
        found += [
            Discrepancy(
                subject=f"entry #{row['pk']} of account #{row['account_id']} (balance after)",
                expected=_amount(row["running"], row["currency"]),
                actual=_amount(row["balance_after"], row["currency"]),
            )
            for row in rows[: MAX_REPORTED - len(found)]
        ]
        if len(found) >= MAX_REPORTED:
            break
    return found


def check_no_negative_guarded(progress: Progress) -> list[Discrepancy]:
    """No account that may not go negative is negative (the CHECK constraint, double-checked)."""
    progress.start(1)
    rows = (
        LedgerAccount.objects.filter(allow_negative=False, balance__lt=0)
        .order_by("pk")
        .values(*_ACCOUNT_FIELDS, "balance")[:MAX_REPORTED]
    )
    found = [
        Discrepancy(
            subject=_label(row),
            expected="≥ 0",
            actual=_amount(row["balance"], row["currency"]),
        )
        for row in rows
    ]
    progress.advance(1)
    return found


def check_books_balanced(progress: Progress) -> list[Discrepancy]:
    """The balances of all accounts sum to zero per currency (money is neither made nor lost)."""
    progress.start(1)
    rows = (
        LedgerAccount.objects.values("currency")
        .annotate(total=Sum("balance"))
        .filter(~Q(total=0))
        .order_by("currency")
    )
    found = [
        Discrepancy(
            subject=f"all accounts {row['currency']}",
            expected=_amount(0, row["currency"]),
            actual=_amount(row["total"], row["currency"]),
        )
        for row in rows
    ]
    progress.advance(1)
    return found


LEDGER_CHECKS: list[tuple[str, str, CheckRun]] = [
    (
        "ledger.transactions_balanced",
        "every transaction sums to zero per currency",
        check_transactions_balanced,
    ),
    ("ledger.entry_currency", "every entry is in its account's currency", check_entry_currency),
    (
        "ledger.account_balances",
        "every balance equals the sum of its entries",
        check_account_balances,
    ),
    (
        "ledger.running_balances",
        "every entry's balance_after equals the running sum",
        check_running_balances,
    ),
    (
        "ledger.no_negative_guarded",
        "no guarded account (wallets, escrow, ...) is negative",
        check_no_negative_guarded,
    ),
    ("ledger.books_balanced", "all balances sum to zero per currency", check_books_balanced),
]


def ledger_checks_register() -> None:
    for name, description, run in LEDGER_CHECKS:
        reconciliation_check_register(name=name, description=description, run=run)
