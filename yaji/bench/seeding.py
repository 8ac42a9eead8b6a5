"""Benchmark data, made through the app's own services (bounded counts).

- users: ``User.objects.create_user`` without a password (no argon2 per user), a device, an API
  token pair from ``api_token_issue`` and the wallet account from ``wallet_account_for_user``
  (opened up front, so the raw-SQL ceiling can lock it like the service does). A login through
  the API would cost one password hash per user and measure nothing we want here; the device
  row is the one ``user_authenticate`` would have recorded.
- money: wallets are funded by real top-ups — ``wallet_topup_create``, the payer pressing Pay
  on the sandbox page (``sandbox_payer_decide``), and the queued, signed provider notification
  applied by ``payment_notification_receive`` — so every fen has a provider behind it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from yaji.accounts.errors import IdAlreadyVerified
from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import Device, User
from yaji.accounts.services import api_token_issue, kyc_submit
from yaji.core import clock
from yaji.core.models import OutboxEvent
from yaji.ledger.services import wallet_account_for_user
from yaji.payments.models import PaymentIntent
from yaji.payments.providers.sandbox import (
    PROVIDER_NAME,
    TOPIC_SANDBOX_NOTIFY,
    sandbox_payer_decide,
    sandbox_sign,
)
from yaji.payments.services import payment_notification_receive, wallet_topup_create

USER_BATCH = 250
BENCH_EMAIL_DOMAIN = "bench.yaji.invalid"  # RFC 2606: can never be a real mailbox


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: int
    token: str
    wallet_id: int

    @property
    def address(self) -> str:
        """This user's own client address (10.0.0.0/8, from the id): real grabbers come from
        many addresses, not one."""
        return f"10.{(self.id >> 16) & 255}.{(self.id >> 8) & 255}.{self.id & 255}"

    @property
    def headers(self) -> dict[str, str]:
        """What this user's requests carry: the bearer token, and the address the bench's
        trusted proxy (127.0.0.1, ``YAJI_TRUSTED_PROXIES`` in the server's environment) saw
        them come from (ADR 0062) — as behind nginx in production, so risk control sees one
        address per user instead of one farm on 127.0.0.1."""
        return {"Authorization": f"Bearer {self.token}", "X-Forwarded-For": self.address}


def users_seed(
    *, count: int, tag: str, advance: Callable[[int], None], verified: bool = False
) -> list[BenchUser]:
    """``count`` users with an API token and a wallet; ``verified``: real-name verified too
    (senders: risk control gives unverified accounts 200/500 yuan limits)."""
    users: list[BenchUser] = []
    now = clock.now()
    for start in range(0, count, USER_BATCH):
        with transaction.atomic():
            for i in range(start, min(count, start + USER_BATCH)):
                user = User.objects.create_user(
                    f"bench-{tag}-{i}@{BENCH_EMAIL_DOMAIN}", None, display_name=f"压测{i}"
                )
                device = Device.objects.create(
                    user=user,
                    fingerprint=hashlib.sha256(f"yaji-bench:{tag}:{i}".encode()).hexdigest(),
                    label="yaji bench",
                    user_agent="yaji-bench",
                    last_seen_at=now,
                )
                pair = api_token_issue(user=user, device=device)
                if verified:
                    _verify(user)
                wallet = wallet_account_for_user(user=user)
                users.append(BenchUser(id=user.pk, token=pair.access_token, wallet_id=wallet.pk))
        advance(min(count, start + USER_BATCH) - start)
    return users


def _verify(user: User) -> None:
    """Real-name verification through the sandbox provider with a fresh adult ID number."""
    rng = random.Random()
    for _attempt in range(20):
        birth = date(1970, 1, 1) + timedelta(days=rng.randrange(12_000))  # adults, 1970–2002
        # Sequences 000, 998 and 999 are the sandbox's scripted failures.
        number = id_number_make(birth=birth, seq=f"{rng.randrange(100, 998):03d}")
        try:
            with transaction.atomic():
                kyc_submit(user=user, real_name="压测用户", id_number=number)
            return
        except IdAlreadyVerified:  # someone (a kept database's earlier run) has this number
            continue
    raise RuntimeError("could not find a free ID number for a bench sender")


def topup_prepare(*, user_id: int, amount_fen: int) -> tuple[PaymentIntent, bytes]:
    """A top-up the payer has paid on the sandbox page: the intent and the provider's queued
    notification body (delivered later, signed at send time, by whoever plays the provider)."""
    intent = wallet_topup_create(user=User.objects.get(pk=user_id), amount_fen=amount_fen)
    sandbox_payer_decide(reference=intent.provider_reference, paid=True)
    event = (
        OutboxEvent.objects.filter(topic=TOPIC_SANDBOX_NOTIFY, key=intent.provider_reference)
        .order_by("created_at")
        .first()
    )
    if event is None:  # pragma: no cover - the sandbox always queues one
        raise RuntimeError(f"no sandbox notification queued for {intent.provider_reference}")
    return intent, str(event.payload["body"]).encode()


def wallet_fund(*, user_id: int, amount_fen: int) -> None:
    """Top up a wallet end to end, in this process (seeding, not measured)."""
    _intent, body = topup_prepare(user_id=user_id, amount_fen=amount_fen)
    result = payment_notification_receive(
        provider=PROVIDER_NAME, headers=sandbox_sign(body), body=body
    )
    if result.outcome != "succeeded":
        raise RuntimeError(f"seeding top-up did not succeed: {result.outcome}")


def risk_load_generator_allow() -> int:
    """Bench clients connect from 127.0.0.1. Over HTTP each user's requests carry an address
    of their own through the trusted proxy (``BenchUser.headers``, ADR 0062), but a scenario
    that calls the site another way would still look like a farm to risk control's
    ``device_cluster`` rule (≥ 5 accounts on one IP in an hour → freeze). Like an operator
    exempting a load generator, raise that threshold in the bench database. The rule stays
    enabled, so its queries still run on every claim and are part of what is measured."""
    from yaji.risk.models import RiskRule, RuleCode
    from yaji.risk.services import risk_rules_reload

    changed = RiskRule.objects.filter(code=RuleCode.DEVICE_CLUSTER).update(
        limit_count=LOAD_GENERATOR_CLUSTER_LIMIT
    )
    risk_rules_reload()
    return changed


LOAD_GENERATOR_CLUSTER_LIMIT = 1_000_000_000
