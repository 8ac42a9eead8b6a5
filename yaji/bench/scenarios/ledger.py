"""``yaji bench ledger``: money moving into wallets over HTTP.

The HTTP endpoint that moves wallet money on its own is the payment provider's notification,
``POST /api/v1/payments/notify/sandbox``: a signed (HMAC-SHA256, timestamped) body that settles
a wallet top-up exactly once — notification row under ``UNIQUE(provider, event_id)``, the intent
locked and moved to ``succeeded`` by a conditional update, and a ledger posting provider
clearing → the payer's wallet. Every request posts against the one provider-clearing account,
so this is also the hot-account case of the ledger: postings from many wallets serialise on
one row lock, as in any platform that mirrors a payment provider in its books.

Case ``topup`` (``requests`` = N notifications): N users' top-ups are created and paid on the
sandbox pay page while seeding (services, not measured); the bench then plays the provider and
delivers the queued notifications, signed at send time, with ``concurrency`` clients.

Ceiling: the same settlement as raw SQL — notification insert, intent row lock and conditional
update, the locked posting (accounts in id order, transaction, two entries, two balance
updates), the outbox events, the notification marked processed — for twin top-ups.

Checks, on top of reconciliation: each intent settled at most once and exactly when its
notification was answered ``succeeded``; one ledger transaction per settled intent; the wallets
gained, and provider clearing lost, exactly the settled amounts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg
from django.db.models import Sum
from psycopg.types.json import Jsonb

from yaji.bench.cases import Advance, CasePlan, PreparedCase
from yaji.bench.drive import DriveResult, HttpCall
from yaji.bench.rawsql import Refused, ledger_post_raw, outbox_insert
from yaji.bench.seeding import BenchUser, topup_prepare
from yaji.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from yaji.ledger.services import system_account
from yaji.payments.models import IntentStatus, PaymentIntent
from yaji.payments.providers.sandbox import PROVIDER_NAME, sandbox_sign
from yaji.payments.services import (
    LEDGER_KIND_TOPUP,
    TOPIC_INTENT_SUCCEEDED,
    ledger_reference_for,
)

CURRENCY = "CNY"
TOPUP_USERS = 500  # wallets receiving the top-ups (the notification itself is unauthenticated)
NOTIFY_PATH = f"/api/v1/payments/notify/{PROVIDER_NAME}"

NOTIFICATION_INSERT = (
    "INSERT INTO payments_providernotification "
    "(provider, event_id, headers, body, signature_valid, processed, outcome, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, true, false, '', now(), now()) RETURNING id"
)
INTENT_LOCK = (
    "SELECT id, status, amount_fen, currency, payer_id FROM payments_paymentintent "
    "WHERE provider = %s AND provider_reference = %s FOR UPDATE"
)
INTENT_SUCCEED = (
    "UPDATE payments_paymentintent SET status = 'succeeded', succeeded_at = now(), "
    "updated_at = now() WHERE id = %s AND status IN ('requires_payment', 'processing')"
)
NOTIFICATION_DONE = (
    "UPDATE payments_providernotification SET intent_id = %s, processed = true, "
    "outcome = 'succeeded', updated_at = now() WHERE id = %s"
)


@dataclass(frozen=True, slots=True)
class Topup:
    intent_id: str
    reference: str  # the provider's
    amount_fen: int
    wallet_id: int
    body: bytes

    @property
    def event_id(self) -> str:
        return str(json.loads(self.body)["id"])


def amount_for(i: int) -> int:
    return 100 + (i * 7919) % 9_900  # 1–100 yuan, varied, deterministic


def settle_transaction(conn: psycopg.Connection, *, topup: Topup, clearing_id: int) -> bool:
    """``payment_notification_receive``'s settlement in SQL: True if the money moved."""
    headers = {"Content-Type": "application/json", **sandbox_sign(topup.body)}
    with conn.cursor() as cur:
        cur.execute(
            NOTIFICATION_INSERT,
            [PROVIDER_NAME, topup.event_id, Jsonb(headers), topup.body.decode()],
        )
        row = cur.fetchone()
        assert row is not None
        notification_id = row[0]
        cur.execute(INTENT_LOCK, [PROVIDER_NAME, topup.reference])
        intent = cur.fetchone()
        if intent is None or (intent[2], intent[3]) != (topup.amount_fen, CURRENCY):
            conn.rollback()
            return False
        cur.execute(INTENT_SUCCEED, [intent[0]])
        if cur.rowcount != 1:
            conn.rollback()
            return False
        try:
            ledger_post_raw(
                cur,
                kind=LEDGER_KIND_TOPUP,
                reference=f"payment:{topup.intent_id}",
                postings={clearing_id: -topup.amount_fen, topup.wallet_id: topup.amount_fen},
                currency=CURRENCY,
                description="钱包充值",
                metadata={"intent_id": topup.intent_id, "provider": PROVIDER_NAME},
            )
        except Refused:
            conn.rollback()
            return False
        outbox_insert(
            cur,
            topic=TOPIC_INTENT_SUCCEEDED,
            payload={
                "intent_id": topup.intent_id,
                "payer_id": intent[4],
                "purpose": "wallet_topup",
                "amount_fen": topup.amount_fen,
                "currency": CURRENCY,
            },
            key=topup.intent_id,
        )
        cur.execute(NOTIFICATION_DONE, [intent[0], notification_id])
    conn.commit()
    return True


def _topups(*, users: list[BenchUser], count: int, offset: int, advance: Advance) -> list[Topup]:
    topups = []
    for i in range(count):
        user = users[(offset + i) % len(users)]
        intent, body = topup_prepare(user_id=user.id, amount_fen=amount_for(offset + i))
        topups.append(
            Topup(
                intent_id=str(intent.id),
                reference=intent.provider_reference,
                amount_fen=intent.amount_fen,
                wallet_id=user.wallet_id,
                body=body,
            )
        )
        advance(1)
    return topups


def _wallet_total(users: list[BenchUser]) -> int:
    ids = [u.wallet_id for u in users]
    return LedgerAccount.objects.filter(pk__in=ids).aggregate(s=Sum("balance"))["s"] or 0


def _checks(
    *,
    http: DriveResult,
    measured: list[Topup],
    twins: list[Topup],
    users: list[BenchUser],
    clearing_id: int,
    before: tuple[int, int],
) -> list[str]:
    found: list[str] = []
    answered_ok: set[str] = set()
    for topup, outcome in zip(measured, http.outcomes, strict=True):
        if outcome is None or outcome.status != 200:
            continue
        result = json.loads(outcome.body).get("outcome")
        if result != "succeeded":
            found.append(f"intent {topup.intent_id}: first notification answered {result!r}")
        else:
            answered_ok.add(topup.intent_id)
    every = measured + twins
    succeeded = {
        str(pk)
        for pk in PaymentIntent.objects.filter(
            pk__in=[t.intent_id for t in every], status=IntentStatus.SUCCEEDED
        ).values_list("pk", flat=True)
    }
    measured_ids = {t.intent_id for t in measured}
    if succeeded & measured_ids != answered_ok:
        found.append(
            f"{len(succeeded & measured_ids)} measured intents succeeded, "
            f"{len(answered_ok)} notifications answered succeeded"
        )
    references = [ledger_reference_for(PaymentIntent(id=t.intent_id)) for t in every]
    posted = LedgerTransaction.objects.filter(reference__in=references).count()
    if posted != len(succeeded):
        found.append(f"{posted} top-up postings for {len(succeeded)} settled intents")
    moved = sum(t.amount_fen for t in every if t.intent_id in succeeded)
    wallets_before, clearing_before = before
    gained = _wallet_total(users) - wallets_before
    clearing = LedgerAccount.objects.get(pk=clearing_id).balance
    if gained != moved:
        found.append(f"wallets gained {gained} fen, settled intents total {moved}")
    if clearing_before - clearing != moved:
        found.append(f"provider clearing moved {clearing_before - clearing} fen, expected {moved}")
    return found


def _topup_plan(requests: int) -> CasePlan:
    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        clearing_id = system_account(kind=AccountKind.PROVIDER_CLEARING, currency=CURRENCY).pk
        measured = _topups(users=users, count=requests, offset=0, advance=advance)
        twins = _topups(users=users, count=requests, offset=requests, advance=advance)
        before = (_wallet_total(users), LedgerAccount.objects.get(pk=clearing_id).balance)
        calls = [
            HttpCall(
                method="POST",
                path=NOTIFY_PATH,
                body=t.body,
                headers={"Content-Type": "application/json"},
                sign=sandbox_sign,  # fresh timestamp per delivery, as the provider's sender does
            )
            for t in measured
        ]

        def ceiling(conn: psycopg.Connection, i: int) -> bool:
            return settle_transaction(conn, topup=twins[i], clearing_id=clearing_id)

        def check(http: DriveResult, _ceiling: DriveResult) -> list[str]:
            return _checks(
                http=http,
                measured=measured,
                twins=twins,
                users=users,
                clearing_id=clearing_id,
                before=before,
            )

        return PreparedCase(
            calls=calls,
            expected=frozenset({200}),
            ceiling_count=requests,
            ceiling_transaction=ceiling,
            check=check,
        )

    users = min(requests, TOPUP_USERS)
    return CasePlan(name="topup", users_needed=users, seed_steps=2 * requests, prepare=prepare)


CASES = ("topup",)


def ledger_cases(*, requests: int, names: list[str]) -> list[CasePlan]:
    return [_topup_plan(requests) for name in names if name == "topup"]
