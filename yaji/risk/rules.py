"""The rule engine: each rule looks at one money movement about to happen and may fire.

A rule is a function ``(rule, ctx) -> Hit | None`` reading its thresholds from its
:class:`~yaji.risk.models.RiskRule` row (operators edit them in the admin):

==================  ========================================================================
blacklist           user, device fingerprint or IP on the active blacklist
frozen              the account has an open (or upheld) review
minor_night         minors (verified birth date) between ``start_hour`` and ``end_hour``
                    (local time, YAJI_TIME_ZONE), wrapping midnight: 22 → 6
single_limit        ``amount > limit_fen`` (``minor_limit_fen`` for minors,
                    ``unverified_limit_fen`` without real-name verification)
daily_limit         today's total of the rule's actions + amount > the same three limits
daily_count         today's number of the rule's actions ≥ ``limit_count`` (the 6th send
                    of the day fires with limit 5)
amount_deviation    at least ``limit_count`` earlier movements in the last ``window_minutes``
                    and |amount − their mean| > ``percent`` % of the mean
device_cluster      ≥ ``limit_count`` other accounts did the rule's actions from this device
                    fingerprint or IP in the last ``window_minutes``
fast_in_fast_out    received ≥ ``limit_fen`` in the last ``window_minutes`` (red packets,
                    gifts) and now moving out ≥ ``percent`` % of it
circular_flow       laundering ring: money this account (or an account sharing its device
                    fingerprint or IP in the window) sent out through packets or gifts came
                    back to one of them within ``window_minutes``, through at most
                    ``limit_count`` hops (A→B→C→A is 3), each hop ≥ ``limit_fen``; a ring
                    has three accounts at least (A→B→A between friends is not one, A→B→A'
                    with A' on A's device is)
==================  ========================================================================

A fired rule contributes its ``outcome`` (deny, step_up or freeze); the strictest wins
(freeze > deny > step_up > allow). "Today" is the local calendar day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum

from yaji.accounts.models import User
from yaji.accounts.selectors import kyc_verified_record, user_is_minor
from yaji.risk.models import (
    BlacklistKind,
    Outcome,
    ReviewStatus,
    RiskActivity,
    RiskRule,
    RuleCode,
    actions_split,
)

# Money that arrives in a wallet (fast-in-fast-out looks at these).
INCOMING_ACTIONS = ("redpacket.claim", "gift.receive")
# Money sent to other people; a reference ("redpacket:<id>", "gift:<id>") links a sending
# activity to the receiving ones (circular_flow follows these links).
OUTGOING_ACTIONS = ("redpacket.send", "gift.send")
BLOCKING_REVIEW_STATUSES = (ReviewStatus.OPEN, ReviewStatus.FROZEN, ReviewStatus.REPORTED)
SEVERITY = {Outcome.ALLOW: 0, Outcome.STEP_UP: 1, Outcome.DENY: 2, Outcome.FREEZE: 3}


@dataclass
class Context:
    user: User
    action: str
    amount_fen: int
    device: str
    ip: str | None
    now: datetime
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(ZoneInfo(settings.TIME_ZONE))

    @property
    def day_start(self) -> datetime:
        return self.local_now.replace(hour=0, minute=0, second=0, microsecond=0)

    @property
    def is_minor(self) -> bool:
        return bool(user_is_minor(self.user))

    @property
    def verified(self) -> bool:
        if "verified" not in self._cache:
            self._cache["verified"] = kyc_verified_record(user=self.user) is not None
        return bool(self._cache["verified"])


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    outcome: str
    detail: dict[str, Any]


def _limit_for(rule: RiskRule, ctx: Context) -> tuple[int | None, str]:
    """The amount limit that applies to this user: the lowest of the applicable ones."""
    candidates = [(rule.limit_fen, "limit_fen")]
    if ctx.is_minor:
        candidates.append((rule.minor_limit_fen, "minor_limit_fen"))
    if not ctx.verified:
        candidates.append((rule.unverified_limit_fen, "unverified_limit_fen"))
    present = [(v, name) for v, name in candidates if v is not None]
    if not present:
        return None, ""
    return min(present)


def _hit(rule: RiskRule, **detail: Any) -> Hit:
    return Hit(rule=rule.code, outcome=rule.outcome, detail=detail)


# --- reads, in one statement ----------------------------------------------------------------
#
# Some rules run before every grab, and on the hot path a round trip and a query compile cost
# more than the index look-ups themselves (ADR 0029, ADR 0053). Their inputs are therefore
# scalar subqueries (portable SQL): :func:`rules_reads` collects those of the rules that apply,
# ``SELECT <subquery>, <subquery>, ...`` reads them all at once — or a mover appends them to a
# read of its own (the red-packet grab's packet read) — and the rules find them in
# ``ctx._cache``. A rule whose input is not there (a Context evaluated without its reads) runs
# the same subquery alone, so every path answers the same.

_BLACKLISTED = (
    "EXISTS (SELECT 1 FROM risk_blacklistentry WHERE active = %s AND kind = %s AND value = %s)"
)
# The account's blocking review with the smallest id (the one the rule names).
_REVIEW_ID = (
    "(SELECT id FROM risk_riskreview WHERE user_id = %s AND status IN (%s, %s, %s) "
    "ORDER BY id LIMIT 1)"
)
_REVIEW_STATUS = (
    "(SELECT status FROM risk_riskreview WHERE user_id = %s AND status IN (%s, %s, %s) "
    "ORDER BY id LIMIT 1)"
)
# The distinct other accounts on this device / IP lately, as the ORM's
# .values("user").distinct().count() counted them.
_CLUSTER = (
    "(SELECT count(DISTINCT user_id) FROM risk_riskactivity WHERE action IN ({actions}) "
    "AND created_at >= %s AND user_id <> %s AND {column} = %s)"
)


@dataclass(frozen=True, slots=True)
class Read:
    """One rule input: ``sql`` (a scalar expression) with its ``params``, kept in
    ``ctx._cache[key]`` as ``convert(value)``."""

    key: str
    sql: str
    params: tuple[Any, ...]
    convert: Callable[[Any], Any]


def _standing_keys(ctx: Context) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = [(BlacklistKind.USER.value, str(ctx.user.pk))]
    if ctx.device:
        keys.append((BlacklistKind.DEVICE.value, ctx.device))
    if ctx.ip:
        keys.append((BlacklistKind.IP.value, ctx.ip))
    return keys


def _standing_reads(ctx: Context) -> list[Read]:
    """The account's blacklist kinds and its blocking review (blacklist, frozen)."""
    statuses = tuple(str(status) for status in BLOCKING_REVIEW_STATUSES)
    reads = [
        Read(f"listed:{kind}", _BLACKLISTED, (True, kind, value), bool)
        for kind, value in _standing_keys(ctx)
    ]
    reads.append(Read("review:id", _REVIEW_ID, (ctx.user.pk, *statuses), _int_or_none))
    reads.append(Read("review:status", _REVIEW_STATUS, (ctx.user.pk, *statuses), _str_or_none))
    return reads


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _cluster_reads(rule: RiskRule, ctx: Context) -> list[Read]:
    actions = rule.action_list
    if rule.limit_count is None or not actions:
        return []
    since = ctx.now - timedelta(minutes=rule.window_minutes or 60)
    reads = []
    for kind, value in (("device", ctx.device), ("ip", ctx.ip)):
        if value:
            reads.append(
                Read(
                    f"cluster:{rule.pk}:{kind}",
                    _CLUSTER.format(column=kind, actions=", ".join(["%s"] * len(actions))),
                    (
                        *actions,
                        connection.ops.adapt_datetimefield_value(since),
                        ctx.user.pk,
                        value,
                    ),
                    int,
                )
            )
    return reads


def _read(ctx: Context, reads: list[Read]) -> None:
    """Run the ``reads`` not in ``ctx._cache`` yet as one statement; store their values."""
    missing = [read for read in reads if read.key not in ctx._cache]
    if not missing:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(read.sql for read in missing),
            [param for read in missing for param in read.params],
        )
        row = cursor.fetchone()
    reads_store(ctx, missing, row)


def reads_store(ctx: Context, reads: list[Read], values: Any) -> None:
    """Keep the values of ``reads`` (a row read by the caller, in their order) in ``ctx``."""
    for read, value in zip(reads, values, strict=True):
        ctx._cache[read.key] = read.convert(value)


def _standing(ctx: Context) -> tuple[list[str], dict[str, Any] | None]:
    found = ctx._cache.get("standing")
    if found is None:
        _read(ctx, _standing_reads(ctx))
        kinds = sorted(k for k, _value in _standing_keys(ctx) if ctx._cache[f"listed:{k}"])
        pk = ctx._cache["review:id"]
        review = {"pk": pk, "status": ctx._cache["review:status"]} if pk is not None else None
        found = ctx._cache["standing"] = (kinds, review)
    return found


# Rules whose inputs are reads of the kind above (the others query as they go).
_READS: dict[str, Callable[[RiskRule, Context], list[Read]]] = {
    RuleCode.BLACKLIST: lambda _rule, ctx: _standing_reads(ctx),
    RuleCode.FROZEN: lambda _rule, ctx: _standing_reads(ctx),
    RuleCode.DEVICE_CLUSTER: _cluster_reads,
}


def _applies(rule: RiskRule, ctx: Context) -> bool:
    return rule.enabled and ctx.action in actions_split(rule.actions)


def rules_reads(rules: list[RiskRule], ctx: Context) -> list[Read]:
    """The reads the rules applying to ``ctx`` need, each once, in a stable order."""
    found: dict[str, Read] = {}
    for rule in rules:
        reads = _READS.get(rule.code)
        if reads is not None and _applies(rule, ctx):
            for read in reads(rule, ctx):
                found.setdefault(read.key, read)
    return list(found.values())


def rule_blacklist(rule: RiskRule, ctx: Context) -> Hit | None:
    kinds, _review = _standing(ctx)
    return _hit(rule, kinds=kinds) if kinds else None


def rule_frozen(rule: RiskRule, ctx: Context) -> Hit | None:
    _kinds, review = _standing(ctx)
    return _hit(rule, review_id=review["pk"], status=review["status"]) if review else None


def in_night_window(hour: int, start: int, end: int) -> bool:
    """Whether ``hour`` lies in [start, end), wrapping midnight when start > end."""
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def rule_minor_night(rule: RiskRule, ctx: Context) -> Hit | None:
    start = 22 if rule.start_hour is None else rule.start_hour
    end = 6 if rule.end_hour is None else rule.end_hour
    local = ctx.local_now
    if ctx.is_minor and in_night_window(local.hour, start, end):
        return _hit(rule, local_time=local.strftime("%H:%M"), start_hour=start, end_hour=end)
    return None


def rule_single_limit(rule: RiskRule, ctx: Context) -> Hit | None:
    limit, which = _limit_for(rule, ctx)
    if limit is not None and ctx.amount_fen > limit:
        return _hit(rule, amount_fen=ctx.amount_fen, limit_fen=limit, limit=which)
    return None


def _today(rule: RiskRule, ctx: Context) -> dict[str, int]:
    key = f"today:{rule.actions}"
    if key not in ctx._cache:
        agg = RiskActivity.objects.filter(
            user=ctx.user, action__in=rule.action_list, created_at__gte=ctx.day_start
        ).aggregate(n=Count("id"), total=Sum("amount_fen"))
        ctx._cache[key] = {"n": agg["n"] or 0, "total": agg["total"] or 0}
    return ctx._cache[key]


def rule_daily_limit(rule: RiskRule, ctx: Context) -> Hit | None:
    limit, which = _limit_for(rule, ctx)
    if limit is None:
        return None
    sent = _today(rule, ctx)["total"]
    if sent + ctx.amount_fen > limit:
        return _hit(
            rule, sent_today_fen=sent, amount_fen=ctx.amount_fen, limit_fen=limit, limit=which
        )
    return None


def rule_daily_count(rule: RiskRule, ctx: Context) -> Hit | None:
    if rule.limit_count is None:
        return None
    n = _today(rule, ctx)["n"]
    if n >= rule.limit_count:
        return _hit(rule, count_today=n, limit_count=rule.limit_count)
    return None


def rule_amount_deviation(rule: RiskRule, ctx: Context) -> Hit | None:
    if rule.percent is None:
        return None
    since = ctx.now - timedelta(minutes=rule.window_minutes or 30 * 24 * 60)
    agg = RiskActivity.objects.filter(
        user=ctx.user, action__in=rule.action_list, created_at__gte=since
    ).aggregate(n=Count("id"), total=Sum("amount_fen"))
    n, total = agg["n"] or 0, agg["total"] or 0
    if n < max(rule.limit_count or 1, 1) or total <= 0:
        return None
    # |amount − total/n| > percent% × total/n, in integers: |amount·n − total|·100 > percent·total
    if abs(ctx.amount_fen * n - total) * 100 > rule.percent * total:
        return _hit(rule, amount_fen=ctx.amount_fen, average_fen=total // n, history=n)
    return None


def rule_device_cluster(rule: RiskRule, ctx: Context) -> Hit | None:
    reads = _cluster_reads(rule, ctx)
    _read(ctx, reads)
    for read in reads:
        others = ctx._cache[read.key]
        if others >= rule.limit_count:  # type: ignore[operator]
            kind = read.key.rsplit(":", 1)[1]
            return _hit(rule, by=kind, other_accounts=others, limit_count=rule.limit_count)
    return None


def rule_fast_in_fast_out(rule: RiskRule, ctx: Context) -> Hit | None:
    if rule.percent is None or ctx.amount_fen <= 0:
        return None
    since = ctx.now - timedelta(minutes=rule.window_minutes or 10)
    received = (
        RiskActivity.objects.filter(
            user=ctx.user, action__in=INCOMING_ACTIONS, created_at__gte=since
        ).aggregate(s=Sum("amount_fen"))["s"]
        or 0
    )
    if received < (rule.limit_fen or 1):
        return None
    if ctx.amount_fen * 100 >= rule.percent * received:
        return _hit(rule, received_fen=received, amount_fen=ctx.amount_fen)
    return None


def _associates(ctx: Context, since: datetime) -> set[int]:
    """The account itself and the accounts seen on its device fingerprint or IP lately."""
    linked = {ctx.user.pk}
    q = Q()
    if ctx.device:
        q |= Q(device=ctx.device)
    if ctx.ip:
        q |= Q(ip=ctx.ip)
    if q:
        linked |= set(
            RiskActivity.objects.filter(q, created_at__gte=since)
            .values_list("user_id", flat=True)
            .distinct()
        )
    return linked


def rule_circular_flow(rule: RiskRule, ctx: Context) -> Hit | None:
    hops = rule.limit_count or 3
    since = ctx.now - timedelta(minutes=rule.window_minutes or 24 * 60)
    floor = rule.limit_fen or 1
    ring = _associates(ctx, since)
    # Breadth-first over "sent to": who received money the frontier sent (same reference).
    # The ring's own accounts are not expanded further (the loop closes on them), so every
    # path found leaves the ring and comes back.
    frontier, seen = set(ring), set(ring)
    path_of: dict[int, list[int]] = {uid: [uid] for uid in ring}
    for hop in range(1, hops + 1):
        refs = RiskActivity.objects.filter(
            user_id__in=frontier,
            action__in=OUTGOING_ACTIONS,
            created_at__gte=since,
            amount_fen__gte=floor,
        ).values_list("user_id", "reference")
        sender_of: dict[str, int] = {ref: uid for uid, ref in refs if ref}
        if not sender_of:
            return None
        received = RiskActivity.objects.filter(
            reference__in=list(sender_of),
            action__in=INCOMING_ACTIONS,
            created_at__gte=since,
            amount_fen__gte=floor,
        ).values_list("user_id", "reference")
        nxt: set[int] = set()
        for uid, ref in received:
            source = sender_of[ref]
            if uid == source:
                continue  # grabbing one's own packet moves nothing between people
            if uid in ring:
                # A ring closes through three accounts at least: A→B→C→A, or A→B→A' where
                # A' shares A's device or IP. Two friends sending packets back and forth
                # (A→B→A), or A's packet grabbed by A' (nothing left the ring), is not one.
                if hop >= 3 or (hop == 2 and uid != path_of[source][0]):
                    return _hit(
                        rule,
                        path=[*path_of[source], uid],
                        hops=hop,
                        associated=sorted(ring - {ctx.user.pk})[:20],
                    )
                continue
            if uid not in seen:
                seen.add(uid)
                nxt.add(uid)
                path_of[uid] = [*path_of[source], uid]
        frontier = nxt
        if not frontier:
            return None
    return None


RULES: dict[str, Callable[[RiskRule, Context], Hit | None]] = {
    RuleCode.BLACKLIST: rule_blacklist,
    RuleCode.FROZEN: rule_frozen,
    RuleCode.MINOR_NIGHT: rule_minor_night,
    RuleCode.SINGLE_LIMIT: rule_single_limit,
    RuleCode.DAILY_LIMIT: rule_daily_limit,
    RuleCode.DAILY_COUNT: rule_daily_count,
    RuleCode.AMOUNT_DEVIATION: rule_amount_deviation,
    RuleCode.DEVICE_CLUSTER: rule_device_cluster,
    RuleCode.FAST_IN_FAST_OUT: rule_fast_in_fast_out,
    RuleCode.CIRCULAR_FLOW: rule_circular_flow,
}


def rules_evaluate(
    rules: list[RiskRule], ctx: Context, *, reads: list[Read] | None = None
) -> tuple[str, list[Hit]]:
    """Run every enabled rule that applies to ``ctx.action``; the strictest outcome wins.
    ``reads``: :func:`rules_reads` of these rules and ``ctx``, if the caller has them."""
    _read(ctx, rules_reads(rules, ctx) if reads is None else reads)  # one statement for all
    hits: list[Hit] = []
    for rule in rules:
        if not _applies(rule, ctx):
            continue
        check = RULES.get(rule.code)
        hit = check(rule, ctx) if check else None
        if hit is not None:
            hits.append(hit)
    outcome = Outcome.ALLOW
    for hit in hits:
        if SEVERITY[Outcome(hit.outcome)] > SEVERITY[outcome]:
            outcome = Outcome(hit.outcome)
    return str(outcome), hits


__all__ = [
    "RULES",
    "Context",
    "Hit",
    "Read",
    "in_night_window",
    "reads_store",
    "rules_evaluate",
    "rules_reads",
]
