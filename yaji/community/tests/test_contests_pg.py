"""One vote per account per contest under real concurrency (PostgreSQL, real threads)."""

from __future__ import annotations

from collections import Counter

import pytest

from yaji.community import contests
from yaji.community.models import CheckIn, ContestVote
from yaji.community.tests.factories import contest_make, submission_make, verified_user
from yaji.testing.races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_one_account_voting_from_ten_tabs_at_once_counts_once() -> None:
    contest = contest_make(phase="voting")
    designs = [submission_make(contest, title=f"d{i}") for i in range(2)]
    voter = verified_user()
    outcomes = race(
        10,
        lambda i: contests.contest_vote(
            voter=voter, contest_id=contest.pk, submission_id=designs[i % 2].pk
        ),
    )
    assert outcomes == Counter({"ok": 1, "contest_already_voted": 9})
    assert ContestVote.objects.filter(contest=contest, voter=voter).count() == 1


def test_twelve_accounts_voting_at_once_all_count() -> None:
    contest = contest_make(phase="voting")
    design = submission_make(contest)
    voters = [verified_user() for _ in range(12)]
    outcomes = race(
        12,
        lambda i: contests.contest_vote(
            voter=voters[i], contest_id=contest.pk, submission_id=design.pk, device=f"d{i}"
        ),
    )
    assert outcomes == Counter({"ok": 12})
    assert ContestVote.objects.filter(contest=contest).count() == 12


def test_a_farm_voting_at_once_is_still_flagged_when_the_results_are_counted(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import timedelta

    from yaji.core import clock

    contest = contest_make(phase="voting")
    design = submission_make(contest)
    voters = [verified_user() for _ in range(6)]
    race(
        6,
        lambda i: contests.contest_vote(
            voter=voters[i], contest_id=contest.pk, submission_id=design.pk, device="farm-phone"
        ),
    )
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr("yaji.core.clock.now", lambda: later)
    contests.contest_results_publish(contest_id=contest.pk)
    design.refresh_from_db()
    assert design.final_votes == 0
    assert ContestVote.objects.filter(contest=contest, flagged=True).count() == 6


def test_double_check_in_at_once_makes_one_row() -> None:
    from yaji.community import engagement
    from yaji.community.tests.factories import UserFactory

    user = UserFactory()
    outcomes = race(8, lambda i: engagement.checkin_today(user=user))
    assert outcomes == Counter({"ok": 1, "already_checked_in": 7})
    assert CheckIn.objects.filter(user=user).count() == 1
