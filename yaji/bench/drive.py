"""Bounded concurrent drivers: ``concurrency`` clients, each with its own session (a keep-alive
HTTP connection to 127.0.0.1, or a psycopg connection), over a fixed list of work items.

Bounded twice: by the number of items and by a deadline after which no new item starts. The
threads are released together by a barrier; wall time runs from the release to the last
answer. Latency is measured per item around the request only (``perf_counter``).

HTTP has two clients with the same contract (ADR 0048). ``node`` (the default where Node.js is
installed): ``http_driver.js``, raw keep-alive sockets on one event loop, ~7,000 answers/s from
a bare WSGI app on this machine. ``python``: the standard library's ``http.client`` in threads
(ADR 0018), which tops out near 1,900/s against the same bare app — below the rates some hot
paths are asked to reach, and every request's client CPU is taken from the two cores the
server shares. Calls whose headers are signed at send time always use ``python``.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Literal, TypeVar

import psycopg

from yaji.bench.server import HOST

REQUEST_TIMEOUT_S = 60.0
# Transport failures worth one retry on a fresh connection (a keep-alive socket the server
# closed in between). Safe: every driven POST is idempotent (Idempotency-Key or provider event
# id), so a replay cannot move money twice — the checks afterwards would say so.
_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

S = TypeVar("S")

HttpClient = Literal["node", "python"]
HTTP_CLIENTS: tuple[str, ...] = ("auto", "node", "python")
NODE_DRIVER = Path(__file__).with_name("http_driver.js")
_http_client_choice = "auto"


def http_client_use(choice: str) -> None:
    """The bench command's ``--client``: ``auto`` (node if installed), ``node`` or ``python``."""
    global _http_client_choice
    if choice not in HTTP_CLIENTS:
        raise ValueError(f"unknown HTTP client {choice!r}")
    if choice == "node" and shutil.which("node") is None:
        raise RuntimeError("--client node needs Node.js (`node` on PATH)")
    _http_client_choice = choice


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
    client: str = ""  # which driver produced it: node, python, or sql

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
    client = _http_client_for(calls)
    if client == "node":
        return _drive_http_node(
            port=port, calls=calls, concurrency=concurrency, deadline_s=deadline_s, on_done=on_done
        )
    result = _Pool[http.client.HTTPConnection](
        count=len(calls),
        concurrency=concurrency,
        deadline_s=deadline_s,
        open_session=lambda: http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S),
        run_one=lambda connection, i: _http_send(connection, calls[i]),
        close_session=lambda connection: connection.close(),
        on_done=on_done,
    ).run()
    result.client = "python"
    return result


def _http_client_for(calls: Sequence[HttpCall]) -> HttpClient:
    if any(call.sign is not None for call in calls):
        return "python"  # a signature with a fresh timestamp is computed at send time
    if _http_client_choice == "python":
        return "python"
    if _http_client_choice == "node" or shutil.which("node") is not None:
        return "node"
    return "python"


def _drive_http_node(
    *,
    port: int,
    calls: Sequence[HttpCall],
    concurrency: int,
    deadline_s: float,
    on_done: Callable[[int], None],
) -> DriveResult:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the node HTTP client needs Node.js (`node` on PATH)")
    plan = {
        "port": port,
        "concurrency": concurrency,
        "deadline_s": deadline_s,
        "calls": [
            {
                "method": call.method,
                "path": call.path,
                "headers": call.headers,
                "body_b64": base64.b64encode(call.body).decode("ascii"),
            }
            for call in calls
        ],
    }
    process = subprocess.Popen(  # noqa: S603  # our own script, no shell
        [node, str(NODE_DRIVER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    errors: list[str] = []
    stderr = process.stderr

    def relay_progress() -> None:
        for line in stderr:
            text = line.decode("utf-8", "replace").strip()
            if text.startswith("+") and text[1:].isdigit():
                on_done(int(text[1:]))
            elif text:
                errors.append(text)

    relay = threading.Thread(target=relay_progress, name="bench-node-progress", daemon=True)
    relay.start()
    try:
        process.stdin.write(json.dumps(plan).encode("utf-8"))
        process.stdin.close()
        stdout = process.stdout.read()  # the relay thread reads stderr meanwhile
        process.wait()
    except BaseException:  # Ctrl-C included: never leave the client running
        process.kill()
        process.wait()
        raise
    relay.join(timeout=5)
    if process.returncode != 0:
        raise RuntimeError(f"the node HTTP client failed ({process.returncode}): {errors[-5:]}")
    data = json.loads(stdout)
    outcomes: list[Outcome | None] = [
        None
        if item is None
        else Outcome(
            status=int(item[0]),
            latency_s=float(item[1]),
            body=base64.b64decode(item[2]),
            error=str(item[3]),
        )
        for item in data["outcomes"]
    ]
    return DriveResult(
        outcomes=outcomes,
        wall_s=float(data["wall_s"]),
        timed_out=any(o is None for o in outcomes),
        client="node",
    )


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
    result = _Pool[psycopg.Connection](
        count=count,
        concurrency=concurrency,
        deadline_s=deadline_s,
        open_session=lambda: psycopg.connect(conninfo, autocommit=False),
        run_one=lambda connection, i: _sql_run(connection, transaction, i),
        close_session=lambda connection: connection.close(),
        on_done=on_done,
    ).run()
    result.client = "sql"
    return result
