"""Design contests: windows, one vote per verified account, suspicious votes, results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yaji.accounts.tests.factories import DeviceFactory
from yaji.community import contests
from yaji.community.contests import VoteSignal, ip_cluster, votes_suspicious
from yaji.community.models import BadgeAward, ContestSubmission, ContestVote, Visibility
from yaji.community.tests.factories import (
    FakeClock,
    UserFactory,
    contest_make,
    image_upload,
    operator_user,
    submission_make,
    verified_user,
)
from yaji.core import clock
from yaji.core.errors import ApplicationError, PermissionDenied

pytestmark = pytest.mark.django_db


def _code(call, **kwargs) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as info:
        call(**kwargs)
    return info.value.code, info.value.status


def test_operator_creates_a_contest_with_ordered_windows_and_others_cannot() -> None:
    now = clock.now()
    h = timedelta(hours=1)
    kwargs = dict(
        slug="tea-tin",
        title="茶罐",
        brief="设计茶罐",
        submissions_open_at=now,
        submissions_close_at=now + h,
        voting_open_at=now + h,
        voting_close_at=now + 2 * h,
    )
    contest = contests.contest_create(actor=operator_user(), **kwargs)
    assert contests.contest_phase(contest) == "submissions"
    with pytest.raises(PermissionDenied):
        contests.contest_create(actor=UserFactory(), **{**kwargs, "slug": "other"})
    bad = {**kwargs, "slug": "bad", "voting_open_at": now}
    assert _code(contests.contest_create, actor=operator_user(), **bad) == ("invalid_contest", 422)


def test_submission_is_screened_stored_and_only_once_per_author(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    contest = contest_make()
    author = UserFactory()
    submission = contests.contest_submit(
        author=author, contest_id=contest.pk, title="青花缠枝", image=image_upload()
    )
    assert submission.status == Visibility.VISIBLE
    assert submission.image.name.endswith(".webp") and submission.width == 64
    assert BadgeAward.objects.filter(user=author, code="contest_entrant").exists()
    again = dict(author=author, contest_id=contest.pk, title="再来", image=image_upload())
    assert _code(contests.contest_submit, **again) == ("contest_already_submitted", 409)
    assert ContestSubmission.objects.count() == 1


def test_held_submission_is_not_shown_to_others(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("yaji.community.contests._screen", lambda **kw: "held")
    contest = contest_make()
    author = UserFactory()
    contests.contest_submit(author=author, contest_id=contest.pk, title="x", image=image_upload())
    assert contests.contest_submissions(contest=contest, viewer=UserFactory()) == []
    assert len(contests.contest_submissions(contest=contest, viewer=author)) == 1


def test_submissions_outside_the_window_are_refused_and_nothing_is_saved() -> None:
    contest = contest_make(phase="voting")
    call = dict(author=UserFactory(), contest_id=contest.pk, title="迟到", image=image_upload())
    assert _code(contests.contest_submit, **call) == ("contest_submissions_closed", 409)
    assert ContestSubmission.objects.count() == 0


def test_a_broken_design_image_is_refused() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    contest = contest_make()
    fake = SimpleUploadedFile("d.png", b"not an image" * 10, "image/png")
    call = dict(author=UserFactory(), contest_id=contest.pk, title="x", image=fake)
    assert _code(contests.contest_submit, **call)[0] == "invalid_post_image"
    assert ContestSubmission.objects.count() == 0


def test_one_vote_per_verified_account_inside_the_window() -> None:
    contest = contest_make(phase="voting")
    a, b = submission_make(contest), submission_make(contest, title="粉彩")
    voter = verified_user()
    vote = contests.contest_vote(voter=voter, contest_id=contest.pk, submission_id=a.pk)
    assert not vote.flagged
    twice = dict(voter=voter, contest_id=contest.pk, submission_id=b.pk)
    assert _code(contests.contest_vote, **twice) == ("contest_already_voted", 409)
    assert ContestVote.objects.count() == 1


def test_unverified_accounts_own_designs_and_other_contests_designs_cannot_be_voted() -> None:
    contest = contest_make(phase="voting")
    other = contest_make(phase="voting", slug="other-contest")
    mine_author = verified_user()
    mine = submission_make(contest, author=mine_author)
    foreign = submission_make(other)
    unverified = dict(voter=UserFactory(), contest_id=contest.pk, submission_id=mine.pk)
    assert _code(contests.contest_vote, **unverified) == ("real_name_required", 403)
    own = dict(voter=mine_author, contest_id=contest.pk, submission_id=mine.pk)
    assert _code(contests.contest_vote, **own) == ("contest_cannot_vote_own", 422)
    cross = dict(voter=verified_user(), contest_id=contest.pk, submission_id=foreign.pk)
    assert _code(contests.contest_vote, **cross) == ("contest_submission_not_found", 404)
    assert ContestVote.objects.count() == 0


@pytest.mark.parametrize("phase", ["submissions", "over"])
def test_votes_outside_the_voting_window_are_refused(phase: str) -> None:
    contest = contest_make(phase=phase)
    design = submission_make(contest)
    call = dict(voter=verified_user(), contest_id=contest.pk, submission_id=design.pk)
    assert _code(contests.contest_vote, **call) == ("contest_voting_closed", 409)


def test_ip_cluster_is_the_24_or_64_block() -> None:
    assert ip_cluster("203.0.113.77") == "203.0.113.0/24"
    assert ip_cluster("2001:db8::1") == "2001:db8::/64"
    assert ip_cluster("nonsense") == "" and ip_cluster(None) == ""


def test_votes_suspicious_flags_whole_clusters_only() -> None:
    votes = [VoteSignal(i, 100 + i, frozenset({"dev-farm"}), f"10.0.{i}.0/24") for i in range(3)]
    votes += [VoteSignal(10 + i, 200 + i, frozenset({f"d{i}"}), "10.9.9.0/24") for i in range(5)]
    votes += [VoteSignal(20, 300, frozenset({"solo"}), "10.1.1.0/24")]
    flags = votes_suspicious(votes, device_accounts=3, ip_accounts=5)
    assert {k for k, v in flags.items() if v == "shared_device"} == {0, 1, 2}
    assert {k for k, v in flags.items() if v == "ip_cluster"} == {10, 11, 12, 13, 14}
    assert 20 not in flags
    # two accounts on one device are not yet a cluster
    assert votes_suspicious(votes[:2], device_accounts=3, ip_accounts=5) == {}


def test_accounts_sharing_a_signed_in_device_are_flagged_and_not_counted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake = FakeClock(clock.now())
    monkeypatch.setattr("yaji.core.clock.now", fake)
    contest = contest_make(phase="voting")
    honest, farmed = submission_make(contest, title="真"), submission_make(contest, title="刷")
    # three accounts whose sessions the accounts app saw on one phone, voting from different IPs
    farm = [verified_user() for _ in range(3)]
    for i, voter in enumerate(farm):
        DeviceFactory(user=voter, fingerprint="same-phone")
        contests.contest_vote(
            voter=voter, contest_id=contest.pk, submission_id=farmed.pk, ip=f"198.51.{i}.9"
        )
    for i in range(2):
        contests.contest_vote(
            voter=verified_user(),
            contest_id=contest.pk,
            submission_id=honest.pk,
            device=f"own-{i}",
            ip=f"192.0.{i}.1",
        )
    flagged = ContestVote.objects.filter(flagged=True)
    assert set(flagged.values_list("voter_id", flat=True)) == {v.pk for v in farm}
    assert set(flagged.values_list("flag_reason", flat=True)) == {"shared_device"}
    fake.advance(2 * 3600)
    contests.contest_results_publish(contest_id=contest.pk)
    contest.refresh_from_db()
    honest.refresh_from_db()
    farmed.refresh_from_db()
    assert (honest.final_votes, farmed.final_votes) == (2, 0)
    assert contest.winner_id == honest.pk
    assert BadgeAward.objects.filter(user=honest.author, code="contest_winner").exists()
    assert contests.contest_tally(contest=contest) == contests.VoteTally(total=5, flagged=3)


def test_many_accounts_from_one_address_block_are_flagged() -> None:
    contest = contest_make(phase="voting")
    design = submission_make(contest)
    for i in range(5):
        contests.contest_vote(
            voter=verified_user(),
            contest_id=contest.pk,
            submission_id=design.pk,
            device=f"dev-{i}",
            ip=f"203.0.113.{10 + i}",
        )
    assert ContestVote.objects.filter(flagged=True, flag_reason="ip_cluster").count() == 5


def test_results_only_after_voting_once_and_the_winner_links_to_a_product(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    contest = contest_make(phase="voting")
    design = submission_make(contest)
    contests.contest_vote(voter=verified_user(), contest_id=contest.pk, submission_id=design.pk)
    assert _code(contests.contest_results_publish, contest_id=contest.pk)[0] == (
        "contest_results_not_ready"
    )
    operator = operator_user()
    no_winner = dict(actor=operator, contest_id=contest.pk, product_id=1)
    assert _code(contests.contest_winner_link, **no_winner)[0] == "contest_no_winner"
    fake = FakeClock(clock.now() + timedelta(hours=2))
    monkeypatch.setattr("yaji.core.clock.now", fake)
    assert contests.contests_publish_due() == [contest.pk]
    assert contests.contests_publish_due() == []
    assert _code(contests.contest_results_publish, contest_id=contest.pk)[0] == (
        "contest_results_published"
    )
    contest.refresh_from_db()
    assert contest.winner_id == design.pk
    unknown = dict(actor=operator, contest_id=contest.pk, product_id=999_999)
    assert _code(contests.contest_winner_link, **unknown)[0] == "unknown_tagged_item"
    with pytest.raises(PermissionDenied):
        contests.contest_winner_link(actor=UserFactory(), contest_id=contest.pk, product_id=1)
    from yaji.catalog.tests.factories import product_listed, shop_open

    product = product_listed(shop_open())
    linked = contests.contest_winner_link(
        actor=operator, contest_id=contest.pk, product_id=product.pk
    )
    assert linked.product_id == product.pk


def test_held_designs_get_no_votes_after_results(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    contest = contest_make(phase="voting")
    design = submission_make(contest)
    contests.contest_vote(voter=verified_user(), contest_id=contest.pk, submission_id=design.pk)
    ContestSubmission.objects.filter(pk=design.pk).update(status=Visibility.BLOCKED)
    monkeypatch.setattr("yaji.core.clock.now", FakeClock(clock.now() + timedelta(hours=2)))
    contests.contest_results_publish(contest_id=contest.pk)
    contest.refresh_from_db()
    assert contest.winner_id is None


def test_operators_reschedule_windows_in_order_until_the_results() -> None:
    contest = contest_make()
    operator = operator_user()
    now = clock.now()
    moved = contests.contest_reschedule(
        actor=operator,
        contest_id=contest.pk,
        submissions_close_at=now,
        voting_open_at=now,
        voting_close_at=now + timedelta(days=1),
    )
    assert contests.contest_phase(moved) == "voting"
    backwards = dict(
        actor=operator,
        contest_id=contest.pk,
        submissions_close_at=now,
        voting_open_at=now - timedelta(minutes=1),
        voting_close_at=now + timedelta(days=1),
    )
    assert _code(contests.contest_reschedule, **backwards) == ("invalid_contest", 422)
    with pytest.raises(PermissionDenied):
        contests.contest_reschedule(**{**backwards, "actor": UserFactory()})


@pytest.mark.parametrize(
    ("local_hour", "minor", "allowed"),
    [(23, True, False), (5, True, False), (6, True, True), (21, True, True), (23, False, True)],
)
def test_minors_do_not_vote_at_night(
    monkeypatch, local_hour: int, minor: bool, allowed: bool
) -> None:  # type: ignore[no-untyped-def]
    """The platform's minors' rule (22:00–06:00 local time, as for red packets and gifts)
    applies to contest votes; adults vote at any hour, minors by day."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from django.conf import settings

    local = datetime.now(ZoneInfo(settings.TIME_ZONE)).replace(
        hour=local_hour, minute=30, second=0, microsecond=0
    )
    monkeypatch.setattr("yaji.core.clock.now", FakeClock(local.astimezone(UTC)))
    contest = contest_make(phase="voting")
    design = submission_make(contest)
    today = local.date()
    years = 15 if minor else 30
    voter = verified_user(birth_date=date(today.year - years, 1, 1))
    call = dict(voter=voter, contest_id=contest.pk, submission_id=design.pk)
    if allowed:
        assert contests.contest_vote(**call).voter_id == voter.pk
    else:
        assert _code(contests.contest_vote, **call) == ("contest_minor_night", 403)
        assert ContestVote.objects.count() == 0
