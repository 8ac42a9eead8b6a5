"""The ceiling's building blocks: the writes ``ledger_post`` and ``outbox_publish`` make, as plain
SQL through psycopg — same tables, same row locks in the same order, same rows written.

What is left out on purpose is the application: the ORM, validation, ``get_or_create``
look-ups of accounts already known, savepoints, the HTTP request, authentication and the
idempotency record. The rows written here are real ledger rows, so the reconciliation that runs
after every case checks the ceiling's postings too (a wrong ceiling would show as a violation).
"""

from __future__ import annotations

import hashlib
import json

import psycopg
from psycopg.types.json import Jsonb

from yaji.core.ids import new_event_id
from yaji.ledger.services import TOPIC_TRANSACTION_POSTED

LOCK_ACCOUNTS = (
    "SELECT id, balance, allow_negative, currency FROM ledger_ledgeraccount "
    "WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
)
FIND_REFERENCE = "SELECT id FROM ledger_ledgertransaction WHERE reference = %s"
INSERT_TRANSACTION = (
    "INSERT INTO ledger_ledgertransaction "
    "(kind, reference, description, metadata, fingerprint, created_at) "
    "VALUES (%s, %s, %s, %s, %s, now()) RETURNING id"
)
INSERT_ENTRY_ROW = "(%s, %s, %s, now(), %s, %s)"
INSERT_ENTRIES = (
    "INSERT INTO ledger_ledgerentry "
    "(amount, currency, balance_after, created_at, account_id, transaction_id) VALUES "
)
UPDATE_BALANCE = (
    "UPDATE ledger_ledgeraccount SET balance = balance + %s, updated_at = now() WHERE id = %s"
)
INSERT_OUTBOX = (
    "INSERT INTO core_outboxevent "
    "(id, topic, key, payload, status, attempts, available_at, last_error, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, 'pending', 0, now(), '', now(), now())"
)


class Refused(Exception):  # a business refusal, not an error: the tx rolls back
    pass


def outbox_insert(cur: psycopg.Cursor, *, topic: str, payload: dict, key: str) -> None:
    cur.execute(INSERT_OUTBOX, [new_event_id(), topic, key[:200], Jsonb(payload)])


def _fingerprint(kind: str, lines: list[list]) -> str:
    canonical = json.dumps({"kind": kind, "postings": sorted(lines)}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def ledger_post_raw(
    cur: psycopg.Cursor,
    *,
    kind: str,
    reference: str,
    postings: dict[int, int],  # account id -> amount (negative leaves it)
    currency: str = "CNY",
    description: str = "",
    metadata: dict | None = None,
) -> int:
    """What ``ledger_post`` writes: lock the accounts in id order, refuse a replayed reference
    or an overdraft (``Refused``), insert the transaction and its entries with their running
    balances, move the balances, publish ``ledger.transaction_posted``."""
    ids = sorted(postings)
    cur.execute(LOCK_ACCOUNTS, [ids])
    locked = {row[0]: row for row in cur.fetchall()}
    cur.execute(FIND_REFERENCE, [reference])
    if cur.fetchone() is not None:
        raise Refused("reference already posted")
    for account_id in ids:
        _, balance, allow_negative, _currency = locked[account_id]
        if not allow_negative and balance + postings[account_id] < 0:
            raise Refused("insufficient funds")
    cur.execute(
        INSERT_TRANSACTION,
        [
            kind,
            reference,
            description,
            Jsonb(metadata or {}),
            _fingerprint(kind, [[a, currency, postings[a]] for a in ids]),
        ],
    )
    row = cur.fetchone()
    assert row is not None
    transaction_id = row[0]
    values: list = []
    for account_id in ids:
        after = locked[account_id][1] + postings[account_id]
        values += [postings[account_id], currency, after, account_id, transaction_id]
    cur.execute(INSERT_ENTRIES + ", ".join([INSERT_ENTRY_ROW] * len(ids)), values)
    for account_id in ids:
        cur.execute(UPDATE_BALANCE, [postings[account_id], account_id])
    outbox_insert(
        cur,
        topic=TOPIC_TRANSACTION_POSTED,
        payload={"transaction_id": transaction_id, "kind": kind, "reference": reference},
        key=str(transaction_id),
    )
    return int(transaction_id)
