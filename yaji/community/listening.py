"""Verified listening: how heartbeats of a player become credited listening time.

Pure functions over plain numbers (milliseconds), so the rules can be tested exhaustively
without a database. Times are milliseconds since the play token was issued.

The rules:

* What counts is **coverage**: the union of the parts of the timeline that were heard, kept as
  sorted, merged, half-open ``[start, end)`` intervals. Hearing the first half twice is 50 %.
* Between two heartbeats the player moved from the last position ``p0`` to ``p1`` while
  ``elapsed`` ms of wall-clock time passed. If ``0 < p1 - p0 <= elapsed + TOLERANCE_MS`` the
  progress is plausible and ``[p0, p1)`` is heard. A bigger advance is a seek (or a player running
  faster than real time): only ``[p0, p0 + elapsed)`` is credited — what real time allows —
  without the tolerance, so repeated seeks earn nothing extra. Going back credits nothing.
* Whatever the steps, the covered length never exceeds the wall-clock time since the token was
  issued (nor the duration): new coverage beyond that budget is cut off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Network jitter: a heartbeat may arrive a little early relative to the previous one.
TOLERANCE_MS = 2_000
COMPLETE_PERCENT = 95

Interval = tuple[int, int]


def coverage_length(coverage: Sequence[Interval]) -> int:
    return sum(end - start for start, end in coverage)


def coverage_add(
    coverage: Sequence[Interval], start: int, end: int, *, budget: int
) -> list[Interval]:
    """``coverage`` plus at most ``budget`` ms of the not-yet-covered parts of ``[start, end)``,
    taken from the left. Returns sorted, merged intervals."""
    pieces: list[Interval] = []
    cursor = start
    remaining = max(budget, 0)
    for c_start, c_end in sorted(coverage):
        if remaining <= 0 or cursor >= end:
            break
        if c_end <= cursor:
            continue
        gap_end = min(c_start, end)
        if gap_end > cursor:
            take = min(gap_end - cursor, remaining)
            pieces.append((cursor, cursor + take))
            remaining -= take
        cursor = max(cursor, c_end)
    if remaining > 0 and cursor < end:
        pieces.append((cursor, cursor + min(end - cursor, remaining)))
    return _merge([*coverage, *pieces])


def _merge(intervals: Sequence[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted((int(s), int(e)) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class PlayState:
    duration_ms: int
    last_at_ms: int = 0  # when the last heartbeat (or the token) arrived
    last_position_ms: int = 0  # where the player was then (playback starts at 0)
    max_position_ms: int = 0
    coverage: tuple[Interval, ...] = ()

    @property
    def listened_ms(self) -> int:
        return coverage_length(self.coverage)

    @property
    def coverage_pct(self) -> float:
        if self.duration_ms <= 0:
            return 0.0
        return round(min(100.0, self.listened_ms * 100 / self.duration_ms), 2)

    @property
    def complete(self) -> bool:
        return (
            self.duration_ms > 0 and self.listened_ms * 100 >= COMPLETE_PERCENT * self.duration_ms
        )


def heartbeat_apply(state: PlayState, *, at_ms: int, position_ms: int) -> PlayState:
    """The state after a heartbeat reporting ``position_ms`` arriving ``at_ms`` after issue."""
    position = min(max(position_ms, 0), state.duration_ms)
    at = max(at_ms, state.last_at_ms)  # a clock that steps back grants no time
    elapsed = at - state.last_at_ms
    advance = position - state.last_position_ms
    coverage = list(state.coverage)
    if advance > 0:
        start = state.last_position_ms
        end = position if advance <= elapsed + TOLERANCE_MS else start + elapsed
        budget = at - coverage_length(coverage)  # total never above wall-clock since issue
        coverage = coverage_add(coverage, start, min(end, state.duration_ms), budget=budget)
    return PlayState(
        duration_ms=state.duration_ms,
        last_at_ms=at,
        last_position_ms=position,
        max_position_ms=max(state.max_position_ms, position),
        coverage=tuple(coverage),
    )
