"""Moderation's public writes and checks.

Content apps call :func:`moderation_screen` inside their own transaction when content is
created or edited, and hide it unless the result is ``visible``. They learn about later
changes (a reviewer's decision, enough reports) from the outbox topic ``moderation.decided``
with payload ``{"kind", "object_id", "status"}``.

:func:`moderation_check_text` answers the same question for text that has no object yet (a
red packet's blessing before the packet exists) and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yaji.core import clock
from yaji.core.errors import PermissionDenied
from yaji.core.outbox import outbox_publish
from yaji.moderation.classifiers import classifier_get
from yaji.moderation.errors import (
    AlreadyAppealed,
    AlreadyReported,
    CannotReportOwn,
    InvalidDecision,
    InvalidKind,
    InvalidObjectId,
    ModerationItemNotFound,
    NotBlocked,
    NotPendingReview,
    ReasonRequired,
)
from yaji.moderation.image_hashes import fingerprint
from yaji.moderation.models import Action, Appeal, LogEntry, ModerationItem, Report, Status
from yaji.moderation.permissions import is_moderation_reviewer
from yaji.moderation.rules import rules_current

SLA = timedelta(hours=72)
DECIDED_TOPIC = "moderation.decided"
KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}\.[a-z][a-z0-9_]{0,24}$")
EXCERPT_CHARS = 500
MAX_REASON_CHARS = 500
# Severity order: the strictest outcome of all checks wins.
_RANK = {Status.VISIBLE: 0, Status.HELD: 1, Status.BLOCKED: 2}
_ACTION_STATUS = {Action.HOLD: Status.HELD, Action.BLOCK: Status.BLOCKED}


@dataclass(frozen=True)
class ScreenResult:
    status: str  # "visible" | "held" | "blocked"
    reasons: tuple[str, ...] = ()
    # The normalised words that matched, for reviewers; never shown to the author.
    matches: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_visible(self) -> bool:
        return self.status == Status.VISIBLE


VISIBLE = ScreenResult(status=Status.VISIBLE)


def _dhash_max_distance() -> int:
    return int(getattr(settings, "MODERATION_DHASH_MAX_DISTANCE", 6))


def moderation_report_threshold() -> int:
    return max(1, int(getattr(settings, "MODERATION_REPORT_HOLD_THRESHOLD", 3)))


def _combine(results: list[ScreenResult]) -> ScreenResult:
    status = Status.VISIBLE
    reasons: list[str] = []
    matches: list[str] = []
    for result in results:
        if _RANK[Status(result.status)] > _RANK[status]:
            status = Status(result.status)
        reasons.extend(r for r in result.reasons if r not in reasons)
        matches.extend(m for m in result.matches if m not in matches)
    return ScreenResult(status=str(status), reasons=tuple(reasons), matches=tuple(matches))


# --- pure checks ------------------------------------------------------------------------------


def moderation_check_text(text: str) -> ScreenResult:
    """Screen ``text`` against the word lists and the classifier; writes nothing."""
    if not text or not text.strip():
        return VISIBLE
    hits = rules_current().matcher.find(text)
    results = [
        ScreenResult(
            status=str(_ACTION_STATUS[Action(hit.action)]),
            reasons=(f"text.{hit.category}",),
            matches=(hit.word,),
        )
        for hit in hits
    ]
    verdict = classifier_get().classify_text(text)
    results.append(ScreenResult(status=verdict.status, reasons=verdict.reasons))
    return _combine(results)


def moderation_check_images(images: list[bytes]) -> ScreenResult:
    """Screen encoded images against the hash blocklist and the classifier; writes nothing.

    Bytes that do not decode as an image are held for a person to look at (content apps
    validate uploads, so this means something slipped past them).
    """
    if not images:
        return VISIBLE
    rules = rules_current()
    max_distance = _dhash_max_distance()
    classifier = classifier_get()
    results: list[ScreenResult] = []
    for data in images:
        fp = fingerprint(data)
        action = rules.sha256.get(fp.sha256)
        if action is not None:
            results.append(
                ScreenResult(status=str(_ACTION_STATUS[Action(action)]), reasons=("image.sha256",))
            )
        if fp.dhash is None:
            results.append(ScreenResult(status=Status.HELD, reasons=("image.unreadable",)))
            continue
        value = int(fp.dhash, 16)
        for blocked, action in rules.dhash:
            if (value ^ blocked).bit_count() <= max_distance:
                results.append(
                    ScreenResult(
                        status=str(_ACTION_STATUS[Action(action)]), reasons=("image.dhash",)
                    )
                )
        verdict = classifier.classify_image(data)
        results.append(ScreenResult(status=verdict.status, reasons=verdict.reasons))
    return _combine(results)


# --- writes -----------------------------------------------------------------------------------


def _kind_clean(kind: str) -> str:
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise InvalidKind(extra={"kind": str(kind)[:60]})
    return kind


def _reason_clean(reason: str, *, required: bool = True) -> str:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise ReasonRequired()
    if len(cleaned) > MAX_REASON_CHARS:
        raise ReasonRequired(
            _("原因不能超过 %(n)d 个字符。") % {"n": MAX_REASON_CHARS},
            extra={"max_length": MAX_REASON_CHARS},
        )
    return cleaned


def _log(
    *, item: ModerationItem, actor: Any, action: str, from_status: str, reason: str = ""
) -> None:
    LogEntry.objects.create(
        item=item,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=item.status,
        reason=reason[:1000],
    )


def _announce(item: ModerationItem) -> None:
    outbox_publish(
        topic=DECIDED_TOPIC,
        payload={"kind": item.kind, "object_id": item.object_id, "status": item.status},
        key=f"{item.kind}:{item.object_id}",
    )


@transaction.atomic
def moderation_screen(
    *,
    kind: str,
    object_id: int,
    author: Any,
    text: str = "",
    images: list[bytes] | None = None,
) -> ScreenResult:
    """Screen a piece of content and record the outcome on its :class:`ModerationItem`.

    Not durable on purpose: callers run it inside the transaction that creates or edits the
    content, so the content and its moderation record commit together. Held items enter the
    review queue with a 72-hour SLA; blocked ones can be appealed by their author.
    Screening the same object again (an edit) replaces the automatic outcome.
    """
    kind = _kind_clean(kind)
    if isinstance(object_id, bool) or not isinstance(object_id, int) or object_id <= 0:
        raise InvalidObjectId(extra={"object_id": str(object_id)[:30]})
    result = _combine([moderation_check_text(text), moderation_check_images(images or [])])
    now = clock.now()
    item, created = ModerationItem.objects.select_for_update().get_or_create(
        kind=kind, object_id=object_id, defaults={"author": author}
    )
    before = item.status if not created else Status.VISIBLE
    appeal_pending = (
        not created
        and item.queue_reason == ModerationItem.QueueReason.APPEAL
        and item.pending_review
    )
    item.author = author
    item.status = result.status
    item.reasons = list(result.reasons)
    item.matches = list(result.matches)
    item.excerpt = (text or "")[:EXCERPT_CHARS]
    if result.status == Status.HELD:
        if not item.pending_review:
            item.sla_due_at = now + SLA
        item.pending_review = True
        item.queue_reason = (
            ModerationItem.QueueReason.APPEAL
            if appeal_pending
            else ModerationItem.QueueReason.SCREEN
        )
    elif not appeal_pending:
        item.pending_review = False
        item.queue_reason = ModerationItem.QueueReason.NONE
    item.save()
    if result.status != Status.VISIBLE or before != result.status:
        _log(
            item=item,
            actor=None,
            action=LogEntry.Action.SCREEN,
            from_status=before,
            reason=", ".join(result.reasons),
        )
    return result


def _item_locked(item_id: int) -> ModerationItem:
    try:
        return ModerationItem.objects.select_for_update().get(pk=item_id)
    except ModerationItem.DoesNotExist:
        raise ModerationItemNotFound() from None


@transaction.atomic(durable=True)
def moderation_report(*, reporter: Any, kind: str, object_id: int, reason: str) -> Report:
    """Any signed-in user reports screened content once; enough reports hold it for review."""
    kind = _kind_clean(kind)
    reason = _reason_clean(reason)
    try:
        item = ModerationItem.objects.select_for_update().get(kind=kind, object_id=object_id)
    except ModerationItem.DoesNotExist:
        raise ModerationItemNotFound() from None
    if item.author_id is not None and item.author_id == reporter.pk:
        raise CannotReportOwn()
    try:
        with transaction.atomic():
            report = Report.objects.create(item=item, reporter=reporter, reason=reason)
    except IntegrityError:
        raise AlreadyReported() from None
    item.report_count += 1
    if (
        item.status == Status.VISIBLE
        and not item.pending_review
        and item.report_count >= moderation_report_threshold()
    ):
        item.status = Status.HELD
        item.pending_review = True
        item.queue_reason = ModerationItem.QueueReason.REPORTS
        item.sla_due_at = clock.now() + SLA
        item.save()
        _log(
            item=item,
            actor=None,
            action=LogEntry.Action.REPORT_HOLD,
            from_status=Status.VISIBLE,
            reason=f"reports={item.report_count}",
        )
        _announce(item)
    else:
        item.save(update_fields=["report_count", "updated_at"])
    return report


@transaction.atomic(durable=True)
def moderation_appeal(*, author: Any, item_id: int, reason: str) -> Appeal:
    """The author of a blocked item appeals, once; the item goes back into the queue."""
    reason = _reason_clean(reason)
    item = _item_locked(item_id)
    if item.author_id is None or item.author_id != author.pk:
        raise ModerationItemNotFound()  # other people's items do not exist for you
    if hasattr(item, "appeal"):
        raise AlreadyAppealed()
    if item.status != Status.BLOCKED:
        raise NotBlocked()
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(item=item, author=author, reason=reason)
    except IntegrityError:
        raise AlreadyAppealed() from None
    item.pending_review = True
    item.queue_reason = ModerationItem.QueueReason.APPEAL
    item.sla_due_at = clock.now() + SLA
    item.save()
    _log(
        item=item,
        actor=author,
        action=LogEntry.Action.APPEAL,
        from_status=item.status,
        reason=reason,
    )
    return appeal


DECISIONS = {"approve": Status.VISIBLE, "block": Status.BLOCKED}


@transaction.atomic(durable=True)
def moderation_decide(
    *, reviewer: Any, item_id: int, decision: str, reason: str = ""
) -> ModerationItem:
    """A reviewer approves (→ visible) or blocks (→ blocked, reason required) a queued item.

    The row lock makes concurrent decisions on one item serialise: the first wins, the rest
    get ``moderation_not_pending``. The outcome is logged and announced on the outbox.
    """
    if not is_moderation_reviewer(reviewer):
        raise PermissionDenied()
    if decision not in DECISIONS:
        raise InvalidDecision(extra={"allowed": sorted(DECISIONS)})
    reason = _reason_clean(reason, required=decision == "block")
    item = _item_locked(item_id)
    if not item.pending_review:
        raise NotPendingReview()
    before = item.status
    now = clock.now()
    item.status = DECISIONS[decision]
    item.pending_review = False
    item.queue_reason = ModerationItem.QueueReason.NONE
    item.report_count = 0
    item.decided_by = reviewer
    item.decided_at = now
    item.save()
    Appeal.objects.filter(item=item, state=Appeal.State.PENDING).update(
        state=Appeal.State.GRANTED if decision == "approve" else Appeal.State.REJECTED,
        updated_at=now,
    )
    _log(
        item=item,
        actor=reviewer,
        action=LogEntry.Action.APPROVE if decision == "approve" else LogEntry.Action.BLOCK,
        from_status=before,
        reason=reason,
    )
    _announce(item)
    return item
