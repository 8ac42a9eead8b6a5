"""``yaji bench ledger``: money moving into and out of wallets over HTTP.

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

Case ``transfer`` (``requests`` = N payments): the API's wallet transfer is paying a checkout
from the wallet through a payment intent, ``POST /api/v1/checkouts/{id}/payments`` with
``wallet_amount_fen`` = the total: wallet → the intent's escrow → the order's escrow, the
checkout and its order paid, in one transaction (ADR 0026). Buyers hold several checkouts each,
so concurrent requests debit the same wallets (the wallet row lock is the contended one; there
is no hot system account). Ceiling: the same writes in SQL on twin checkouts of the same buyers
— the intent row, the two escrow accounts opened, both locked postings, the intent, checkout
and order updates, the order events and the outbox events. Checks: every checkout answered 201
is paid exactly once (one ``checkout:<id>:pay`` posting, its order's escrow holds the total, the
intent's escrow is empty); the wallets lost exactly the paid totals; none went negative.
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


CASES = ("topup", "transfer")


def ledger_cases(*, requests: int, names: list[str]) -> list[CasePlan]:
    plans = []
    for name in names:
        if name == "topup":
            plans.append(_topup_plan(requests))
        elif name == "transfer":
            plans.append(_transfer_plan(requests))
    return plans


# --- case transfer: wallet → escrow payments of checkouts over the API --------------------------

CHECKOUTS_PER_BUYER = 6  # concurrent requests share wallets: the wallet row lock is contended
PAY_PATH = "/api/v1/checkouts/{}/payments"

INTENT_INSERT = (
    "INSERT INTO payments_paymentintent (id, payer_id, amount_fen, wallet_amount_fen, "
    "refunded_fen, currency, purpose, status, provider, provider_reference, pay_url, "
    "qr_payload, flag, subject, created_at, updated_at, expires_at, succeeded_at) VALUES "
    "(%s, %s, %s, %s, 0, 'CNY', 'checkout', 'requires_payment', 'sandbox', '', '', '', '', %s, "
    "now(), now(), %s, NULL)"
)
ACCOUNT_INSERT = (
    "INSERT INTO ledger_ledgeraccount (kind, owner_id, owner_ref, currency, allow_negative, "
    "balance, created_at, updated_at) VALUES ('escrow', NULL, %s, 'CNY', false, 0, now(), now()) "
    "RETURNING id"
)
INTENT_SUCCEEDED = (
    "UPDATE payments_paymentintent SET status = 'succeeded', succeeded_at = now(), "
    "updated_at = now() WHERE id = %s AND status = 'requires_payment'"
)
CHECKOUT_LOCK = "SELECT status, total_fen FROM trade_checkout WHERE id = %s FOR UPDATE"
CHECKOUT_PAID = (
    "UPDATE trade_checkout SET status = 'paid', paid_at = now(), updated_at = now() WHERE id = %s"
)
ORDER_PAID = (
    "UPDATE trade_order SET status = 'processing', paid_at = now(), updated_at = now() "
    "WHERE id = %s"
)
ORDER_EVENTS = (
    "INSERT INTO trade_orderevent (order_id, status, actor_id, note, created_at) VALUES "
    "(%s, 'paid', %s, '', now()), (%s, 'processing', NULL, '', now())"
)


@dataclass(frozen=True, slots=True)
class PendingCheckout:
    checkout_id: str
    order_id: int
    total_fen: int
    buyer: BenchUser
    pay_by: object


def _shop_product(*, tag: str, stock: int) -> int:
    """A shop (applied for and approved) with one listed product; returns its variant id."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yaji.accounts.models import Role, RoleAssignment, User
    from yaji.bench.scenarios.flashsale import PDF, _png
    from yaji.bench.seeding import _verify
    from yaji.catalog import services as catalog

    owner = User.objects.create_user(f"ledger-owner-{tag}@bench.yaji.invalid", None)
    _verify(owner)
    reviewer = User.objects.create_user(f"ledger-reviewer-{tag}@bench.yaji.invalid", None)
    RoleAssignment.objects.create(user=reviewer, role=Role.REVIEWER)
    application = catalog.shop_application_submit(
        applicant=owner,
        name_zh="压测转账店",
        slug=f"ledger-{tag}"[:40].lower().replace("_", "-"),
        shop_type="studio",
        story_zh="压测用店铺。",
        documents=[SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf")],
    )
    shop = catalog.shop_application_approve(reviewer=reviewer, application_id=application.pk)
    product = catalog.product_create(actor=owner, shop=shop, title_zh="压测青瓷杯")
    variant = catalog.variant_upsert(
        actor=owner, product_id=product.pk, sku="LEDGER-1", price_fen=16800, stock=stock
    )
    catalog.product_image_add(
        actor=owner,
        product_id=product.pk,
        upload=SimpleUploadedFile("cup.png", _png(), content_type="image/png"),
    )
    catalog.product_submit(actor=owner, product_id=product.pk)
    catalog.product_review_approve(reviewer=reviewer, product_id=product.pk)
    return variant.pk


def _checkouts(
    *, buyers: list[BenchUser], count: int, variant_id: int, advance: Advance
) -> list[PendingCheckout]:
    from yaji.accounts.models import User
    from yaji.trade import services as trade

    addresses: dict[int, int] = {}
    found = []
    for i in range(count):
        buyer = buyers[i % len(buyers)]
        user = User.objects.get(pk=buyer.id)
        if buyer.id not in addresses:
            addresses[buyer.id] = trade.address_create(
                user=user,
                recipient="压测买家",
                phone="13800138000",
                province="浙江省",
                city="杭州市",
                line="压测路 1 号",
            ).pk
        trade.cart_line_add(cart=trade.cart_get(user=user), variant_id=variant_id)
        checkout = trade.checkout_place(buyer=user, address_id=addresses[buyer.id])
        order = checkout.orders.get()
        found.append(
            PendingCheckout(str(checkout.pk), order.pk, checkout.total_fen, buyer, checkout.pay_by)
        )
        advance(1)
    return found


def pay_transaction(conn: psycopg.Connection, *, item: PendingCheckout) -> bool:
    """``checkout_payment_start`` (wallet only) in SQL: True if the checkout was paid."""
    import uuid

    intent_id = str(uuid.uuid4())
    with conn.cursor() as cur:
        cur.execute(
            INTENT_INSERT,
            [
                intent_id,
                item.buyer.id,
                item.total_fen,
                item.total_fen,
                f"trade.checkout:{item.checkout_id}",
                item.pay_by,
            ],
        )
        cur.execute(ACCOUNT_INSERT, [f"payment:{intent_id}"])
        row = cur.fetchone()
        assert row is not None
        intent_escrow = row[0]
        try:
            ledger_post_raw(
                cur,
                kind="checkout_wallet_payment",
                reference=f"payment:{intent_id}:wallet",
                postings={item.buyer.wallet_id: -item.total_fen, intent_escrow: item.total_fen},
                description="余额支付",
                metadata={"intent_id": intent_id},
            )
            cur.execute(INTENT_SUCCEEDED, [intent_id])
            cur.execute(CHECKOUT_LOCK, [item.checkout_id])
            checkout = cur.fetchone()
            if checkout is None or checkout[0] != "pending":
                raise Refused("checkout not payable")
            cur.execute(ACCOUNT_INSERT, [f"order:{item.order_id}"])
            row = cur.fetchone()
            assert row is not None
            ledger_post_raw(
                cur,
                kind="trade.pay",
                reference=f"checkout:{item.checkout_id}:pay",
                postings={intent_escrow: -item.total_fen, row[0]: item.total_fen},
                description="订单付款",
                metadata={"checkout_id": item.checkout_id, "intent_id": intent_id},
            )
        except Refused:
            conn.rollback()
            return False
        cur.execute(CHECKOUT_PAID, [item.checkout_id])
        cur.execute(ORDER_PAID, [item.order_id])
        cur.execute(ORDER_EVENTS, [item.order_id, item.buyer.id, item.order_id])
        outbox_insert(
            cur,
            topic="trade.order_paid",
            payload={"order_id": item.order_id, "total_fen": item.total_fen},
            key=str(item.order_id),
        )
        outbox_insert(
            cur,
            topic=TOPIC_INTENT_SUCCEEDED,
            payload={"intent_id": intent_id, "purpose": "checkout", "amount_fen": item.total_fen},
            key=intent_id,
        )
    conn.commit()
    return True


def _transfer_checks(
    *, http: DriveResult, measured: list[PendingCheckout], twins: list[PendingCheckout], before: int
) -> list[str]:
    from yaji.trade.models import Checkout, CheckoutStatus

    found: list[str] = []
    answered = {
        item.checkout_id
        for item, outcome in zip(measured, http.outcomes, strict=True)
        if outcome is not None and outcome.status == 201
    }
    every = measured + twins
    paid = {
        str(pk)
        for pk in Checkout.objects.filter(
            pk__in=[c.checkout_id for c in every], status=CheckoutStatus.PAID
        ).values_list("pk", flat=True)
    }
    measured_paid = paid & {c.checkout_id for c in measured}
    if measured_paid != answered:
        found.append(f"{len(measured_paid)} measured checkouts paid, {len(answered)} answered 201")
    postings = LedgerTransaction.objects.filter(
        reference__in=[f"checkout:{c.checkout_id}:pay" for c in every]
    ).count()
    if postings != len(paid):
        found.append(f"{postings} checkout payments posted for {len(paid)} paid checkouts")
    escrows = dict(
        LedgerAccount.objects.filter(
            kind=AccountKind.ESCROW, owner_ref__in=[f"order:{c.order_id}" for c in every]
        ).values_list("owner_ref", "balance")
    )
    for item in every:
        want = item.total_fen if item.checkout_id in paid else 0
        if escrows.get(f"order:{item.order_id}", 0) != want:
            found.append(f"order {item.order_id}: escrow {escrows.get(f'order:{item.order_id}')}")
            break
    leftover = (
        LedgerAccount.objects.filter(kind=AccountKind.ESCROW, owner_ref__startswith="payment:")
        .exclude(balance=0)
        .count()
    )
    if leftover:
        found.append(f"{leftover} payment intents' escrows not emptied")
    buyers = list({c.buyer.id: c.buyer for c in every}.values())
    spent = before - _wallet_total(buyers)
    due = sum(c.total_fen for c in every if c.checkout_id in paid)
    if spent != due:
        found.append(f"wallets lost {spent} fen, paid checkouts total {due}")
    if LedgerAccount.objects.filter(pk__in=[b.wallet_id for b in buyers], balance__lt=0).exists():
        found.append("a wallet went negative")
    return found


def _transfer_plan(requests: int) -> CasePlan:
    buyers_needed = max(1, -(-requests // CHECKOUTS_PER_BUYER))

    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        from yaji.bench.seeding import wallet_fund

        buyers = users[:buyers_needed]
        variant_id = _shop_product(tag=tag, stock=2 * requests + 10)
        measured = _checkouts(buyers=buyers, count=requests, variant_id=variant_id, advance=advance)
        twins = _checkouts(buyers=buyers, count=requests, variant_id=variant_id, advance=advance)
        owed: dict[int, int] = {}
        for item in measured + twins:
            owed[item.buyer.id] = owed.get(item.buyer.id, 0) + item.total_fen
        for buyer_id, fen in owed.items():
            wallet_fund(user_id=buyer_id, amount_fen=fen)
        before = _wallet_total(buyers)
        calls = [
            HttpCall(
                method="POST",
                path=PAY_PATH.format(item.checkout_id),
                body=json.dumps({"wallet_amount_fen": item.total_fen}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"bench-{item.checkout_id}",
                    **item.buyer.headers,
                },
            )
            for item in measured
        ]

        def ceiling(conn: psycopg.Connection, i: int) -> bool:
            return pay_transaction(conn, item=twins[i])

        def check(http: DriveResult, _ceiling: DriveResult) -> list[str]:
            return _transfer_checks(http=http, measured=measured, twins=twins, before=before)

        return PreparedCase(
            calls=calls,
            expected=frozenset({201}),
            ceiling_count=requests,
            ceiling_transaction=ceiling,
            check=check,
            extra={"buyers": len(buyers), "checkouts_per_buyer": CHECKOUTS_PER_BUYER},
        )

    return CasePlan(
        name="transfer", users_needed=buyers_needed, seed_steps=2 * requests, prepare=prepare
    )
