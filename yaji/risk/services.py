"""Risk control services: evaluate a money movement before it happens, record it after.

How another app uses it (red packets and gifts do exactly this)::

    from yaji.risk.services import risk_check, risk_activity_record

    risk_check(user=user, action="gift.send", amount_fen=amount, device=fp, ip=ip)  # raises
    with transaction.atomic(durable=True):
        ...move the money...
        risk_activity_record(user=user, action="gift.send", amount_fen=amount, ...)

``risk_check`` runs **outside** the caller's money transaction (its decision row must survive a
refusal) and raises ``risk_denied``, ``step_up_required`` or ``account_frozen`` (all 403).
``risk_activity_record`` runs **inside** it, so daily counts and averages only ever see money
that really moved. A hot mover (the red-packet grab, ADR 0029) uses ``risk_evaluate`` instead:
refusals are logged and raised the same way, an allow comes back unsaved and is written by
``risk_decision_record`` inside the money transaction — one commit per movement.

Step-up: a ``step_up`` outcome is satisfied by a face verification
(:func:`risk_step_up_face`, through the accounts identity provider) in the last
``STEP_UP_VALID`` minutes; the client retries with a new Idempotency-Key and goes through.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from yaji.accounts.kyc import FaceResult
from yaji.accounts.models import User
from yaji.accounts.selectors import kyc_verified_record
from yaji.accounts.services import audit_entry_record, face_verify
from yaji.core import clock
from yaji.core.sqlparts import SqlPart
from yaji.risk.errors import (
    AccountFrozen,
    ReviewAlreadyDecided,
    ReviewNotFound,
    RiskDenied,
    StepUpRequired,
)
from yaji.risk.models import (
    BlacklistEntry,
    Outcome,
    ReviewStatus,
    RiskActivity,
    RiskDecision,
    RiskReview,
    RiskRule,
    RuleCode,
)
from yaji.risk.rules import Context, Hit, Read, reads_store, rules_evaluate, rules_reads

STEP_UP_VALID = timedelta(minutes=10)
RULES_CACHE_S = 5.0

_rules_cache: tuple[float, list[RiskRule]] | None = None


def risk_rules_reload() -> None:
    """Forget the in-process copy of the rules (the admin calls this on save)."""
    global _rules_cache
    _rules_cache = None


def _rules() -> list[RiskRule]:
    global _rules_cache
    now = time.monotonic()
    if _rules_cache is None or now - _rules_cache[0] > RULES_CACHE_S:
        _rules_cache = (now, list(RiskRule.objects.all()))
    return _rules_cache[1]


def risk_device_fingerprint(device_id: str) -> str:
    """A stable, non-reversible fingerprint of a client's device id (X-Device-Id)."""
    device_id = (device_id or "").strip()[:200]
    return hashlib.sha256(f"yaji-device:{device_id}".encode()).hexdigest()[:32] if device_id else ""


def _step_up_fresh(user: User, now) -> bool:  # type: ignore[no-untyped-def]
    record = kyc_verified_record(user=user)
    return bool(
        record and record.face_verified_at and record.face_verified_at > now - STEP_UP_VALID
    )


def _reasons(hits: list[Hit]) -> list[dict]:
    return [{"rule": h.rule, "outcome": h.outcome, "detail": h.detail} for h in hits]


def risk_check(
    *,
    user: User,
    action: str,
    amount_fen: int = 0,
    device: str = "",
    ip: str | None = None,
) -> RiskDecision:
    """Evaluate the rules for ``action`` by ``user``; log the decision; raise unless allowed.

    ``device`` is a fingerprint (:func:`risk_device_fingerprint`), ``ip`` the client address.
    Freeze outcomes open a review for operators (the account stays frozen until released).
    """
    decision = risk_evaluate(user=user, action=action, amount_fen=amount_fen, device=device, ip=ip)
    decision.save()
    return decision


@dataclass(frozen=True, slots=True)
class RiskReads:
    """What :func:`risk_evaluate` will read for a movement, prepared beforehand so a mover can
    run it inside a read of its own (one round trip fewer on a hot path, ADR 0053): append
    ``sql`` (scalar expressions, comma-separated, portable SQL) to its ``SELECT`` list with
    ``params`` at that place, hand the values to :meth:`store`, and pass this to
    ``risk_evaluate(reads=...)``. Never stored: evaluate with the same rules, clock and
    context the reads were made for. Empty ``sql``: nothing to read."""

    ctx: Context
    rules: list[RiskRule]
    reads: list[Read]

    @property
    def sql(self) -> str:
        return ", ".join(read.sql for read in self.reads)

    @property
    def params(self) -> list[Any]:
        return [param for read in self.reads for param in read.params]

    def store(self, values: Sequence[Any]) -> None:
        reads_store(self.ctx, self.reads, values)


def risk_reads(
    *, user: User, action: str, amount_fen: int = 0, device: str = "", ip: str | None = None
) -> RiskReads:
    """The reads of the rules that apply to this movement (see :class:`RiskReads`)."""
    ctx = Context(
        user=user,
        action=action,
        amount_fen=int(amount_fen),
        device=device,
        ip=ip,
        now=clock.now(),
    )
    rules = _rules()
    return RiskReads(ctx=ctx, rules=rules, reads=rules_reads(rules, ctx))


def risk_evaluate(
    *,
    user: User,
    action: str,
    amount_fen: int = 0,
    device: str = "",
    ip: str | None = None,
    reads: RiskReads | None = None,
) -> RiskDecision:
    """:func:`risk_check` for movers that log an *allow* inside their own transaction.

    A refusal is logged here, in its own transaction, and raised, exactly as ``risk_check``
    does. An allow comes back **unsaved**: the mover saves it with
    :func:`risk_decision_record` inside its money transaction (one commit per movement instead
    of two), and also when its movement fails afterwards — every decision is logged once.
    ``reads``: from :func:`risk_reads` for the same movement, its values stored (the rules'
    reads then cost no statement here).
    """
    if reads is None:
        reads = risk_reads(user=user, action=action, amount_fen=amount_fen, device=device, ip=ip)
    ctx = reads.ctx
    now = ctx.now
    outcome, hits = rules_evaluate(reads.rules, ctx, reads=reads.reads)
    reasons = _reasons(hits)
    if outcome == Outcome.STEP_UP and _step_up_fresh(user, now):
        reasons.append({"rule": "step_up", "outcome": "satisfied", "detail": {}})
        outcome = Outcome.ALLOW
    decision = RiskDecision(
        user=user,
        action=action[:40],
        amount_fen=ctx.amount_fen,
        outcome=outcome,
        reasons=reasons,
        device=device[:64],
        ip=ip or None,
    )
    frozen = any(h.rule == RuleCode.FROZEN for h in hits)
    if outcome == Outcome.ALLOW and not frozen:
        return decision
    with transaction.atomic():
        decision.save()
        if outcome == Outcome.FREEZE:
            rule = next(h.rule for h in hits if h.outcome == Outcome.FREEZE)
            try:
                with transaction.atomic():
                    RiskReview.objects.create(user=user, decision=decision, rule=rule)
            except IntegrityError:
                pass  # a review is already open for this account
    extra = {"decision_id": decision.pk, "reasons": reasons}
    if outcome == Outcome.FREEZE or frozen:
        raise AccountFrozen(extra=extra)
    if outcome == Outcome.DENY:
        raise RiskDenied(extra=extra)
    raise StepUpRequired(extra={**extra, "verify": "/api/v1/risk/step-up/face"})


def risk_decision_record(*, decision: RiskDecision) -> RiskDecision:
    """Log an allow from :func:`risk_evaluate`: inside the mover's transaction, and again after
    it if that transaction rolled back (the row went with it). Always inserts a new row."""
    decision.pk = None
    decision.save(force_insert=True)
    return decision


def risk_activity_record(
    *,
    user: User,
    action: str,
    amount_fen: int,
    device: str = "",
    ip: str | None = None,
    reference: str = "",
) -> RiskActivity:
    """Record a money movement that happened; call it inside the mover's transaction."""
    return RiskActivity.objects.create(
        user=user,
        action=action[:40],
        amount_fen=amount_fen,
        device=device[:64],
        ip=ip or None,
        reference=reference[:100],
        created_at=clock.now(),
    )


# The two rows above as statement parts (PostgreSQL), for a mover that writes them in the same
# round trip as its other writes (yaji.core.sqlparts, ADR 0044): the same columns and values.
_DECISION_INSERT = (
    "INSERT INTO risk_riskdecision (user_id, action, amount_fen, outcome, reasons, device, ip, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s::inet, %s, %s) RETURNING id"
)
_ACTIVITY_INSERT = (
    "INSERT INTO risk_riskactivity (user_id, action, amount_fen, device, ip, reference, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s::inet, %s, %s, %s)"
)


def risk_decision_part(*, decision: RiskDecision) -> SqlPart:
    """:func:`risk_decision_record` as a statement part (PostgreSQL); its result is the new
    row's id (set it on the decision with :func:`risk_decision_recorded`)."""
    now = timezone.now()  # the model's auto_now(_add)
    return SqlPart(
        _DECISION_INSERT,
        (
            decision.user_id,
            decision.action[:40],
            decision.amount_fen,
            decision.outcome,
            json.dumps(decision.reasons, cls=DjangoJSONEncoder),
            decision.device[:64],
            decision.ip or None,
            now,
            now,
        ),
        returns=True,
    )


def risk_decision_recorded(*, decision: RiskDecision, pk: int) -> None:
    decision.pk = pk
    decision._state.adding = False


def risk_activity_part(
    *,
    user_id: int,
    action: str,
    amount_fen: int,
    device: str = "",
    ip: str | None = None,
    reference: str = "",
) -> SqlPart:
    """:func:`risk_activity_record` as a statement part (PostgreSQL)."""
    return SqlPart(
        _ACTIVITY_INSERT,
        (
            user_id,
            action[:40],
            amount_fen,
            device[:64],
            ip or None,
            reference[:100],
            clock.now(),
            timezone.now(),  # the model's auto_now
        ),
    )


def risk_activity_withdraw(*, user: User, action: str, reference: str) -> int:
    """Forget a recorded movement whose money never moved after all (a red packet that was
    never paid): it must not count towards the day's limits or averages. Call it inside the
    transaction that records why (the cancellation); returns how many rows went."""
    deleted, _per_model = RiskActivity.objects.filter(
        user=user, action=action[:40], reference=reference[:100]
    ).delete()
    return deleted


def risk_step_up_face(*, user: User, liveness_token: str, ip: str | None = None) -> FaceResult:
    """The step-up: a face check against the user's verified identity (accounts provider)."""
    return face_verify(user=user, liveness_token=liveness_token, ip=ip)


@transaction.atomic(durable=True)
def risk_review_decide(
    *, review_id: int, actor: User, status: str, note: str = "", ip: str | None = None
) -> RiskReview:
    """An operator releases, upholds (frozen) or reports an open review."""
    if status not in (ReviewStatus.RELEASED, ReviewStatus.FROZEN, ReviewStatus.REPORTED):
        raise ValueError(f"not a review decision: {status!r}")
    review = RiskReview.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise ReviewNotFound()
    if review.status != ReviewStatus.OPEN:
        raise ReviewAlreadyDecided(extra={"status": review.status})
    review.status = status
    review.note = note[:500]
    review.reviewed_by = actor
    review.reviewed_at = clock.now()
    review.save(update_fields=["status", "note", "reviewed_by", "reviewed_at", "updated_at"])
    audit_entry_record(
        action="risk_review",
        actor=actor,
        target_user=review.user,
        ip=ip,
        target_type="risk_review",
        target_id=str(review.pk),
        metadata={"status": status},
    )
    return review


def risk_blacklist_add(*, kind: str, value: str, reason: str = "") -> BlacklistEntry:
    entry, _created = BlacklistEntry.objects.update_or_create(
        kind=kind, value=value[:64], defaults={"reason": reason[:200], "active": True}
    )
    return entry
