"""Bounded concurrent drivers: ``concurrency`` threads, each with its own session (a keep-alive
HTTP connection to 127.0.0.1, or a psycopg connection), over a fixed list of work items.

Bounded twice: by the number of items and by a deadline after which no new item starts. The
threads are released together by a barrier; wall time runs from the release to the last
answer. Latency is measured per item around the request only (``perf_counter``).

The HTTP client is the standard library's ``http.client``: a persistent connection per thread,
no pooling logic, and the least client CPU per request of the usual choices — the client shares
the machine with the server it measures (ADR 0018).
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import psycopg

from yaji.bench.server import HOST

REQUEST_TIMEOUT_S = 60.0
# Transport failures worth one retry on a fresh connection (a keep-alive socket the server
# closed in between). Safe: every driven POST is idempotent (Idempotency-Key or provider event
# id), so a replay cannot move money twice — the checks afterwards would say so.
_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

S = TypeVar("S")


@dataclass(slots=True)
class Outcome:
    """What one item did. HTTP: the status (0 = no answer). SQL: 200 committed, 409 refused."""

    status: int
    latency_s: float
    body: bytes = b""
    error: str = ""


@dataclass(slots=True)
class DriveResult:
    outcomes: list[Outcome | None]  # index-aligned with the items; None: never started
    wall_s: float
    timed_out: bool

    @property
    def answered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o is not None]


@dataclass(frozen=True, slots=True)
class HttpCall:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Headers computed at send time (e.g. a provider signature with a fresh timestamp).
    sign: Callable[[bytes], dict[str, str]] | None = None


class _Pool(Generic[S]):
    def __init__(
        self,
        *,
        count: int,
        concurrency: int,
        deadline_s: float,
        open_session: Callable[[], S],
        run_one: Callable[[S, int], Outcome],
        close_session: Callable[[S], None],
        on_done: Callable[[int], None],
    ) -> None:
        self.count = count
        self.concurrency = max(1, min(concurrency, count)) if count else 1
        self.deadline_s = deadline_s
        self.open_session = open_session
        self.run_one = run_one
        self.close_session = close_session
        self.on_done = on_done
        self.outcomes: list[Outcome | None] = [None] * count
        self.next_index = 0
        self.lock = threading.Lock()
        # The action runs once, before anyone is released: every thread sees the start time.
        self.barrier = threading.Barrier(self.concurrency + 1, action=self._mark_start)
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.started_at = 0.0

    def _mark_start(self) -> None:
        self.started_at = time.perf_counter()

    def _take(self) -> int | None:
        if self.stop.is_set() or time.perf_counter() - self.started_at > self.deadline_s:
            return None
        with self.lock:
            if self.next_index >= self.count:
                return None
            index = self.next_index
            self.next_index += 1
            return index

    def _work(self) -> None:
        session: S | None = None
        try:
            session = self.open_session()
            self.barrier.wait()
            while (index := self._take()) is not None:
                self.outcomes[index] = self.run_one(session, index)
                self.on_done(1)
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # reported by the main thread
            self.failure = self.failure or exc
            self.stop.set()
            self.barrier.abort()
        finally:
            if session is not None:
                self.close_session(session)

    def run(self) -> DriveResult:
        threads = [
            threading.Thread(target=self._work, name=f"bench-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except KeyboardInterrupt:
            self.stop.set()  # in-flight items finish (bounded by their timeouts), none start
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT_S)
            raise
        wall = time.perf_counter() - self.started_at
        if self.failure is not None:
            raise self.failure
        return DriveResult(
            outcomes=self.outcomes,
            wall_s=wall,
            timed_out=any(o is None for o in self.outcomes),
        )


# --- HTTP -------------------------------------------------------------------------------------


def _http_send(connection: http.client.HTTPConnection, call: HttpCall) -> Outcome:
    headers = dict(call.headers)
    if call.sign is not None:
        headers.update(call.sign(call.body))
    started = time.perf_counter()
    for attempt in (1, 2):
        try:
            connection.request(call.method, call.path, body=call.body or None, headers=headers)
            response = connection.getresponse()
            body = response.read()
            return Outcome(response.status, time.perf_counter() - started, body)
        except _RETRYABLE as exc:
            connection.close()
            if attempt == 2:
                return Outcome(0, time.perf_counter() - started, error=type(exc).__name__)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            return Outcome(0, time.perf_counter() - started, error=type(exc).__name__)
    raise AssertionError("unreachable")  # pragma: no cover


def drive_http(
    *,
    port: int,
    calls: Sequence[HttpCall],
    concurrency: int,
    deadline_s: float,
    on_done: Callable[[int], None],
) -> DriveResult:
    return _Pool[http.client.HTTPConnection](
        count=len(calls),
        concurrency=concurrency,
        deadline_s=deadline_s,
        open_session=lambda: http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S),
        run_one=lambda connection, i: _http_send(connection, calls[i]),
        close_session=lambda connection: connection.close(),
        on_done=on_done,
    ).run()


# --- raw SQL (the ceiling) --------------------------------------------------------------------


def _sql_run(
    connection: psycopg.Connection, transaction: Callable[[psycopg.Connection, int], bool], i: int
) -> Outcome:
    started = time.perf_counter()
    try:
        committed = transaction(connection, i)
    except psycopg.Error as exc:
        connection.rollback()
        return Outcome(0, time.perf_counter() - started, error=type(exc).__name__)
    return Outcome(200 if committed else 409, time.perf_counter() - started)


def drive_sql(
    *,
    conninfo: str,
    count: int,
    transaction: Callable[[psycopg.Connection, int], bool],
    concurrency: int,
    deadline_s: float,
    on_done: Callable[[int], None],
) -> DriveResult:
    """Run ``transaction(connection, i)`` for each i; it commits (True) or rolls back (False)."""
    return _Pool[psycopg.Connection](
        count=count,
        concurrency=concurrency,
        deadline_s=deadline_s,
        open_session=lambda: psycopg.connect(conninfo, autocommit=False),
        run_one=lambda connection, i: _sql_run(connection, transaction, i),
        close_session=lambda connection: connection.close(),
        on_done=on_done,
    ).run()
