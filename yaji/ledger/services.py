"""Writes to the books. Every movement of money on the platform posts through :func:`ledger_post`.

Transaction boundary: ``ledger_post`` is ``transaction.atomic`` but **not durable** — business
services (escrow, payouts, red packets) call it inside their own ``atomic(durable=True)`` so the
ledger entries commit or roll back with the business change. Called on its own it is its own
transaction; nested, it is a savepoint, so a refused posting leaves the caller's transaction
usable.

Concurrency: the affected accounts are locked with ``SELECT ... FOR UPDATE`` in primary-key
order, so two postings over the same accounts (in any direction) queue instead of deadlocking.
Callers that lock other rows must not hold ledger account locks while waiting on them in a
different order; lock your own rows first, post last, commit soon (no network calls in between).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F

from yaji.accounts.models import User
from yaji.core import clock
from yaji.core.errors import InvalidCurrency
from yaji.core.ids import new_event_id
from yaji.core.money import CURRENCY_EXPONENTS, Money
from yaji.core.outbox import OUTBOX_INSERT_COLUMNS, outbox_publish
from yaji.core.sqlparts import SqlChain
from yaji.ledger.errors import (
    InsufficientFunds,
    InvalidPostings,
    LedgerReferenceConflict,
    UnbalancedPostings,
)
from yaji.ledger.models import (
    NEGATIVE_ALLOWED_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)

TOPIC_TRANSACTION_POSTED = "ledger.transaction_posted"
DEFAULT_CURRENCY = "CNY"

# Kinds that always belong to one user; opening one without an owner is a bug.
_USER_KINDS: frozenset[str] = frozenset({AccountKind.USER_WALLET})


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of a transaction: ``amount`` arrives in ``account`` (negative: leaves it)."""

    account: LedgerAccount
    amount: Money


# --- accounts ---------------------------------------------------------------------------------


def account_for(
    *,
    kind: str,
    owner: User | None = None,
    owner_ref: str = "",
    currency: str = DEFAULT_CURRENCY,
) -> LedgerAccount:
    """The account of ``kind`` for this owner and currency, opened on first use.

    Race-safe: two callers opening the same account at once both get the same row, because the
    partial unique indexes reject the second insert and ``get_or_create`` then re-reads the row
    the first one committed (its insert runs in a savepoint, so the caller's transaction stays
    usable).
    """
    if kind not in AccountKind.values:
        raise ValueError(f"unknown ledger account kind {kind!r}")
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidCurrency(extra={"currency": str(currency)})
    if kind in _USER_KINDS and owner is None:
        raise ValueError(f"a {kind} account needs an owner")
    if owner is not None and owner.pk is None:
        raise ValueError("the owner must be saved before it gets a ledger account")
    if len(owner_ref) > 100:
        raise ValueError("owner_ref is at most 100 characters")
    account, _created = LedgerAccount.objects.get_or_create(
        kind=kind,
        owner=owner,
        owner_ref=owner_ref,
        currency=currency,
        defaults={"allow_negative": kind in NEGATIVE_ALLOWED_KINDS},
    )
    return account


def wallet_account_for_user(*, user: User, currency: str = DEFAULT_CURRENCY) -> LedgerAccount:
    return account_for(kind=AccountKind.USER_WALLET, owner=user, currency=currency)


def system_account(*, kind: str, currency: str = DEFAULT_CURRENCY) -> LedgerAccount:
    """The platform's single account of ``kind`` in ``currency`` (no owner)."""
    if kind in _USER_KINDS:
        raise ValueError(f"{kind} is not a system account kind")
    return account_for(kind=kind, currency=currency)


# --- posting ----------------------------------------------------------------------------------


def _validate(postings: Sequence[Posting]) -> None:
    if len(postings) < 2:
        raise InvalidPostings(extra={"reason": "a transaction needs at least two postings"})
    totals: dict[str, int] = defaultdict(int)
    seen: set[int] = set()
    for index, posting in enumerate(postings):
        if not isinstance(posting, Posting) or not isinstance(posting.amount, Money):
            raise InvalidPostings(extra={"reason": "not a Posting of Money", "index": index})
        account = posting.account
        if not isinstance(account, LedgerAccount) or account.pk is None:
            raise InvalidPostings(extra={"reason": "account is not a saved LedgerAccount"})
        if account.pk in seen:
            # One line per account keeps each entry's balance_after a real balance (never an
            # intermediate dip below zero); callers net their lines first.
            raise InvalidPostings(
                extra={
                    "reason": "account appears twice; net its postings",
                    "account_id": account.pk,
                }
            )
        seen.add(account.pk)
        if posting.amount.amount == 0:
            raise InvalidPostings(extra={"reason": "zero posting", "account_id": account.pk})
        if posting.amount.currency != account.currency:
            raise InvalidPostings(
                extra={
                    "reason": "posting currency differs from the account's",
                    "account_id": account.pk,
                    "account_currency": account.currency,
                    "currency": posting.amount.currency,
                }
            )
        totals[posting.amount.currency] += posting.amount.amount
    off = {currency: total for currency, total in sorted(totals.items()) if total != 0}
    if off:
        raise UnbalancedPostings(extra={"totals": off})


def _fingerprint(*, kind: str, postings: Sequence[Posting]) -> str:
    # Order-insensitive, so a retry that builds the same postings in another order is
    # recognised as the same transaction. Description and metadata are not part of it: they
    # describe the event, they do not change what moved.
    return _fingerprint_lines(
        kind=kind, lines=[[p.account.pk, p.amount.currency, p.amount.amount] for p in postings]
    )


def _fingerprint_lines(*, kind: str, lines: list[list[Any]]) -> str:
    lines = sorted(lines)
    canonical = json.dumps({"kind": kind, "postings": lines}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(*, existing: LedgerTransaction, fingerprint: str) -> LedgerTransaction:
    if existing.fingerprint != fingerprint:
        raise LedgerReferenceConflict(extra={"reference": existing.reference})
    return existing


@transaction.atomic  # not durable on purpose: see the module docstring
def ledger_post(
    *,
    kind: str,
    postings: list[Posting],
    reference: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction and update the balances of its accounts.

    - per currency the amounts sum to zero; no zero postings; each amount is in its account's
      currency; at least two postings (else ``ledger_invalid_postings`` / ``ledger_unbalanced``);
    - a guarded account that would go below zero raises ``InsufficientFunds`` (409
      ``insufficient_funds``) and nothing is written;
    - ``reference`` identifies the business event: posting it again with the same postings
      returns the stored transaction (nothing new is written or published); with different
      postings it raises ``LedgerReferenceConflict`` (409 ``ledger_reference_conflict``);
    - publishes ``ledger.transaction_posted`` through the outbox in the same transaction.

    The passed account objects get their ``balance`` refreshed, so callers do not act on a
    stale value.
    """
    if not kind or len(kind) > 64:
        raise InvalidPostings(extra={"reason": "kind must be 1–64 characters"})
    if not reference or len(reference) > 200:
        raise InvalidPostings(extra={"reason": "reference must be 1–200 characters"})
    if len(description) > 255:
        raise InvalidPostings(extra={"reason": "description is at most 255 characters"})
    _validate(postings)
    metadata = _json_safe(metadata or {})
    fingerprint = _fingerprint(kind=kind, postings=postings)

    # Fixed lock order (primary key) across every caller: no lock cycles, hence no deadlocks.
    account_ids = sorted({posting.account.pk for posting in postings})
    locked = {
        account.pk: account
        for account in LedgerAccount.objects.select_for_update()
        .filter(pk__in=account_ids)
        .order_by("pk")
    }
    for posting in postings:
        # The caller's object may be a stale or hand-built instance; the locked row is the truth.
        row = locked.get(posting.account.pk)
        if row is None or row.currency != posting.amount.currency:
            raise InvalidPostings(
                extra={"reason": "unknown account or currency", "account_id": posting.account.pk}
            )

    # Checked after the locks: a concurrent post of the same reference over the same accounts
    # has committed by now and is visible (READ COMMITTED takes a new snapshot per statement).
    existing = LedgerTransaction.objects.filter(reference=reference).first()
    if existing is not None:
        return _replay(existing=existing, fingerprint=fingerprint)

    deltas = {posting.account.pk: posting.amount.amount for posting in postings}
    for pk in account_ids:
        account = locked[pk]
        if not account.allow_negative and account.balance + deltas[pk] < 0:
            raise InsufficientFunds(
                extra={
                    "account_id": pk,
                    "currency": account.currency,
                    "available": account.balance,
                    "requested": -deltas[pk],
                }
            )

    try:
        # A savepoint: a concurrent post of the same reference over other accounts makes this
        # insert fail on the unique index only after that one commits; we then replay or refuse.
        with transaction.atomic():
            entry_tx = LedgerTransaction.objects.create(
                kind=kind,
                reference=reference,
                description=description,
                metadata=metadata,
                fingerprint=fingerprint,
            )
    except IntegrityError:
        existing = LedgerTransaction.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return _replay(existing=existing, fingerprint=fingerprint)

    after = {pk: locked[pk].balance + deltas[pk] for pk in account_ids}
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transaction=entry_tx,
                account_id=posting.account.pk,
                amount=posting.amount.amount,
                currency=posting.amount.currency,
                balance_after=after[posting.account.pk],
            )
            for posting in postings
        ]
    )

    now = clock.now()
    for pk in account_ids:
        # F() keeps the update relative even if a caller ever bypassed the lock; the CHECK
        # constraint is the backstop for guarded accounts.
        LedgerAccount.objects.filter(pk=pk).update(
            balance=F("balance") + deltas[pk], updated_at=now
        )
    for posting in postings:
        posting.account.balance = after[posting.account.pk]

    outbox_publish(
        topic=TOPIC_TRANSACTION_POSTED,
        payload={"transaction_id": entry_tx.pk, "kind": kind, "reference": reference},
        key=str(entry_tx.pk),
    )
    return entry_tx


def _json_safe(metadata: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise InvalidPostings(extra={"reason": "metadata must be a dict"})
    # Fail here with a clear error instead of deep inside the ORM at insert time.
    try:
        DjangoJSONEncoder().encode(metadata)
    except TypeError as exc:
        raise InvalidPostings(extra={"reason": "metadata is not JSON-serialisable"}) from exc
    return metadata


def ledger_transfer(
    *,
    source: LedgerAccount,
    destination: LedgerAccount,
    amount: Money,
    reference: str,
    kind: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Move a positive ``amount`` from ``source`` to ``destination`` (two postings)."""
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise InvalidPostings(extra={"reason": "a transfer amount must be positive Money"})
    if source.pk is not None and source.pk == destination.pk:
        raise InvalidPostings(extra={"reason": "source and destination are the same account"})
    return ledger_post(
        kind=kind,
        postings=[Posting(source, -amount), Posting(destination, amount)],
        reference=reference,
        description=description,
        metadata=metadata,
    )


# --- one-statement transfer (PostgreSQL) ------------------------------------------------------

# ledger_post's writes for a two-account transfer, as one chain of CTEs (yaji.core.sqlparts,
# ADR 0044), for a hot transaction that must not spend ten round trips inside its row lock.
# The same rows and the same invariants as the ORM path, which stays the reference (tested
# against it, yaji/ledger/tests/test_transfer_part.py):
# - acc: both accounts locked FOR UPDATE in primary-key order (MATERIALIZED: evaluated once,
#   before anything reads it; READ COMMITTED returns each row's latest version after a wait);
# - ok: a row only if both accounts exist in the currency and no guarded account goes below 0;
# - tx: the transaction, only if ok; ON CONFLICT (reference) DO NOTHING, so a reference that
#   is taken (even by a transaction committed after this statement's snapshot) writes nothing;
# - en / bal / ev: the entries with their running balances from the locked rows, the balance
#   updates (relative: EvalPlanQual applies them to the latest row version) and the
#   ledger.transaction_posted event — all only if tx inserted its row.
# The CHECK on balances stays the backstop. The chain's result is the new transaction's id, or
# NULL when nothing was written: then call ledger_transfer, which raises or replays exactly.
_TRANSFER_CTES = (
    (
        "acc",
        "MATERIALIZED (SELECT id, balance, allow_negative, currency FROM ledger_ledgeraccount "
        "WHERE id IN (%s, %s) ORDER BY id FOR UPDATE)",
    ),
    (
        "d",
        "(SELECT * FROM (VALUES (1, %s::bigint, %s::bigint), (2, %s::bigint, %s::bigint)) "
        "AS v(ord, id, amount))",
    ),
    (
        "ok",
        "(SELECT 1 AS ok FROM {p}acc a JOIN {p}d d ON d.id = a.id HAVING count(*) = 2 "
        "AND bool_and(a.currency = %s) AND bool_and(a.allow_negative OR a.balance + d.amount >= 0))",
    ),
    (
        "tx",
        "(INSERT INTO ledger_ledgertransaction (kind, reference, description, metadata, "
        "fingerprint, created_at) SELECT %s, %s, %s, %s::jsonb, %s, %s FROM {p}ok "
        "ON CONFLICT (reference) DO NOTHING RETURNING id)",
    ),
    (
        "en",
        "(INSERT INTO ledger_ledgerentry (transaction_id, account_id, amount, currency, "
        "balance_after, created_at) SELECT t.id, a.id, d.amount, a.currency, a.balance + d.amount, "
        "%s FROM {p}tx t CROSS JOIN {p}d d JOIN {p}acc a ON a.id = d.id ORDER BY d.ord "
        "RETURNING id)",
    ),
    (
        "bal",
        "(UPDATE ledger_ledgeraccount a SET balance = a.balance + d.amount, updated_at = %s "
        "FROM {p}d d, {p}tx t WHERE a.id = d.id RETURNING a.id)",
    ),
    (
        "ev",
        "("  # noqa: S608  # a constant column list
        + OUTBOX_INSERT_COLUMNS
        + "SELECT %s, %s, t.id::text, jsonb_build_object('transaction_id', t.id, 'kind', "
        "%s::text, 'reference', %s::text), 'pending', 0, %s, '', %s, %s FROM {p}tx t RETURNING 1)",
    ),
)


def ledger_transfer_part(
    *,
    source: LedgerAccount,
    destination: LedgerAccount,
    amount: Money,
    reference: str,
    kind: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> SqlChain:
    """:func:`ledger_transfer` as a statement part (PostgreSQL), to run inside the caller's
    transaction with :func:`yaji.core.sqlparts.sql_parts_execute`. Its result is the new
    transaction's id, or None if it wrote nothing (insufficient funds, an unknown account or
    currency, a reference already posted): the caller then calls :func:`ledger_transfer` with
    the same arguments, which raises (or replays) exactly as always. Validation is the same."""
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise InvalidPostings(extra={"reason": "a transfer amount must be positive Money"})
    if source.pk is None or destination.pk is None:
        raise InvalidPostings(extra={"reason": "account is not a saved LedgerAccount"})
    if source.pk == destination.pk:
        raise InvalidPostings(extra={"reason": "source and destination are the same account"})
    if not kind or len(kind) > 64:
        raise InvalidPostings(extra={"reason": "kind must be 1–64 characters"})
    if not reference or len(reference) > 200:
        raise InvalidPostings(extra={"reason": "reference must be 1–200 characters"})
    if len(description) > 255:
        raise InvalidPostings(extra={"reason": "description is at most 255 characters"})
    for account in (source, destination):
        if amount.currency != account.currency:
            raise InvalidPostings(
                extra={
                    "reason": "posting currency differs from the account's",
                    "account_id": account.pk,
                }
            )
    metadata = _json_safe(metadata or {})
    value, currency = amount.amount, amount.currency
    fingerprint = _fingerprint_lines(
        kind=kind, lines=[[source.pk, currency, -value], [destination.pk, currency, value]]
    )
    now = clock.now()
    return SqlChain(
        ctes=_TRANSFER_CTES,
        params=(
            source.pk,
            destination.pk,
            source.pk,
            -value,
            destination.pk,
            value,
            currency,
            kind,
            reference,
            description,
            DjangoJSONEncoder().encode(metadata),
            fingerprint,
            now,
            now,
            now,
            new_event_id(),
            TOPIC_TRANSACTION_POSTED,
            kind,
            reference,
            now,
            now,
            now,
        ),
        result="(SELECT id FROM {p}tx)",
    )
