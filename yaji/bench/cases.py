"""What a scenario hands the runner: named cases, each seeded just before it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from yaji.bench.drive import DriveResult, HttpCall
from yaji.bench.seeding import BenchUser

Advance = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class PreparedCase:
    calls: list[HttpCall]  # the measured HTTP requests, in order
    expected: frozenset[int]  # statuses that are a correct answer (others count as errors)
    ceiling_count: int
    # One raw-SQL transaction for item i on its own connection: commits (True) or refuses.
    ceiling_transaction: Callable[[psycopg.Connection, int], bool]
    # Broken invariants after both drives (scenario checks; reconciliation runs on top).
    check: Callable[[DriveResult, DriveResult], list[str]]
    # Scenario-specific measurements added to the JSON line (e.g. queries_per_order).
    extra: dict[str, object] = field(default_factory=dict)
    # An HTTP ceiling instead of the raw-SQL one (read paths: the same server's rate for a
    # trivial endpoint, driven the same way right after the measured calls).
    ceiling_calls: list[HttpCall] | None = None
    # Measurements read from the server's log after the drives (e.g. server-side latency).
    server_measure: Callable[[Path], dict[str, object]] | None = None
    # Unmeasured HTTP requests sent first, so every server worker has imported and set up what
    # the case needs (a cold worker's first request costs ~1 s and would be charged to the case
    # but not to the ceiling that runs after it).
    warm_calls: list[HttpCall] | None = None
    # Unmeasured work in this process (same database, same Redis and cache prefix as the
    # server) right before the measured calls, after the warm-up and the drain.
    warm_local: Callable[[], None] | None = None
    # Unmeasured but checked HTTP requests sent after the warm-up, before the measured calls
    # (sold-out's real grabs drain the packet, so only the "all taken" answers are timed);
    # ``drained`` is told their answers (the case's check looks at them).
    drain_calls: list[HttpCall] | None = None
    drained: Callable[[DriveResult], None] | None = None


@dataclass(frozen=True, slots=True)
class CasePlan:
    name: str
    users_needed: int
    seed_steps: int  # for the progress bar
    prepare: Callable[[list[BenchUser], str, Advance], PreparedCase]  # (users, run tag, advance)
