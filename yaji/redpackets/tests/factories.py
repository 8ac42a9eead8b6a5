"""Test data for red packets: funded wallets through the ledger, completed plays."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command

from yaji.accounts.models import User
from yaji.accounts.tests.factories import UserFactory
from yaji.community.models import PlaySession, Work
from yaji.core import clock
from yaji.ledger.reconciliation import reconciliation_checks, reconciliation_run
from yaji.ledger.tests.factories import wallet
from yaji.risk.tests.factories import kyc_verified

__all__ = ["UserFactory", "completed_play", "funded_user", "reconcile_ok"]


def funded_user(balance: int = 100_000, *, verified: bool = False) -> User:
    """A user with ``balance`` fen in the wallet; ``verified``: real-name verified (risk
    control gives unverified accounts low limits: 200 yuan a packet, 500 a day)."""
    user = UserFactory()
    if verified:
        kyc_verified(user)
    wallet(user=user, balance=balance)
    return user


def completed_play(*, user: User, work: Work) -> PlaySession:
    now = clock.now()
    return PlaySession.objects.create(
        user=user,
        work=work,
        token_hash=f"{user.pk}-{work.pk}-{now.timestamp()}",
        issued_at=now,
        expires_at=now + timedelta(hours=1),
        last_heartbeat_at=now,
        max_position_ms=work.duration_ms or 0,
        listened_ms=work.duration_ms or 0,
        completed_at=now,
    )


def reconcile_ok() -> None:
    """The ledger's and red packets' own checks (gate included) pass, also through the command.

    Only these: other apps' checks are theirs to prove."""
    names = [
        c.name for c in reconciliation_checks() if c.name.startswith(("ledger.", "redpackets."))
    ]
    assert "redpackets.gate" in names
    results = reconciliation_run(names=names)
    bad = [(r.name, r.error, r.discrepancies) for r in results if not r.ok]
    assert not bad, bad
    call_command("reconcile", *[f"--check={n}" for n in names])
