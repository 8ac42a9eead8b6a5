"""Release many threads at once against the real database and count what happened.

The PRODUCT.md invariants (no double claim, no oversell, no money created) are only proven by
real concurrent transactions, so tests using this run on PostgreSQL (`postgres_only`) with
``django_db(transaction=True)``; each thread has its own connection, closed when it ends.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections import Counter
from collections.abc import Callable

from django.db import connection

from yaji.core.errors import ApplicationError

# PostgreSQL allows 100 connections and the suite runs in two xdist workers at once (plus a
# bench test's server): every race in this process shares one budget of open connections.
# All threads are still released together; at most this many hold a transaction at a time.
RACE_CONNECTIONS = threading.BoundedSemaphore(
    int(os.environ.get("YAJI_TEST_RACE_CONNECTIONS", "30"))
)


def race(n: int, work: Callable[[int], object], *, timeout_s: float = 60) -> Counter[str]:
    """Run ``work(i)`` in ``n`` threads released together; count "ok" and each error code.

    An exception that is not an ``ApplicationError`` (a deadlock, a bug) is counted as
    ``"unexpected:<type>"`` and its first traceback kept in ``race.last_unexpected``, so a test
    comparing outcome counts fails with the cause in view instead of a silently missing thread.
    """
    barrier = threading.Barrier(n)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    race.last_unexpected = None  # type: ignore[attr-defined]

    def run(i: int) -> None:
        try:
            barrier.wait()
            with RACE_CONNECTIONS:
                try:
                    work(i)
                finally:
                    connection.close()
            outcome = "ok"
        except ApplicationError as exc:
            outcome = exc.code
        except Exception as exc:  # counted and reported below, never swallowed
            outcome = f"unexpected:{type(exc).__name__}"
            with lock:
                if race.last_unexpected is None:  # type: ignore[attr-defined]
                    race.last_unexpected = traceback.format_exc()  # type: ignore[attr-defined]
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError(f"race: threads still running after {timeout_s}s (deadlock?)")
    return outcomes
