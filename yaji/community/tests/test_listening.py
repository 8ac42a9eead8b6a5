"""Verified listening: what heartbeats prove, with time moved by the test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaji.community import selectors, services
from yaji.community.errors import PlayExpired, PlayNotFound, WorkNotPlayable
from yaji.community.listening import PlayState, coverage_add, heartbeat_apply
from yaji.community.models import PlaySession
from yaji.community.tests.factories import FakeClock, UserFactory, audio_work
from yaji.core import clock


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(datetime(2026, 5, 1, 20, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake


pytestmark = pytest.mark.django_db


def listen(frozen: FakeClock, token: str, user, steps: list[tuple[float, int]]):  # type: ignore[no-untyped-def]
    """Each step: wait ``seconds`` then report ``position_ms``. Returns the last progress."""
    progress = None
    for seconds, position in steps:
        frozen.advance(seconds)
        progress = services.play_heartbeat(user=user, token=token, position_ms=position)
    return progress


def test_honest_full_listen_completes(frozen: FakeClock) -> None:
    # Given a one-minute song and a listener who plays it through
    work, user = audio_work(duration_ms=60_000), UserFactory()
    session, token = services.play_start(user=user, work=work)
    # When the player reports every 5 s, the last one a bit late (network)
    progress = listen(frozen, token, user, [(5, 5_000 * i) for i in range(1, 13)])
    # Then the whole timeline is covered and the play is complete
    assert progress is not None
    assert progress.listened_ms == 60_000
    assert progress.coverage_pct == 100.0
    assert progress.completed
    session.refresh_from_db()
    assert session.completed_at == frozen.current
    assert selectors.play_completed(user=user, work=work)


def test_skipper_who_seeks_to_96_percent_is_not_complete(frozen: FakeClock) -> None:
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _session, token = services.play_start(user=user, work=work)
    # 5 s of listening, then a seek to 96 % and on to the end
    progress = listen(frozen, token, user, [(5, 57_600), (2.4, 60_000)])
    assert progress is not None
    assert not progress.completed
    assert progress.listened_ms <= 7_400  # never more than the wall clock
    assert progress.session.max_position_ms == 60_000
    assert not selectors.play_completed(user=user, work=work)


def test_heartbeats_faster_than_real_time_are_capped(frozen: FakeClock) -> None:
    # A player at 2× speed (or a script) claims 10 s of progress every 5 s
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _session, token = services.play_start(user=user, work=work)
    progress = listen(frozen, token, user, [(5, 10_000 * i) for i in range(1, 7)])
    assert progress is not None
    assert progress.listened_ms <= 30_000  # 30 s of wall clock
    assert not progress.completed


def test_replaying_the_first_half_is_still_half(frozen: FakeClock) -> None:
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _session, token = services.play_start(user=user, work=work)
    first = [(5, 5_000 * i) for i in range(1, 7)]
    listen(frozen, token, user, first)
    listen(frozen, token, user, [(0.5, 0)])  # seek back to the start
    progress = listen(frozen, token, user, first)
    assert progress is not None
    assert progress.listened_ms == 30_000
    assert progress.coverage_pct == 50.0
    assert not progress.completed


def test_two_tabs_do_not_add_up(frozen: FakeClock) -> None:
    # Two plays at once, one listening to each half: neither heard the song in full
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _a, token_a = services.play_start(user=user, work=work)
    _b, token_b = services.play_start(user=user, work=work)
    listen(frozen, token_b, user, [(0, 30_000)])  # tab B seeks to the middle at once
    for i in range(1, 7):
        frozen.advance(5)
        services.play_heartbeat(user=user, token=token_a, position_ms=5_000 * i)
        services.play_heartbeat(user=user, token=token_b, position_ms=30_000 + 5_000 * i)
    assert not selectors.play_completed(user=user, work=work)
    assert all(s.listened_ms <= 30_000 for s in PlaySession.objects.all())


def test_same_token_from_two_tabs_is_not_double_counted(frozen: FakeClock) -> None:
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _session, token = services.play_start(user=user, work=work)
    progress = None
    for i in range(1, 7):
        frozen.advance(5)
        # both tabs play the same part in step; the second report is a seek back and forth
        services.play_heartbeat(user=user, token=token, position_ms=5_000 * i)
        progress = services.play_heartbeat(user=user, token=token, position_ms=5_000 * i)
    assert progress is not None
    assert progress.listened_ms == 30_000


def test_backwards_heartbeat_credits_nothing(frozen: FakeClock) -> None:
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _session, token = services.play_start(user=user, work=work)
    listen(frozen, token, user, [(5, 5_000), (5, 10_000)])
    progress = listen(frozen, token, user, [(5, 2_000)])  # out of order / seek back
    assert progress is not None
    assert progress.listened_ms == 10_000


def test_expired_token_is_gone(frozen: FakeClock) -> None:
    work, user = audio_work(duration_ms=60_000), UserFactory()
    _session, token = services.play_start(user=user, work=work)
    frozen.advance(2 * 60 + 10 * 60 + 1)  # duration × 2 + 10 min
    with pytest.raises(PlayExpired) as exc:
        services.play_heartbeat(user=user, token=token, position_ms=5_000)
    assert exc.value.status == 410
    assert exc.value.code == "play_expired"


def test_someone_elses_token_is_not_found(frozen: FakeClock) -> None:
    work, owner, other = audio_work(), UserFactory(), UserFactory()
    _session, token = services.play_start(user=owner, work=work)
    frozen.advance(5)
    with pytest.raises(PlayNotFound) as exc:
        services.play_heartbeat(user=other, token=token, position_ms=5_000)
    assert (exc.value.status, exc.value.code) == (404, "play_not_found")
    with pytest.raises(PlayNotFound):
        services.play_heartbeat(user=owner, token="not-a-token", position_ms=5_000)


def test_token_is_stored_hashed(frozen: FakeClock) -> None:
    work, user = audio_work(), UserFactory()
    session, token = services.play_start(user=user, work=work)
    assert token not in session.token_hash
    assert not PlaySession.objects.filter(token_hash=token).exists()


def test_image_work_cannot_be_played(frozen: FakeClock) -> None:
    work = audio_work()
    work.kind = "image"
    work.duration_ms = 0
    work.save()
    with pytest.raises(WorkNotPlayable):
        services.play_start(user=UserFactory(), work=work)


def test_play_completed_is_per_user(frozen: FakeClock) -> None:
    work, listener, other = audio_work(duration_ms=10_000), UserFactory(), UserFactory()
    _session, token = services.play_start(user=listener, work=work)
    listen(frozen, token, listener, [(5, 5_000), (5, 10_000)])
    assert selectors.play_completed(user=listener, work=work)
    assert not selectors.play_completed(user=other, work=work)


# --- the pure rules ---------------------------------------------------------------------------


def test_coverage_merges_and_respects_budget() -> None:
    assert coverage_add([(0, 10)], 5, 20, budget=100) == [(0, 20)]
    assert coverage_add([(10, 20)], 0, 30, budget=15) == [(0, 25)]
    assert coverage_add([], 0, 10, budget=0) == []


heartbeats = st.lists(
    st.tuples(st.integers(0, 20_000), st.integers(-1_000, 200_000)), min_size=1, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(duration=st.integers(1, 180_000), steps=heartbeats)
def test_credit_never_exceeds_wall_clock_nor_duration(
    duration: int, steps: list[tuple[int, int]]
) -> None:
    state = PlayState(duration_ms=duration)
    at = 0
    for wait, position in steps:
        at += wait
        state = heartbeat_apply(state, at_ms=at, position_ms=position)
        assert state.listened_ms <= at
        assert state.listened_ms <= duration
        # coverage stays sorted, disjoint and inside the timeline
        flat = [x for interval in state.coverage for x in interval]
        assert flat == sorted(flat)
        assert all(0 <= s < e <= duration for s, e in state.coverage)
