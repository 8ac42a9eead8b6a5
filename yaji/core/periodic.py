"""Periodic jobs for the background worker: timers such as unpaid-order expiry.

Apps register a job from their ``AppConfig.ready``; every running worker calls it about every
``every_s`` seconds. Jobs must be safe to run twice and concurrently (several workers, a cron
job and a worker at once): they select due rows and change them with conditional updates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    every_s: float
    run: Callable[[], object]
    next_at: float = field(default=0.0)


_jobs: dict[str, PeriodicJob] = {}


def periodic_register(*, name: str, every_s: float, run: Callable[[], object]) -> None:
    """Register ``run`` under ``name`` (registering the same function again is a no-op)."""
    current = _jobs.get(name)
    if current is not None and current.run is not run:
        raise ValueError(f"periodic job {name!r} is already registered")
    if every_s <= 0:
        raise ValueError("every_s must be positive")
    _jobs[name] = PeriodicJob(name=name, every_s=every_s, run=run)


def periodic_jobs() -> list[PeriodicJob]:
    return list(_jobs.values())


def periodic_run_due(*, now: float | None = None) -> list[str]:
    """Run the jobs that are due (a failing job is logged and retried next time)."""
    now = time.monotonic() if now is None else now
    ran = []
    for job in list(_jobs.values()):
        if job.next_at > now:
            continue
        job.next_at = now + job.every_s
        try:
            job.run()
        except Exception:
            logger.exception("periodic job %s failed", job.name)
        ran.append(job.name)
    return ran
