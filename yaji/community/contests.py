"""Design contests: a brief, a submission window, a voting window, results, a product.

Writes and reads of contests live here (the contest's public face for other apps and the
surfaces). Rules the code keeps:

* Submissions only inside ``[submissions_open_at, submissions_close_at)``, one per author per
  contest (a unique constraint), the design image decoded and re-encoded like a post picture and
  screened by moderation in the same transaction.
* Votes only inside ``[voting_open_at, voting_close_at)`` by real-name-verified accounts, one per
  account per contest: the unique constraint ``contest_vote_once`` is what decides under
  concurrency; the service turns its IntegrityError into ``contest_already_voted``.
* Suspicious votes are flagged and left out of the count (:func:`votes_suspicious`): when
  ``DEVICE_CLUSTER_ACCOUNTS`` or more voting accounts share a device fingerprint (the device of
  the vote, or any device the accounts app recorded for the voter's sessions), or
  ``IP_CLUSTER_ACCOUNTS`` or more share an address block (/24, IPv6 /64), every vote of the
  cluster is flagged. Flags are refreshed after each vote and recomputed from scratch, under the
  contest's row lock, when the results are published — so votes racing each other cannot slip
  a cluster past the count. Risk control sees every vote too (``risk_check`` before,
  ``risk_activity_record`` inside): a blacklisted device or account cannot vote, and operators
  can add ``device_cluster`` rules for the action ``contest.vote``.
* Results are published after the voting window (by anyone calling the service; a periodic job
  does it): final counts, the winner (most counted votes, ties to the earlier submission).
  Operators then link the winning design to the catalog product it became.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import has_role
from yaji.accounts.selectors import kyc_verified_record, user_devices, user_is_minor
from yaji.catalog import selectors as catalog_selectors
from yaji.community.engagement import badges_evaluate
from yaji.community.errors import (
    AlreadySubmitted,
    AlreadyVoted,
    CannotVoteOwn,
    ContestNotFound,
    InvalidContest,
    InvalidSubmission,
    MinorNightVoting,
    NoWinner,
    RealNameRequired,
    ResultsAlreadyPublished,
    ResultsNotReady,
    SubmissionNotFound,
    SubmissionWindowClosed,
    UnknownTag,
    VotingWindowClosed,
)
from yaji.community.models import Contest, ContestSubmission, ContestVote, Visibility
from yaji.community.post_media import picture_process
from yaji.community.post_media import stored_name as post_stored_name
from yaji.community.services import SCREEN_KIND_SUBMISSION, _has_control_chars, _screen
from yaji.core import clock
from yaji.core.errors import ApplicationError, PermissionDenied
from yaji.core.outbox import outbox_publish
from yaji.risk.services import risk_activity_record, risk_check

VOTE_ACTION = "contest.vote"
# Minors (under 18 by the verified birth date) vote like everyone else, one vote per verified
# account, but not at night: the platform's minors' rule (PRODUCT.md C7, risk's
# ``minor_night``: 22:00–06:00 local time) applies to voting as it does to red packets and
# gifts. A vote moves no money, so it is not a risk-rule action; the same hours live here.
MINOR_NIGHT_START_HOUR = 22
MINOR_NIGHT_END_HOUR = 6
DEVICE_CLUSTER_ACCOUNTS = 3
IP_CLUSTER_ACCOUNTS = 5
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")


def _operator(actor: User) -> None:
    if not (actor.is_staff or has_role(actor, Role.OPERATOR)):
        raise PermissionDenied()


@transaction.atomic(durable=True)
def contest_create(
    *,
    actor: User,
    slug: str,
    title: str,
    brief: str,
    submissions_open_at: datetime,
    submissions_close_at: datetime,
    voting_open_at: datetime,
    voting_close_at: datetime,
    prizes: str = "",
) -> Contest:
    """Operators open a contest. The windows must follow each other (also a DB constraint)."""
    _operator(actor)
    slug, title, brief = (slug or "").strip().lower(), (title or "").strip(), (brief or "").strip()
    prizes = (prizes or "").strip()
    if not SLUG_RE.match(slug):
        raise InvalidContest(extra={"field": "slug"})
    if not title or len(title) > 80 or not brief or len(brief) > 5000 or len(prizes) > 2000:
        raise InvalidContest(extra={"field": "title"})
    if _has_control_chars(title + brief + prizes):
        raise InvalidContest(extra={"field": "brief", "reason": "control_characters"})
    if not (submissions_open_at < submissions_close_at <= voting_open_at < voting_close_at):
        raise InvalidContest(extra={"field": "windows"})
    if Contest.objects.filter(slug=slug).exists():
        raise InvalidContest(extra={"field": "slug", "reason": "taken"})
    return Contest.objects.create(
        slug=slug,
        title=title,
        brief=brief,
        prizes=prizes,
        submissions_open_at=submissions_open_at,
        submissions_close_at=submissions_close_at,
        voting_open_at=voting_open_at,
        voting_close_at=voting_close_at,
        created_by=actor,
    )


@transaction.atomic(durable=True)
def contest_reschedule(
    *,
    actor: User,
    contest_id: int,
    submissions_close_at: datetime,
    voting_open_at: datetime,
    voting_close_at: datetime,
) -> Contest:
    """Operators move the later windows (close submissions early, extend voting) until the
    results are out; the order of the windows still holds."""
    _operator(actor)
    contest = _contest_locked(contest_id)
    if contest.results_published_at is not None:
        raise ResultsAlreadyPublished()
    if not (contest.submissions_open_at < submissions_close_at <= voting_open_at < voting_close_at):
        raise InvalidContest(extra={"field": "windows"})
    contest.submissions_close_at = submissions_close_at
    contest.voting_open_at = voting_open_at
    contest.voting_close_at = voting_close_at
    contest.save(
        update_fields=["submissions_close_at", "voting_open_at", "voting_close_at", "updated_at"]
    )
    return contest


def contest_phase(contest: Contest, *, now: datetime | None = None) -> str:
    """upcoming | submissions | between | voting | counting | published."""
    now = now or clock.now()
    if contest.results_published_at is not None:
        return "published"
    if now < contest.submissions_open_at:
        return "upcoming"
    if now < contest.submissions_close_at:
        return "submissions"
    if now < contest.voting_open_at:
        return "between"
    if now < contest.voting_close_at:
        return "voting"
    return "counting"


def _contest_locked(contest_id: int) -> Contest:
    contest = Contest.objects.select_for_update().filter(pk=contest_id).first()
    if contest is None:
        raise ContestNotFound()
    return contest


# --- submissions ---------------------------------------------------------------------------------


def contest_submit(
    *,
    author: User,
    contest_id: int,
    title: str,
    image: UploadedFile,
    description: str = "",
) -> ContestSubmission:
    """Enter a design. The picture is decoded and re-encoded before the transaction opens."""
    title, description = (title or "").strip(), (description or "").strip()
    if not title or len(title) > 80 or len(description) > 2000:
        raise InvalidSubmission(extra={"field": "title"})
    if _has_control_chars(title + description):
        raise InvalidSubmission(extra={"field": "description", "reason": "control_characters"})
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise ContestNotFound()
    _submission_window(contest)  # fail fast, before decoding; checked again under the lock
    if image is None:
        raise InvalidSubmission(extra={"field": "image"})
    picture = picture_process(image)
    return _submission_save(
        author=author, contest_id=contest.pk, title=title, description=description, picture=picture
    )


def _submission_window(contest: Contest) -> None:
    now = clock.now()
    if not contest.submissions_open_at <= now < contest.submissions_close_at:
        raise SubmissionWindowClosed(
            extra={
                "opens_at": contest.submissions_open_at.isoformat(),
                "closes_at": contest.submissions_close_at.isoformat(),
            }
        )


@transaction.atomic(durable=True)
def _submission_save(
    *, author: User, contest_id: int, title: str, description: str, picture: Any
) -> ContestSubmission:
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise ContestNotFound()
    _submission_window(contest)
    submission = ContestSubmission(
        contest=contest,
        author=author,
        title=title,
        description=description,
        width=picture.width,
        height=picture.height,
    )
    submission.image.save(post_stored_name("webp"), ContentFile(picture.webp), save=False)
    storage, name = submission.image.storage, submission.image.name
    try:
        try:
            with transaction.atomic():
                submission.save()
        except IntegrityError:
            raise AlreadySubmitted() from None
        submission.status = _screen(
            kind=SCREEN_KIND_SUBMISSION,
            object_id=submission.pk,
            author=author,
            text=f"{title}\n{description}",
            images=[picture.original],
        )
        submission.save(update_fields=["status", "updated_at"])
        if submission.status == Visibility.VISIBLE:
            badges_evaluate(user=author)
    except BaseException:
        storage.delete(name)  # nothing half-saved: no file without its row
        raise
    return submission


# --- votes ---------------------------------------------------------------------------------------


def ip_cluster(ip: str | None) -> str:
    """The address block an IP belongs to: IPv4 /24, IPv6 /64 ('' for none or garbage)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True)
class VoteSignal:
    vote_id: int
    voter_id: int
    devices: frozenset[str]
    ip_cluster: str


def votes_suspicious(
    votes: Iterable[VoteSignal],
    *,
    device_accounts: int = DEVICE_CLUSTER_ACCOUNTS,
    ip_accounts: int = IP_CLUSTER_ACCOUNTS,
) -> dict[int, str]:
    """Which votes to flag, and why ('shared_device' wins over 'ip_cluster')."""
    votes = list(votes)
    by_device: dict[str, set[int]] = defaultdict(set)
    by_block: dict[str, set[int]] = defaultdict(set)
    for vote in votes:
        for device in vote.devices:
            if device:
                by_device[device].add(vote.voter_id)
        if vote.ip_cluster:
            by_block[vote.ip_cluster].add(vote.voter_id)
    device_flagged = {
        v for voters in by_device.values() if len(voters) >= device_accounts for v in voters
    }
    block_flagged = {
        v for voters in by_block.values() if len(voters) >= ip_accounts for v in voters
    }
    flags: dict[int, str] = {}
    for vote in votes:
        if vote.voter_id in device_flagged:
            flags[vote.vote_id] = "shared_device"
        elif vote.voter_id in block_flagged:
            flags[vote.vote_id] = "ip_cluster"
    return flags


def _flags_refresh(contest_id: int) -> int:
    """Recompute every vote's flag of the contest; returns how many are flagged."""
    rows = ContestVote.objects.filter(contest_id=contest_id).values_list(
        "pk", "voter_id", "device", "known_devices", "ip_cluster", "flagged", "flag_reason"
    )
    current = {row[0]: (row[5], row[6]) for row in rows}
    flags = votes_suspicious(
        VoteSignal(
            vote_id=row[0],
            voter_id=row[1],
            devices=frozenset([row[2], *row[3]]),
            ip_cluster=row[4],
        )
        for row in rows
    )
    for vote_id, (flagged, reason) in current.items():
        want = (vote_id in flags, flags.get(vote_id, ""))
        if (flagged, reason) != want:
            ContestVote.objects.filter(pk=vote_id).update(
                flagged=want[0], flag_reason=want[1], updated_at=clock.now()
            )
    return len(flags)


def contest_vote(
    *,
    voter: User,
    contest_id: int,
    submission_id: int,
    device: str = "",
    ip: str | None = None,
) -> ContestVote:
    """Vote for a design. ``device`` is a fingerprint (``risk_device_fingerprint``).

    Raises contest_not_found, contest_voting_closed, real_name_required, contest_minor_night,
    contest_submission_not_found, contest_cannot_vote_own, contest_already_voted, and risk
    control's refusals.
    """
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise ContestNotFound()
    _voting_window(contest)
    if kyc_verified_record(user=voter) is None:
        raise RealNameRequired(extra={"verify": "/account/kyc/"})
    _minor_night_refuse(voter)
    risk_check(user=voter, action=VOTE_ACTION, device=device, ip=ip)  # outside, like money
    known = sorted({d.fingerprint for d in user_devices(user=voter)} - {""})[:20]
    return _vote_save(
        voter=voter,
        contest_id=contest.pk,
        submission_id=submission_id,
        device=device[:64],
        known_devices=known,
        ip=ip,
    )


def _minor_night_refuse(voter: User) -> None:
    """Refuse a minor's vote between 22:00 and 06:00 local time (``contest_minor_night``)."""
    if not user_is_minor(voter):
        return
    local = clock.now().astimezone(ZoneInfo(settings.TIME_ZONE))
    if local.hour >= MINOR_NIGHT_START_HOUR or local.hour < MINOR_NIGHT_END_HOUR:
        raise MinorNightVoting(
            extra={
                "local_time": local.strftime("%H:%M"),
                "start_hour": MINOR_NIGHT_START_HOUR,
                "end_hour": MINOR_NIGHT_END_HOUR,
            }
        )


def _voting_window(contest: Contest) -> None:
    now = clock.now()
    if contest.results_published_at is not None or not (
        contest.voting_open_at <= now < contest.voting_close_at
    ):
        raise VotingWindowClosed(
            extra={
                "opens_at": contest.voting_open_at.isoformat(),
                "closes_at": contest.voting_close_at.isoformat(),
            }
        )


@transaction.atomic(durable=True)
def _vote_save(
    *,
    voter: User,
    contest_id: int,
    submission_id: int,
    device: str,
    known_devices: list[str],
    ip: str | None,
) -> ContestVote:
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise ContestNotFound()
    _voting_window(contest)
    submission = ContestSubmission.objects.filter(
        pk=submission_id, contest=contest, status=Visibility.VISIBLE
    ).first()
    if submission is None:
        raise SubmissionNotFound()
    if submission.author_id == voter.pk:
        raise CannotVoteOwn()
    try:
        with transaction.atomic():
            vote = ContestVote.objects.create(
                contest=contest,
                submission=submission,
                voter=voter,
                device=device,
                known_devices=known_devices,
                ip=ip or None,
                ip_cluster=ip_cluster(ip),
            )
    except IntegrityError:
        raise AlreadyVoted() from None
    risk_activity_record(
        user=voter,
        action=VOTE_ACTION,
        amount_fen=0,
        device=device,
        ip=ip,
        reference=f"contest:{contest.pk}",
    )
    _flags_refresh(contest.pk)
    vote.refresh_from_db(fields=["flagged", "flag_reason"])
    return vote


# --- results -------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def contest_results_publish(*, contest_id: int) -> Contest:
    """Count the unflagged votes and name the winner, once the voting window is over."""
    contest = _contest_locked(contest_id)
    if contest.results_published_at is not None:
        raise ResultsAlreadyPublished()
    if clock.now() < contest.voting_close_at:
        raise ResultsNotReady(extra={"voting_close_at": contest.voting_close_at.isoformat()})
    _flags_refresh(contest.pk)
    counted = dict(
        ContestVote.objects.filter(contest=contest, flagged=False)
        .values("submission_id")
        .annotate(n=Count("pk"))
        .values_list("submission_id", "n")
    )
    winner = None
    for submission in ContestSubmission.objects.filter(contest=contest).order_by("pk"):
        votes = counted.get(submission.pk, 0) if submission.status == Visibility.VISIBLE else 0
        submission.final_votes = votes
        submission.save(update_fields=["final_votes", "updated_at"])
        if votes > 0 and (winner is None or votes > (winner.final_votes or 0)):
            winner = submission
    contest.winner = winner
    contest.results_published_at = clock.now()
    contest.save(update_fields=["winner", "results_published_at", "updated_at"])
    if winner is not None:
        badges_evaluate(user=winner.author)
    outbox_publish(
        topic="community.contest_results_published",
        key=str(contest.pk),
        payload={
            "contest_id": contest.pk,
            "winner_submission_id": winner.pk if winner else None,
            "winner_author_id": winner.author_id if winner else None,
        },
    )
    return contest


def contests_publish_due() -> list[int]:
    """Publish every contest whose voting is over (the periodic job). Returns their ids."""
    due = Contest.objects.filter(
        results_published_at__isnull=True, voting_close_at__lte=clock.now()
    ).values_list("pk", flat=True)
    published = []
    for contest_id in list(due):
        try:
            contest_results_publish(contest_id=contest_id)
        except (ResultsAlreadyPublished, ResultsNotReady):
            continue  # a concurrent run got there first
        published.append(contest_id)
    return published


@transaction.atomic(durable=True)
def contest_winner_link(*, actor: User, contest_id: int, product_id: int) -> Contest:
    """Operators link the winning design to the product made from it."""
    _operator(actor)
    contest = _contest_locked(contest_id)
    if contest.results_published_at is None or contest.winner_id is None:
        raise NoWinner()
    try:
        catalog_selectors.product_get_public(product_id=product_id)
    except ApplicationError as exc:
        raise UnknownTag(extra={"field": "product_id", "id": product_id}) from exc
    contest.product_id = product_id
    contest.save(update_fields=["product", "updated_at"])
    return contest


# --- reads ---------------------------------------------------------------------------------------


def contest_get(*, slug: str) -> Contest:
    contest = (
        Contest.objects.select_related("winner__author", "product").filter(slug=slug).first()
        if slug and len(slug) <= 60
        else None
    )
    if contest is None:
        raise ContestNotFound()
    return contest


def contests_list(*, limit: int = 20) -> list[Contest]:
    return list(Contest.objects.order_by("-voting_close_at", "-pk")[: max(1, min(limit, 50))])


def contest_submissions(*, contest: Contest, viewer: Any = None) -> list[ContestSubmission]:
    """Visible designs (and the viewer's own, held or not), with their live counted votes."""
    shown = Q(status=Visibility.VISIBLE)
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        shown |= Q(author_id=viewer.pk)
    return list(
        ContestSubmission.objects.filter(shown, contest=contest)
        .select_related("author")
        .annotate(counted=Count("votes", filter=Q(votes__flagged=False)))
        .order_by("pk")
    )


def contest_vote_of(*, contest: Contest, voter: Any) -> ContestVote | None:
    if voter is None or not getattr(voter, "is_authenticated", False):
        return None
    return ContestVote.objects.filter(contest=contest, voter=voter).first()


@dataclass(frozen=True)
class VoteTally:
    total: int
    flagged: int


def contest_tally(*, contest: Contest) -> VoteTally:
    agg = ContestVote.objects.filter(contest=contest).aggregate(
        total=Count("pk"), flagged=Count("pk", filter=Q(flagged=True))
    )
    return VoteTally(total=agg["total"], flagged=agg["flagged"])
